package podruntime

import (
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// podTimes are the instants ranking compares: when the pod was created and since when it has
// been Ready (zero: not ready). The runtime supplies precise ones from the kubelet's memory;
// metadataTimes reads the (second-precision) API fields.
type podTimes func(*corev1.Pod) (created, readySince time.Time)

func metadataTimes(p *corev1.Pod) (time.Time, time.Time) {
	var ready time.Time
	if c := findCondition(p.Status.Conditions, corev1.PodReady); c != nil && c.Status == corev1.ConditionTrue {
		ready = c.LastTransitionTime.Time
	}
	return p.CreationTimestamp.Time, ready
}

func isPodReady(p *corev1.Pod) bool {
	c := findCondition(p.Status.Conditions, corev1.PodReady)
	return c != nil && c.Status == corev1.ConditionTrue
}

func maxRestarts(p *corev1.Pod) int32 {
	var m int32
	for _, cs := range p.Status.ContainerStatuses {
		m = max(m, cs.RestartCount)
	}
	return m
}

var phaseOrdinal = map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}

// sortForScaleDown orders pods the way the ReplicaSet controller picks scale-down victims
// (pkg/controller/controller_utils.go ActivePods), first victim first:
//  1. unscheduled before scheduled;
//  2. Pending before Unknown before Running;
//  3. not ready before ready;
//  4. ready for less time before ready for longer;
//  5. more container restarts before fewer;
//  6. newer before older;
//  7. then by name, for determinism.
//
// Simplified: with a single node the co-location rank is the same for all pods, and times are
// compared exactly (LogarithmicScaleDown's log2 buckets with a random UID tie-break are not
// modelled, so the order is deterministic).
func sortForScaleDown(pods []*corev1.Pod, times podTimes) {
	if times == nil {
		times = metadataTimes
	}
	type key struct {
		created, ready time.Time
	}
	keys := make(map[*corev1.Pod]key, len(pods))
	for _, p := range pods {
		c, r := times(p)
		keys[p] = key{c, r}
	}
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		if (a.Spec.NodeName == "") != (b.Spec.NodeName == "") {
			return a.Spec.NodeName == ""
		}
		if oa, ob := phaseOrdinal[a.Status.Phase], phaseOrdinal[b.Status.Phase]; oa != ob {
			return oa < ob
		}
		ra, rb := isPodReady(a), isPodReady(b)
		if ra != rb {
			return !ra
		}
		ka, kb := keys[a], keys[b]
		if ra && rb && !ka.ready.Equal(kb.ready) {
			return afterOrZero(ka.ready, kb.ready)
		}
		if xa, xb := maxRestarts(a), maxRestarts(b); xa != xb {
			return xa > xb
		}
		if !ka.created.Equal(kb.created) {
			return afterOrZero(ka.created, kb.created)
		}
		return a.Name < b.Name
	})
}

// afterOrZero reports whether t1 is zero or after t2 (zero first, then newest first).
func afterOrZero(t1, t2 time.Time) bool {
	if t1.IsZero() || t2.IsZero() {
		return t1.IsZero()
	}
	return t1.After(t2)
}
