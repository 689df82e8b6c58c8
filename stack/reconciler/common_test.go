package reconciler

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/servingsim/servingsim/stack/apis/duck"
)

func TestSettleTransitionTimesKeepsUnchangedConditions(t *testing.T) {
	t0, t1 := metav1.NewTime(time.Unix(100, 0)), metav1.NewTime(time.Unix(200, 0))
	before := &duck.Status{Conditions: []duck.Condition{
		{Type: "Ready", Status: corev1.ConditionTrue, LastTransitionTime: t0},
		{Type: "A", Status: corev1.ConditionTrue, LastTransitionTime: t0},
	}}
	after := before.DeepCopy()
	// Within one reconcile Ready went Unknown then True again: not a transition.
	after.Conditions[0].LastTransitionTime = t1
	// A really changed.
	after.Conditions[1].Status, after.Conditions[1].LastTransitionTime = corev1.ConditionFalse, t1
	SettleTransitionTimes(before, after)
	if got := after.GetCondition("Ready").LastTransitionTime; !got.Equal(&t0) {
		t.Errorf("Ready lastTransitionTime = %v, want the original %v", got, t0)
	}
	if got := after.GetCondition("A").LastTransitionTime; !got.Equal(&t1) {
		t.Errorf("A lastTransitionTime = %v, want the new %v", got, t1)
	}
}

func TestPreReconcileMarksNewGeneration(t *testing.T) { // §1.7
	s := &duck.Status{ObservedGeneration: 1}
	m := duck.NewLivingConditionSet("A").Manage(s, metav1.Now())
	PreReconcile(m, s, 2)
	if c := s.GetCondition(duck.ConditionReady); c.Status != corev1.ConditionUnknown || c.Reason != ReasonNewObservedGenFailure {
		t.Errorf("Ready = %s/%s, want Unknown/%s", c.Status, c.Reason, ReasonNewObservedGenFailure)
	}
	PostReconcile(s, 2)
	if s.ObservedGeneration != 2 {
		t.Errorf("observedGeneration = %d, want 2", s.ObservedGeneration)
	}
}
