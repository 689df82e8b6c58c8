package scenarios

import (
	"context"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/servingsim/servingsim/harness"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/app"
	"github.com/servingsim/servingsim/stack/podruntime"
)

// pinnedService is a Knative Service held at one pod (min = max scale 1) with extra template
// annotations.
func pinnedService(name string, annotations map[string]any) map[string]any {
	ann := map[string]any{"autoscaling.knative.dev/min-scale": "1", "autoscaling.knative.dev/max-scale": "1"}
	for k, v := range annotations {
		ann[k] = v
	}
	return map[string]any{"apiVersion": "serving.knative.dev/v1", "kind": "Service", "metadata": map[string]any{"name": name},
		"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{"annotations": ann},
			"spec": map[string]any{"containers": []any{map[string]any{"image": "ghcr.io/knative/helloworld-go:latest"}}}}}}
}

// TestRun_LiveFailPodAndSetApp runs failPod and setApp in live mode on one stack, each against
// its own single-pod service:
//   - failPod: the user container exits (§1.5: what the revision reconciler reads from the pod),
//     the requests inside it fail and are counted, the pod goes not-ready and is ready again
//     after the restart delay with restartCount 1;
//   - setApp: requests after the change see the new service time and error rate, the ones
//     before it the old model.
func TestRun_LiveFailPodAndSetApp(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real API server")
	}
	const failAt, changeAt, length = 2 * time.Second, 2 * time.Second, 5 * time.Second
	s, err := New("live-fail-and-set-app").
		WithService(pinnedService("crash", map[string]any{app.ServiceTimeKey: "400ms", podruntime.RestartDelayAnnotation: "500ms"})).
		WithService(pinnedService("model", nil)).
		Constant("crash", 20, length).
		Constant("model", 20, length).
		At(failAt, &FailPod{Service: "crash", ExitCode: 137}).
		At(changeAt, &SetApp{Service: "model", ServiceTime: "200ms", ErrorRate: ptrTo(Fraction(1))}).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	var crashPods []corev1.Pod
	run, err := Run(context.Background(), s, RunOptions{Inspect: func(ctx context.Context, st *harness.Stack, ns string) {
		list := &corev1.PodList{}
		if err := st.Client.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{serving.ServiceLabelKey: "crash"}); err != nil {
			t.Error(err)
		}
		crashPods = list.Items
	}})
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	if run.Accounting.Unaccounted != 0 {
		t.Errorf("accounting = %+v, want every request accounted for", run.Accounting)
	}

	t.Run("failPod", func(t *testing.T) {
		if len(crashPods) != 1 {
			t.Fatalf("crash has %d pods at the end, want the 1 that was failed and restarted", len(crashPods))
		}
		pod := crashPods[0]
		if !podReady(&pod) {
			t.Errorf("pod %s is not Ready at the end, want Ready again after the restart", pod.Name)
		}
		var user *corev1.ContainerStatus
		for i := range pod.Status.ContainerStatuses {
			if cs := &pod.Status.ContainerStatuses[i]; cs.Name == serving.UserContainerDefaultName {
				user = cs
			}
		}
		if user == nil || user.RestartCount != 1 || user.LastTerminationState.Terminated == nil ||
			user.LastTerminationState.Terminated.ExitCode != 137 || user.State.Running == nil {
			t.Errorf("user container status %+v, want running with restartCount 1 after an exit with 137", user)
		}
		// Ready, then ready again after the exit: it was not-ready in between.
		var readyAt []time.Duration
		for _, e := range run.Events {
			if e.Kind == "pod" && e.Subject == pod.Name && e.Message == "ready ("+pod.Labels[serving.RevisionLabelKey]+")" {
				readyAt = append(readyAt, e.Time)
			}
		}
		if len(readyAt) != 2 || readyAt[1] < failAt {
			t.Errorf("pod became ready at %v, want twice: at the start and after the exit at %s", readyAt, failAt)
		}
		var failed, okAfter int
		for _, q := range run.Requests {
			if q.Stream != s.StreamName(0) {
				continue
			}
			switch {
			case q.Result.Code != http.StatusOK:
				failed++
			case q.Result.Timestamp.Sub(run.Started) > failAt+2*time.Second:
				okAfter++
			}
		}
		if failed == 0 || okAfter == 0 {
			t.Errorf("crash: %d failed requests, %d answered 200 after the restart; want some of each", failed, okAfter)
		}
	})

	t.Run("setApp", func(t *testing.T) {
		var before, after, wrongBefore, wrongAfter int
		for _, q := range run.Requests {
			if q.Stream != s.StreamName(1) {
				continue
			}
			sent := q.Result.Timestamp.Sub(run.Started)
			switch {
			case sent < changeAt-200*time.Millisecond:
				before++
				if q.Result.Code != http.StatusOK || q.Result.Latency >= 200*time.Millisecond {
					wrongBefore++
				}
			case sent > changeAt+200*time.Millisecond:
				after++
				if q.Result.Code != http.StatusInternalServerError || q.Result.Latency < 200*time.Millisecond {
					wrongAfter++
				}
			}
		}
		if before == 0 || after == 0 || wrongBefore > 0 || wrongAfter > 0 {
			t.Errorf("model: %d of %d requests before the change not a fast 200, %d of %d after it not a 500 after ≥200ms",
				wrongBefore, before, wrongAfter, after)
		}
	})
	if t.Failed() {
		t.Logf("events: %+v", run.Events)
	}
}
