package duck

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ConditionType names a condition, e.g. "Ready" or "RoutesReady".
type ConditionType string

// ConditionReady is the top-level condition every resource reports.
const ConditionReady ConditionType = "Ready"

// ConditionSeverity marks a condition as informational ("Info") or blocking ("" = Error).
type ConditionSeverity string

const (
	// ConditionSeverityError is the default: the condition gates Ready.
	ConditionSeverityError ConditionSeverity = ""
	// ConditionSeverityInfo marks a condition that never gates Ready (e.g. Revision Active).
	ConditionSeverityInfo ConditionSeverity = "Info"
)

// Condition is one entry of status.conditions, shaped as Knative's apis.Condition.
type Condition struct {
	Type ConditionType `json:"type"`
	// Status is True, False or Unknown.
	Status corev1.ConditionStatus `json:"status"`
	// +optional
	Severity ConditionSeverity `json:"severity,omitempty"`
	// LastTransitionTime changes only when Status, Reason or Message change.
	// +optional
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`
	// +optional
	Reason string `json:"reason,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
}

// IsTrue reports whether the condition is present and True.
func (c *Condition) IsTrue() bool { return c != nil && c.Status == corev1.ConditionTrue }

// IsFalse reports whether the condition is present and False.
func (c *Condition) IsFalse() bool { return c != nil && c.Status == corev1.ConditionFalse }

// IsUnknown reports whether the condition is missing or Unknown.
func (c *Condition) IsUnknown() bool { return c == nil || c.Status == corev1.ConditionUnknown }

// Status is the block every Knative resource's status embeds.
type Status struct {
	// ObservedGeneration is the generation the controller last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	Conditions []Condition `json:"conditions,omitempty"`
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// GetCondition returns the condition of type t, or nil.
func (s *Status) GetCondition(t ConditionType) *Condition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			return &s.Conditions[i]
		}
	}
	return nil
}

// Addressable is Knative's status.address.
type Addressable struct {
	// +optional
	Name *string `json:"name,omitempty"`
	// +optional
	URL string `json:"url,omitempty"`
}
