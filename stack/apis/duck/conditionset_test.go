package duck

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var set = NewLivingConditionSet("A", "B")

func readyOf(s *Status) corev1.ConditionStatus { return s.GetCondition(ConditionReady).Status }

func TestLivingConditionSet_ReadyOnlyWhenAllDependentsTrue(t *testing.T) { // §1.7
	s := &Status{}
	m := set.Manage(s, metav1.Now())
	m.InitializeConditions()
	if got := readyOf(s); got != corev1.ConditionUnknown {
		t.Fatalf("Ready after init = %s, want Unknown", got)
	}
	m.MarkTrue("A")
	if got := readyOf(s); got != corev1.ConditionUnknown {
		t.Errorf("Ready with A True, B Unknown = %s, want Unknown", got)
	}
	m.MarkTrue("B")
	if got := readyOf(s); got != corev1.ConditionTrue {
		t.Errorf("Ready with A, B True = %s, want True", got)
	}
}

func TestLivingConditionSet_FalseOutranksUnknown(t *testing.T) { // §1.7
	s := &Status{}
	m := set.Manage(s, metav1.Now())
	m.InitializeConditions()
	m.MarkFalse("A", "Broken", "a broke")
	if c := s.GetCondition(ConditionReady); c.Status != corev1.ConditionFalse || c.Reason != "Broken" {
		t.Fatalf("Ready after MarkFalse(A) = %s/%s, want False/Broken", c.Status, c.Reason)
	}
	m.MarkUnknown("B", "Waiting", "")
	if got := readyOf(s); got != corev1.ConditionFalse {
		t.Errorf("Ready after MarkUnknown(B) with A False = %s, want False", got)
	}
}

func TestLastTransitionTimeChangesOnlyOnChange(t *testing.T) { // §1.7
	s := &Status{}
	t0 := metav1.NewTime(time.Unix(1000, 0))
	set.Manage(s, t0).MarkTrue("A")
	t1 := metav1.NewTime(time.Unix(2000, 0))
	set.Manage(s, t1).MarkTrue("A")
	if got := s.GetCondition("A").LastTransitionTime; !got.Equal(&t0) {
		t.Errorf("lastTransitionTime after a no-op MarkTrue = %v, want %v", got, t0)
	}
	set.Manage(s, t1).MarkFalse("A", "R", "m")
	if got := s.GetCondition("A").LastTransitionTime; !got.Equal(&t1) {
		t.Errorf("lastTransitionTime after True→False = %v, want %v", got, t1)
	}
}

func TestInfoConditionsNeverGateReady(t *testing.T) { // §1.5: Revision Active is informational
	s := &Status{}
	m := set.Manage(s, metav1.Now())
	m.MarkTrue("A")
	m.MarkTrue("B")
	m.SetInfo("Active", corev1.ConditionFalse, "NoTraffic", "")
	if got := readyOf(s); got != corev1.ConditionTrue {
		t.Errorf("Ready with Active=False (info) = %s, want True", got)
	}
	if got := s.GetCondition("Active").Severity; got != ConditionSeverityInfo {
		t.Errorf("Active severity = %q, want Info", got)
	}
}
