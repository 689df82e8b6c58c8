package podruntime

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/rng"
)

// A user container that exits (FailContainer, a scenario's failPod) shows terminated with its
// exit code and the pod not Ready until the restart; then it runs again with restartCount 1 and
// the exit as lastState, and the pod is Ready once the sandbox signals readiness again
// (knative-semantics.md §1.5: what the revision reconciler reads).
func TestBuildPodStatus_UserContainerExitAndRestart(t *testing.T) {
	r := &statusRun{t: t, pod: knativePod(), plan: Plan{Restart: 2 * time.Second, Startup: time.Second},
		tl: timeline{bound: t0, sandboxStarted: true, sandboxReady: t0}}
	if st, _ := r.at(5 * time.Second); cond(st, corev1.PodReady).Status != corev1.ConditionTrue {
		t.Fatalf("before the exit: Ready = %s, want True", cond(st, corev1.PodReady).Status)
	}

	exited := t0.Add(10 * time.Second)
	r.tl.restarts = []containerRestart{{exited: exited, exitCode: 137, restartAt: exited.Add(r.plan.Restart)}}
	r.tl.sandboxReady = time.Time{}
	st, next := r.at(10 * time.Second)
	user := cstatus(st, serving.UserContainerDefaultName)
	if term := user.State.Terminated; term == nil || term.ExitCode != 137 || term.Reason != ReasonError || !term.FinishedAt.Time.Equal(exited) {
		t.Errorf("after the exit: user container state %+v, want terminated with 137 at the exit", user.State)
	}
	if user.RestartCount != 0 || user.Ready {
		t.Errorf("after the exit: restartCount %d ready %t, want 0 and false", user.RestartCount, user.Ready)
	}
	if c := cond(st, corev1.PodReady); c.Status != corev1.ConditionFalse || !c.LastTransitionTime.Time.Equal(exited) {
		t.Errorf("after the exit: Ready = %s since %v, want False since the exit", c.Status, c.LastTransitionTime.Sub(t0))
	}
	if st.Phase != corev1.PodRunning {
		t.Errorf("after the exit: phase %s, want Running", st.Phase)
	}
	if !next.Equal(exited.Add(2 * time.Second)) {
		t.Errorf("after the exit: next = %v, want the restart at +12s", next.Sub(t0))
	}

	st, _ = r.at(12 * time.Second)
	user = cstatus(st, serving.UserContainerDefaultName)
	if run := user.State.Running; run == nil || !run.StartedAt.Time.Equal(exited.Add(2*time.Second)) {
		t.Errorf("after the restart: user container state %+v, want running since +12s", user.State)
	}
	if last := user.LastTerminationState.Terminated; user.RestartCount != 1 || last == nil || last.ExitCode != 137 {
		t.Errorf("after the restart: restartCount %d lastState %+v, want 1 and the 137 exit", user.RestartCount, user.LastTerminationState)
	}
	if c := cond(st, corev1.PodReady); c.Status != corev1.ConditionFalse {
		t.Errorf("after the restart, before the sandbox is ready: Ready = %s, want False", c.Status)
	}

	r.tl.sandboxReady = t0.Add(12500 * time.Millisecond)
	if st, _ := r.at(12600 * time.Millisecond); cond(st, corev1.PodReady).Status != corev1.ConditionFalse {
		t.Errorf("sandbox ready but within the startup delay: Ready = %s, want False", cond(st, corev1.PodReady).Status)
	}
	st, _ = r.at(13 * time.Second)
	if c := cond(st, corev1.PodReady); c.Status != corev1.ConditionTrue || !c.LastTransitionTime.Time.Equal(t0.Add(13*time.Second)) {
		t.Errorf("after startup: Ready = %s since %v, want True since +13s", c.Status, c.LastTransitionTime.Sub(t0))
	}
}

// The restart delay defaults to the drawn container-start delay, like virtual mode's restart;
// the restart-delay annotation overrides it.
func TestDrawPlan_RestartDelay(t *testing.T) {
	model := StartupModel{ContainerStart: Const(3 * time.Second)}
	pod := knativePod()
	p, err := drawPlan(rng.New(1), pod, model, Faults{})
	if err != nil || p.Restart != 3*time.Second {
		t.Errorf("restart delay = %s (%v), want the container start 3s", p.Restart, err)
	}
	pod.Annotations = map[string]string{RestartDelayAnnotation: "500ms"}
	if p, err := drawPlan(rng.New(1), pod, model, Faults{}); err != nil || p.Restart != 500*time.Millisecond {
		t.Errorf("restart delay with the annotation = %s (%v), want 500ms", p.Restart, err)
	}
}
