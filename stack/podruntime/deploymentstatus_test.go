package podruntime

import (
	"math"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func testDeployment(replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "hello-00001-deployment", UID: "d1", Generation: 1},
		Spec: appsv1.DeploymentSpec{
			Replicas:                ptr.To(replicas),
			ProgressDeadlineSeconds: ptr.To(int32(10)),
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxUnavailable: ptr.To(intstr.FromInt32(0)), MaxSurge: ptr.To(intstr.FromString("25%"))}},
		},
	}
}

func hashed(hash string) podOpt {
	return func(p *corev1.Pod) { p.Labels = map[string]string{PodTemplateHashLabel: hash} }
}

func TestTemplateHashAndPodName(t *testing.T) {
	d := testDeployment(1)
	h := templateHash(&d.Spec.Template)
	if h == "" || strings.Trim(h, safeAlphanums) != "" {
		t.Fatalf("templateHash = %q, want safe alphanumerics", h)
	}
	d2 := d.DeepCopy()
	d2.Spec.Template.Labels = map[string]string{"x": "y"}
	if templateHash(&d2.Spec.Template) == h {
		t.Error("different templates hash equal")
	}
	if got := podName(d, h, "abcde"); got != "hello-00001-deployment-"+h+"-abcde" {
		t.Errorf("podName = %q", got)
	}
	long := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("x", 60)}}
	if got := podName(long, h, "abcde"); len(got) != 63 || !strings.HasSuffix(got, "abcde") {
		t.Errorf("podName of a long deployment = %q (%d chars), want the base cut to 58 + 5", got, len(got))
	}
}

func TestPlanRollout_ScaleUpAndDown(t *testing.T) {
	d := testDeployment(3)
	p := planRollout(rolloutInput{d: d, newPods: []*corev1.Pod{rankPod("a", 0, hashed("h"))}, now: t0})
	if p.create != 2 || len(p.delete) != 0 {
		t.Errorf("1 of 3: plan %+v, want create 2", p)
	}
	// Unobserved creates count: no double creation while the cache lags.
	p = planRollout(rolloutInput{d: d, newPods: []*corev1.Pod{rankPod("a", 0, hashed("h"))}, unobservedNew: 2, now: t0})
	if p.create != 0 || len(p.delete) != 0 {
		t.Errorf("1 of 3 plus 2 in flight: plan %+v, want nothing", p)
	}
	d.Spec.Replicas = ptr.To(int32(1))
	pods := []*corev1.Pod{
		rankPod("old-ready", 0, hashed("h"), readySince(time.Second)),
		rankPod("new-ready", 5*time.Second, hashed("h"), readySince(6*time.Second)),
		rankPod("notready", 1*time.Second, hashed("h")),
	}
	p = planRollout(rolloutInput{d: d, newPods: pods, now: t0.Add(time.Minute)})
	if p.create != 0 || len(p.delete) != 2 || p.delete[0].Name != "notready" || p.delete[1].Name != "new-ready" {
		t.Errorf("3 → 1: deletes %v, want [notready new-ready]", names(p.delete))
	}
	d.Spec.Replicas = ptr.To(int32(0))
	if p = planRollout(rolloutInput{d: d, newPods: pods, now: t0}); len(p.delete) != 3 {
		t.Errorf("3 → 0: deletes %v, want all", names(p.delete))
	}
}

func TestPlanRollout_RollingUpdateKeepsAvailability(t *testing.T) {
	d := testDeployment(2) // maxUnavailable 0, maxSurge 25% → 1
	old := []*corev1.Pod{rankPod("o1", 0, hashed("old"), readySince(0)), rankPod("o2", 0, hashed("old"), readySince(0))}
	p := planRollout(rolloutInput{d: d, oldPods: old, now: t0.Add(time.Minute)})
	if p.create != 1 || len(p.delete) != 0 {
		t.Fatalf("start of rollout: plan create %d delete %v, want create 1 (surge), delete none", p.create, names(p.delete))
	}
	// The new pod is not ready yet: no old pod may go.
	p = planRollout(rolloutInput{d: d, oldPods: old, newPods: []*corev1.Pod{rankPod("n1", 50*time.Second, hashed("new"))}, now: t0.Add(time.Minute)})
	if p.create != 0 || len(p.delete) != 0 {
		t.Fatalf("new pod unready: plan create %d delete %v, want nothing", p.create, names(p.delete))
	}
	// Once it is available, one old pod goes.
	p = planRollout(rolloutInput{d: d, oldPods: old, newPods: []*corev1.Pod{rankPod("n1", 50*time.Second, hashed("new"), readySince(55*time.Second))}, now: t0.Add(time.Minute)})
	if len(p.delete) != 1 || p.delete[0].Labels[PodTemplateHashLabel] != "old" {
		t.Fatalf("new pod available: deletes %v, want one old pod", names(p.delete))
	}
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	p = planRollout(rolloutInput{d: d, oldPods: old, now: t0})
	if p.create != 0 || len(p.delete) != 2 {
		t.Fatalf("recreate: plan create %d delete %v, want all old deleted first", p.create, names(p.delete))
	}
	if p = planRollout(rolloutInput{d: d, oldTerminating: true, now: t0}); p.create != 0 {
		t.Fatalf("recreate with old pods terminating: create %d, want 0", p.create)
	}
}

func progressing(st appsv1.DeploymentStatus) appsv1.DeploymentCondition {
	if c := getCondition(st, appsv1.DeploymentProgressing); c != nil {
		return *c
	}
	return appsv1.DeploymentCondition{}
}

func TestDeploymentStatus_CountsAndAvailable(t *testing.T) {
	d := testDeployment(3)
	pods := []*corev1.Pod{
		rankPod("a", 0, hashed("h"), readySince(time.Second)),
		rankPod("b", 0, hashed("h"), readySince(time.Second)),
		rankPod("c", 0, hashed("h")),
	}
	st, _ := deploymentStatus(statusInput{d: d, hash: "h", active: pods, terminating: 1, targets: 3, now: t0.Add(time.Minute)})
	if st.Replicas != 3 || st.UpdatedReplicas != 3 || st.ReadyReplicas != 2 || st.AvailableReplicas != 2 || st.UnavailableReplicas != 1 ||
		*st.TerminatingReplicas != 1 || st.ObservedGeneration != 1 {
		t.Errorf("status = %+v, want 3/3/2/2 unavailable 1 terminating 1 observedGeneration 1", st)
	}
	if c := getCondition(st, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionFalse || c.Reason != ReasonMinimumReplicasUnavailable {
		t.Errorf("Available = %+v, want False MinimumReplicasUnavailable (maxUnavailable 0)", c)
	}
	d.Spec.MinReadySeconds = 30
	d.Spec.ProgressDeadlineSeconds = ptr.To(int32(math.MaxInt32)) // no deadline: the only wake-up is availability
	st, next := deploymentStatus(statusInput{d: d, hash: "h", active: pods[:2], targets: 2, now: t0.Add(10 * time.Second)})
	if st.AvailableReplicas != 0 || st.ReadyReplicas != 2 || !next.Equal(t0.Add(31*time.Second)) {
		t.Errorf("minReadySeconds 30: available %d ready %d next %v, want 0, 2, wake at +31s", st.AvailableReplicas, st.ReadyReplicas, next.Sub(t0))
	}
}

func TestDeploymentStatus_ProgressDeadlineExceeded(t *testing.T) {
	d := testDeployment(1)
	notReady := []*corev1.Pod{rankPod("a", 0, hashed("h"))}
	st, next := deploymentStatus(statusInput{d: d, hash: "h", active: nil, targets: 1, now: t0})
	if c := progressing(st); c.Status != corev1.ConditionTrue || c.Reason != ReasonNewReplicaSetCreated ||
		!strings.Contains(c.Message, `"hello-00001-deployment-h"`) {
		t.Fatalf("first sync: Progressing = %+v, want True NewReplicaSetCreated", c)
	}
	if !next.Equal(t0.Add(10*time.Second + time.Millisecond)) {
		t.Errorf("first sync: next = %v, want just past the 10s deadline", next.Sub(t0))
	}
	d.Status = st
	st, _ = deploymentStatus(statusInput{d: d, hash: "h", active: notReady, targets: 1, now: t0.Add(2 * time.Second)})
	if c := progressing(st); c.Reason != ReasonReplicaSetUpdated || !c.LastUpdateTime.Time.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("pod created: Progressing = %+v, want ReplicaSetUpdated at +2s", c)
	}
	d.Status = st
	st, _ = deploymentStatus(statusInput{d: d, hash: "h", active: notReady, targets: 1, now: t0.Add(11 * time.Second)})
	if c := progressing(st); c.Status != corev1.ConditionTrue {
		t.Fatalf("+11s (9s after last progress): Progressing = %+v, want still True", c)
	}
	st, next = deploymentStatus(statusInput{d: d, hash: "h", active: notReady, targets: 1, now: t0.Add(13 * time.Second)})
	c := progressing(st)
	if c.Status != corev1.ConditionFalse || c.Reason != ReasonProgressDeadlineExceeded || c.Message != `ReplicaSet "hello-00001-deployment-h" has timed out progressing.` {
		t.Fatalf("+13s: Progressing = %+v, want False ProgressDeadlineExceeded", c)
	}
	if !next.IsZero() {
		t.Errorf("timed out: next = %v, want none", next)
	}
}

func TestDeploymentStatus_Complete(t *testing.T) {
	d := testDeployment(1)
	ready := []*corev1.Pod{rankPod("a", 0, hashed("h"), readySince(time.Second))}
	st, next := deploymentStatus(statusInput{d: d, hash: "h", active: ready, targets: 1, now: t0.Add(2 * time.Second)})
	if c := progressing(st); c.Status != corev1.ConditionTrue || c.Reason != ReasonNewReplicaSetAvailable {
		t.Fatalf("Progressing = %+v, want NewReplicaSetAvailable", c)
	}
	if c := getCondition(st, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionTrue {
		t.Errorf("Available = %+v, want True", c)
	}
	if !next.IsZero() {
		t.Errorf("complete: next = %v, want none", next)
	}
	// A later scale-up of a complete deployment does not restart the deadline (not a rollout).
	d.Status = st
	d.Spec.Replicas = ptr.To(int32(3))
	st, _ = deploymentStatus(statusInput{d: d, hash: "h", active: ready, targets: 3, now: t0.Add(time.Hour)})
	if c := progressing(st); c.Reason != ReasonNewReplicaSetAvailable {
		t.Errorf("after scale-up: Progressing = %+v, want unchanged NewReplicaSetAvailable", c)
	}
	// A new template is a new rollout.
	st, _ = deploymentStatus(statusInput{d: d, hash: "h2", active: ready, targets: 3, now: t0.Add(time.Hour)})
	if c := progressing(st); c.Reason != ReasonNewReplicaSetCreated {
		t.Errorf("new template: Progressing = %+v, want NewReplicaSetCreated", c)
	}
}
