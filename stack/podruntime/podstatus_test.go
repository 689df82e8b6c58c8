package podruntime

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/servingsim/servingsim/stack/apis/serving"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// knativePod is shaped like a Revision's pod: a user container without a readiness probe (Knative
// removes it) and a queue-proxy with one (knative-semantics.md §1.5, §5).
func knativePod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "hello-00001-deployment-abc-xyz12", UID: "u1", Generation: 1},
		Spec: corev1.PodSpec{NodeName: DefaultNodeName, Containers: []corev1.Container{
			{Name: serving.UserContainerDefaultName, Image: "example.com/hello:v1",
				Ports: []corev1.ContainerPort{{Name: serving.UserPortName, ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}},
			{Name: serving.QueueContainerName, Image: "example.com/queue:v1",
				Ports:          []corev1.ContainerPort{{Name: serving.QueuePortName, ContainerPort: serving.QueueHTTPPort, Protocol: corev1.ProtocolTCP}},
				ReadinessProbe: &corev1.Probe{}},
		}},
	}
}

func cond(st corev1.PodStatus, t corev1.PodConditionType) corev1.PodCondition {
	if c := findCondition(st.Conditions, t); c != nil {
		return *c
	}
	return corev1.PodCondition{}
}

func cstatus(st corev1.PodStatus, name string) corev1.ContainerStatus {
	for _, cs := range st.ContainerStatuses {
		if cs.Name == name {
			return cs
		}
	}
	return corev1.ContainerStatus{}
}

// at builds the status at t0+d and feeds it back as the pod's current status, like successive
// kubelet syncs.
type statusRun struct {
	t    *testing.T
	pod  *corev1.Pod
	plan Plan
	tl   timeline
}

func (r *statusRun) at(d time.Duration) (corev1.PodStatus, time.Time) {
	st, next := buildPodStatus(r.pod, r.plan, r.tl, "127.10.0.7", NodeIP.String(), t0.Add(d))
	r.pod.Status = st
	return st, next
}

func TestBuildPodStatus_HealthyPhases(t *testing.T) {
	r := &statusRun{t: t, pod: knativePod(), plan: Plan{ImagePull: time.Second, ContainerStart: time.Second, Startup: 2 * time.Second}, tl: timeline{bound: t0}}

	st, next := r.at(0)
	if st.Phase != corev1.PodPending || st.PodIP != "127.10.0.7" || st.HostIP != "127.0.0.1" || len(st.PodIPs) != 1 || st.PodIPs[0].IP != st.PodIP {
		t.Fatalf("at bind: phase %s podIP %q hostIP %q, want Pending with IPs", st.Phase, st.PodIP, st.HostIP)
	}
	if w := cstatus(st, serving.UserContainerDefaultName).State.Waiting; w == nil || w.Reason != ReasonContainerCreating {
		t.Errorf("at bind: user container state %+v, want waiting ContainerCreating", w)
	}
	if c := cond(st, corev1.PodInitialized); c.Status != corev1.ConditionTrue {
		t.Errorf("at bind: Initialized = %s, want True", c.Status)
	}
	if c := cond(st, corev1.PodScheduled); c.Status != corev1.ConditionTrue {
		t.Errorf("at bind: PodScheduled = %s, want True", c.Status)
	}
	if !next.Equal(t0.Add(time.Second)) {
		t.Errorf("at bind: next = %v, want pull done at +1s", next.Sub(t0))
	}

	st, next = r.at(2 * time.Second) // running, sandbox not started yet
	if st.Phase != corev1.PodRunning {
		t.Errorf("at +2s: phase %s, want Running", st.Phase)
	}
	user, queue := cstatus(st, serving.UserContainerDefaultName), cstatus(st, serving.QueueContainerName)
	if user.State.Running == nil || !user.Ready || !*user.Started || user.ContainerID == "" || user.ImageID == "" {
		t.Errorf("at +2s: user container %+v, want running and ready (no probe)", user)
	}
	if queue.State.Running == nil || queue.Ready {
		t.Errorf("at +2s: queue-proxy %+v, want running, not ready (its probe waits for the app)", queue)
	}
	if c := cond(st, corev1.PodReady); c.Status != corev1.ConditionFalse || c.Reason != ReasonContainersNotReady ||
		c.Message != "containers with unready status: [queue-proxy]" {
		t.Errorf("at +2s: Ready = %+v, want False ContainersNotReady [queue-proxy]", c)
	}
	if !next.IsZero() {
		t.Errorf("at +2s: next = %v, want none until the sandbox signals", next)
	}

	r.tl.sandboxStarted, r.tl.sandboxReady = true, t0.Add(2*time.Second)
	st, next = r.at(3 * time.Second)
	if cond(st, corev1.PodReady).Status != corev1.ConditionFalse || !next.Equal(t0.Add(4*time.Second)) {
		t.Errorf("at +3s: Ready %s next %v, want False until the startup delay ends at +4s", cond(st, corev1.PodReady).Status, next.Sub(t0))
	}
	st, next = r.at(4 * time.Second)
	ready := cond(st, corev1.PodReady)
	if ready.Status != corev1.ConditionTrue || cond(st, corev1.ContainersReady).Status != corev1.ConditionTrue || !ready.LastTransitionTime.Time.Equal(t0.Add(4*time.Second)) {
		t.Errorf("at +4s: Ready = %+v, want True since +4s", ready)
	}
	if !cstatus(st, serving.QueueContainerName).Ready || !next.IsZero() {
		t.Errorf("at +4s: queue-proxy not ready or next %v set", next)
	}
	// A later sync keeps the transition time.
	st, _ = r.at(time.Minute)
	if got := cond(st, corev1.PodReady).LastTransitionTime.Time; !got.Equal(t0.Add(4 * time.Second)) {
		t.Errorf("at +1m: Ready lastTransitionTime = %v, want unchanged +4s", got.Sub(t0))
	}
}

func TestBuildPodStatus_ReadyWaitsForSandbox(t *testing.T) {
	r := &statusRun{t: t, pod: knativePod(), plan: Plan{Startup: time.Second}, tl: timeline{bound: t0, sandboxStarted: true}}
	if st, _ := r.at(5 * time.Second); cond(st, corev1.PodReady).Status != corev1.ConditionFalse {
		t.Fatal("pod Ready before the sandbox's ready signal")
	}
	r.tl.sandboxReady = t0.Add(6 * time.Second)
	if st, _ := r.at(6 * time.Second); cond(st, corev1.PodReady).Status != corev1.ConditionTrue {
		t.Fatal("pod not Ready once model and sandbox both are")
	}
}

func TestBuildPodStatus_NeverReady(t *testing.T) {
	r := &statusRun{t: t, pod: knativePod(), plan: Plan{Faults: Faults{NeverReady: true}}, tl: timeline{bound: t0, sandboxStarted: true, sandboxReady: t0}}
	st, next := r.at(time.Hour)
	if st.Phase != corev1.PodRunning || cond(st, corev1.PodReady).Status != corev1.ConditionFalse || cstatus(st, serving.QueueContainerName).Ready {
		t.Errorf("never-ready after 1h: phase %s Ready %s, want Running and not Ready", st.Phase, cond(st, corev1.PodReady).Status)
	}
	if cstatus(st, serving.UserContainerDefaultName).State.Running == nil || !next.IsZero() {
		t.Errorf("never-ready: user container not running or next %v set", next)
	}
}

// §1.5: the Revision reconciler reads lastState.terminated.exitCode of the user container.
func TestBuildPodStatus_Crash_ExitCodeAndCrashLoopBackOff_Spec1_5(t *testing.T) {
	r := &statusRun{t: t, pod: knativePod(), plan: Plan{Faults: Faults{Crash: true, CrashExitCode: 2, CrashMessage: "panic: boom"}}, tl: timeline{bound: t0}}
	st, next := r.at(0)
	user := cstatus(st, serving.UserContainerDefaultName)
	term := user.LastTerminationState.Terminated
	if term == nil || term.ExitCode != 2 || term.Reason != ReasonError || term.Message != "panic: boom" {
		t.Fatalf("after the crash: lastState.terminated = %+v, want exit code 2, Error, message", term)
	}
	if w := user.State.Waiting; w == nil || w.Reason != ReasonCrashLoopBackOff || !strings.Contains(w.Message, "back-off 10s restarting failed container=user-container") {
		t.Errorf("after the crash: state %+v, want waiting CrashLoopBackOff back-off 10s", user.State)
	}
	if user.RestartCount != 1 || user.Ready {
		t.Errorf("after the crash: restartCount %d ready %v, want 1 (first restart is immediate), false", user.RestartCount, user.Ready)
	}
	if st.Phase != corev1.PodRunning || cond(st, corev1.PodReady).Status != corev1.ConditionFalse {
		t.Errorf("crash-looping pod: phase %s Ready %s, want Running, False", st.Phase, cond(st, corev1.PodReady).Status)
	}
	if !next.Equal(t0.Add(10 * time.Second)) {
		t.Errorf("next = %v, want the restart at +10s", next.Sub(t0))
	}
	st, next = r.at(10 * time.Second)
	user = cstatus(st, serving.UserContainerDefaultName)
	if user.RestartCount != 2 || !next.Equal(t0.Add(30*time.Second)) || !strings.Contains(user.State.Waiting.Message, "back-off 20s") {
		t.Errorf("at +10s: restartCount %d next %v state %+v, want 2, +30s, back-off 20s", user.RestartCount, next.Sub(t0), user.State)
	}
	if st, _ = r.at(30 * time.Second); cstatus(st, serving.UserContainerDefaultName).RestartCount != 3 {
		t.Errorf("at +30s: restartCount %d, want 3", cstatus(st, serving.UserContainerDefaultName).RestartCount)
	}
}

func TestBuildPodStatus_CrashAfterRunsFirst(t *testing.T) {
	r := &statusRun{t: t, pod: knativePod(), plan: Plan{CrashAfter: 5 * time.Second, Faults: Faults{Crash: true, CrashExitCode: 1}}, tl: timeline{bound: t0}}
	st, next := r.at(time.Second)
	user := cstatus(st, serving.UserContainerDefaultName)
	if user.State.Running == nil || user.RestartCount != 0 || user.LastTerminationState.Terminated != nil || !next.Equal(t0.Add(5*time.Second)) {
		t.Fatalf("at +1s: %+v next %v, want running, no restarts yet, crash at +5s", user, next.Sub(t0))
	}
	st, _ = r.at(7 * time.Second) // crashed at +5s, restarted at once, running again
	user = cstatus(st, serving.UserContainerDefaultName)
	if user.State.Running == nil || user.RestartCount != 1 || user.LastTerminationState.Terminated == nil || user.LastTerminationState.Terminated.ExitCode != 1 {
		t.Errorf("at +7s: %+v, want running after 1 restart with lastState exit code 1", user)
	}
}

func TestBuildPodStatus_ImagePullError(t *testing.T) {
	r := &statusRun{t: t, pod: knativePod(), plan: Plan{ImagePull: 2 * time.Second, Faults: Faults{ImagePullError: true}}, tl: timeline{bound: t0}}
	st, _ := r.at(time.Second)
	if w := cstatus(st, serving.UserContainerDefaultName).State.Waiting; w == nil || w.Reason != ReasonContainerCreating {
		t.Errorf("while pulling: %+v, want ContainerCreating", w)
	}
	st, _ = r.at(2 * time.Second)
	w := cstatus(st, serving.UserContainerDefaultName).State.Waiting
	if w == nil || w.Reason != ReasonErrImagePull || !strings.Contains(w.Message, `"example.com/hello:v1"`) {
		t.Errorf("after the failed ImagePull: %+v, want ErrImagePull naming the image", w)
	}
	st, next := r.at(4 * time.Second)
	if w := cstatus(st, serving.UserContainerDefaultName).State.Waiting; w == nil || w.Reason != ReasonImagePullBackOff {
		t.Errorf("during back-off: %+v, want ImagePullBackOff", w)
	}
	if !next.Equal(t0.Add(14 * time.Second)) { // failed at +2s, 10s back-off, 2s pull
		t.Errorf("next = %v, want the next failure at +14s", next.Sub(t0))
	}
	if st.Phase != corev1.PodPending || cond(st, corev1.PodReady).Status != corev1.ConditionFalse {
		t.Errorf("phase %s Ready %s, want Pending, False", st.Phase, cond(st, corev1.PodReady).Status)
	}
	if q := cstatus(st, serving.QueueContainerName); q.State.Running == nil || q.Ready {
		t.Errorf("queue-proxy %+v, want running and not ready", q)
	}
}

// §1.5: an Unschedulable first pod makes ResourcesAvailable False with the scheduler's reason.
func TestUnschedulableStatus_PodScheduledFalse_Spec1_5(t *testing.T) {
	pod := knativePod()
	pod.Spec.NodeName = ""
	st := unschedulableStatus(pod, DefaultUnschedulableMessage, t0)
	c := cond(st, corev1.PodScheduled)
	if c.Status != corev1.ConditionFalse || c.Reason != "Unschedulable" || c.Message != DefaultUnschedulableMessage || st.Phase != corev1.PodPending {
		t.Errorf("unschedulable: %+v phase %s, want PodScheduled False Unschedulable, Pending", c, st.Phase)
	}
	if !strings.HasPrefix(c.Message, "0/1 nodes are available") || len(st.ContainerStatuses) != 0 {
		t.Errorf("message %q / %d container statuses, want the scheduler's wording and none", c.Message, len(st.ContainerStatuses))
	}
	pod.Status = st
	again := unschedulableStatus(pod, DefaultUnschedulableMessage, t0.Add(time.Minute))
	if !cond(again, corev1.PodScheduled).LastTransitionTime.Time.Equal(c.LastTransitionTime.Time) || len(again.Conditions) != 1 {
		t.Errorf("re-reporting moved the condition: %+v", again.Conditions)
	}
}

func TestBuildPodStatus_Termination(t *testing.T) {
	r := &statusRun{t: t, pod: knativePod(), tl: timeline{bound: t0, sandboxStarted: true, sandboxReady: t0}}
	if st, _ := r.at(time.Second); cond(st, corev1.PodReady).Status != corev1.ConditionTrue {
		t.Fatal("pod not ready before deletion")
	}
	r.tl.deleting = t0.Add(10 * time.Second)
	st, _ := r.at(10 * time.Second)
	if cond(st, corev1.PodReady).Status != corev1.ConditionFalse || st.Phase != corev1.PodRunning {
		t.Errorf("draining: Ready %s phase %s, want False, Running", cond(st, corev1.PodReady).Status, st.Phase)
	}
	for _, cs := range st.ContainerStatuses {
		if cs.Ready || cs.State.Running == nil {
			t.Errorf("draining: container %s ready %v running %v, want running, not ready", cs.Name, cs.Ready, cs.State.Running != nil)
		}
	}
	r.tl.finished = t0.Add(12 * time.Second)
	st, next := r.at(12 * time.Second)
	if st.Phase != corev1.PodSucceeded || !next.IsZero() || cond(st, corev1.PodReady).Reason != ReasonPodCompleted {
		t.Errorf("finished: phase %s Ready %+v, want Succeeded, PodCompleted", st.Phase, cond(st, corev1.PodReady))
	}
	for _, cs := range st.ContainerStatuses {
		if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0 || cs.State.Terminated.Reason != ReasonCompleted {
			t.Errorf("finished: container %s state %+v, want terminated 0 Completed", cs.Name, cs.State)
		}
	}
	r.pod = knativePod()
	r.tl = timeline{bound: t0, sandboxStarted: true, sandboxReady: t0, deleting: t0, finished: t0.Add(30 * time.Second), killed: true}
	st, _ = r.at(30 * time.Second)
	if st.Phase != corev1.PodFailed || cstatus(st, serving.UserContainerDefaultName).State.Terminated.ExitCode != killExitCode {
		t.Errorf("killed at the grace period: phase %s, want Failed with exit code 137", st.Phase)
	}
}
