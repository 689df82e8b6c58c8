package duck

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ConditionSet is a "living" condition set: a happy condition (Ready) that is True exactly when
// every dependent is True, False as soon as one dependent is False, and Unknown otherwise
// (knative-semantics.md §1.7).
type ConditionSet struct {
	Happy      ConditionType
	Dependents []ConditionType
}

// NewLivingConditionSet returns the set with Ready as its happy condition.
func NewLivingConditionSet(dependents ...ConditionType) ConditionSet {
	return ConditionSet{Happy: ConditionReady, Dependents: dependents}
}

// Manage returns a manager that edits status s at time now.
func (cs ConditionSet) Manage(s *Status, now metav1.Time) ConditionManager {
	return ConditionManager{set: cs, status: s, now: now}
}

// ConditionManager applies the condition-set rules to one Status.
type ConditionManager struct {
	set    ConditionSet
	status *Status
	now    metav1.Time
}

// InitializeConditions adds every missing condition of the set as Unknown.
func (m ConditionManager) InitializeConditions() {
	happy := m.status.GetCondition(m.set.Happy)
	if happy == nil {
		m.setCondition(Condition{Type: m.set.Happy, Status: corev1.ConditionUnknown})
		happy = m.status.GetCondition(m.set.Happy)
	}
	// A dependent starts from the happy condition's state when Ready is already True,
	// so adding a new dependent to a Ready object does not flip it.
	for _, t := range m.set.Dependents {
		if m.status.GetCondition(t) != nil {
			continue
		}
		st := corev1.ConditionUnknown
		if happy.Status == corev1.ConditionTrue {
			st = corev1.ConditionTrue
		}
		m.setCondition(Condition{Type: t, Status: st})
	}
}

// GetCondition returns the condition of type t, or nil.
func (m ConditionManager) GetCondition(t ConditionType) *Condition { return m.status.GetCondition(t) }

// IsHappy reports whether the happy condition is True.
func (m ConditionManager) IsHappy() bool { return m.status.GetCondition(m.set.Happy).IsTrue() }

// MarkTrue sets t True; the happy condition becomes True when every dependent is True.
func (m ConditionManager) MarkTrue(t ConditionType) {
	m.MarkTrueWithReason(t, "", "")
}

// MarkTrueWithReason sets t True with a reason and message.
func (m ConditionManager) MarkTrueWithReason(t ConditionType, reason, message string) {
	m.setCondition(Condition{Type: t, Status: corev1.ConditionTrue, Severity: m.severity(t), Reason: reason, Message: message})
	if t == m.set.Happy {
		return
	}
	for _, d := range m.set.Dependents {
		if !m.status.GetCondition(d).IsTrue() {
			return
		}
	}
	m.setCondition(Condition{Type: m.set.Happy, Status: corev1.ConditionTrue})
}

// MarkFalse sets t False; a dependent being False makes the happy condition False too.
func (m ConditionManager) MarkFalse(t ConditionType, reason, message string) {
	m.setCondition(Condition{Type: t, Status: corev1.ConditionFalse, Severity: m.severity(t), Reason: reason, Message: message})
	if m.isDependent(t) {
		m.setCondition(Condition{Type: m.set.Happy, Status: corev1.ConditionFalse, Reason: reason, Message: message})
	}
}

// MarkUnknown sets t Unknown; the happy condition becomes Unknown unless another dependent is
// already False (a failure outranks progress).
func (m ConditionManager) MarkUnknown(t ConditionType, reason, message string) {
	m.setCondition(Condition{Type: t, Status: corev1.ConditionUnknown, Severity: m.severity(t), Reason: reason, Message: message})
	if !m.isDependent(t) {
		return
	}
	for _, d := range m.set.Dependents {
		if d != t && m.status.GetCondition(d).IsFalse() {
			return
		}
	}
	m.setCondition(Condition{Type: m.set.Happy, Status: corev1.ConditionUnknown, Reason: reason, Message: message})
}

// SetInfo records an informational condition that never changes the happy condition.
func (m ConditionManager) SetInfo(t ConditionType, status corev1.ConditionStatus, reason, message string) {
	m.setCondition(Condition{Type: t, Status: status, Severity: ConditionSeverityInfo, Reason: reason, Message: message})
}

func (m ConditionManager) isDependent(t ConditionType) bool {
	return slices.Contains(m.set.Dependents, t)
}

func (m ConditionManager) severity(t ConditionType) ConditionSeverity {
	if t == m.set.Happy || m.isDependent(t) {
		return ConditionSeverityError
	}
	return ConditionSeverityInfo
}

// setCondition replaces the condition of c's type, keeping lastTransitionTime when nothing but
// the time would change, and keeps the list sorted by type for stable output.
func (m ConditionManager) setCondition(c Condition) {
	if old := m.status.GetCondition(c.Type); old != nil {
		if old.Status == c.Status && old.Reason == c.Reason && old.Message == c.Message && old.Severity == c.Severity {
			return
		}
		c.LastTransitionTime = m.now
		*old = c
	} else {
		c.LastTransitionTime = m.now
		m.status.Conditions = append(m.status.Conditions, c)
	}
	slices.SortFunc(m.status.Conditions, func(a, b Condition) int {
		switch {
		case a.Type < b.Type:
			return -1
		case a.Type > b.Type:
			return 1
		}
		return 0
	})
}
