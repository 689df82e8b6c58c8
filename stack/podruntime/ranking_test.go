package podruntime

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type podOpt func(*corev1.Pod)

func rankPod(name string, created time.Duration, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(t0.Add(created))},
		Spec:       corev1.PodSpec{NodeName: DefaultNodeName},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func readySince(d time.Duration) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(t0.Add(d))})
	}
}

func unscheduled(p *corev1.Pod) { p.Spec.NodeName = ""; p.Status.Phase = corev1.PodPending }
func pending(p *corev1.Pod)     { p.Status.Phase = corev1.PodPending }
func restarts(n int32) podOpt {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", RestartCount: n}}
	}
}

func names(pods []*corev1.Pod) []string {
	out := make([]string, len(pods))
	for i, p := range pods {
		out[i] = p.Name
	}
	return out
}

// The ReplicaSet controller's victim order (controller.ActivePods): not-ready before ready,
// newest first.
func TestSortForScaleDown_ReplicaSetOrder(t *testing.T) {
	pods := []*corev1.Pod{
		rankPod("ready-old", 0, readySince(10*time.Second)),
		rankPod("ready-recent", 1*time.Second, readySince(50*time.Second)),
		rankPod("notready-old", 2*time.Second),
		rankPod("notready-new", 30*time.Second),
		rankPod("pending", 3*time.Second, pending),
		rankPod("unscheduled", 1*time.Second, unscheduled),
		rankPod("notready-restarting", 1*time.Second, restarts(4)),
		rankPod("ready-same-time-restarting", 5*time.Second, readySince(10*time.Second), restarts(2)),
	}
	sortForScaleDown(pods, nil)
	want := []string{
		"unscheduled",                // 1. unassigned first
		"pending",                    // 2. Pending before Running
		"notready-restarting",        // 3. not ready; 5. more restarts first
		"notready-new",               // 6. newest first
		"notready-old",               //
		"ready-recent",               // 4. ready for the shortest time
		"ready-same-time-restarting", // same ready time: more restarts first
		"ready-old",
	}
	got := names(pods)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("sortForScaleDown = %v, want %v", got, want)
		}
	}
}

func TestSortForScaleDown_PreciseTimesAndDeterministicTies(t *testing.T) {
	// Same second in the API, but the kubelet's memory knows b is newer.
	a, b, c := rankPod("a", 0), rankPod("b", 0), rankPod("c", 0)
	precise := map[string]time.Duration{"a": 100 * time.Millisecond, "b": 900 * time.Millisecond, "c": 100 * time.Millisecond}
	pods := []*corev1.Pod{a, c, b}
	sortForScaleDown(pods, func(p *corev1.Pod) (time.Time, time.Time) { return t0.Add(precise[p.Name]), time.Time{} })
	if got := names(pods); got[0] != "b" || got[1] != "a" || got[2] != "c" {
		t.Errorf("sortForScaleDown = %v, want [b a c] (newest, then name order for ties)", got)
	}
}
