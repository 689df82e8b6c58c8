package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/servingsim/servingsim/stack/apis/duck"
)

// ReachabilityType says whether a Revision is referenced by a route.
type ReachabilityType string

// Reachability values (knative-semantics.md §1.2).
const (
	ReachabilityUnknown     ReachabilityType = ""
	ReachabilityReachable   ReachabilityType = "Reachable"
	ReachabilityUnreachable ReachabilityType = "Unreachable"
)

// ProtocolType is the wire protocol of the user container.
type ProtocolType string

// Protocols.
const (
	ProtocolHTTP1 ProtocolType = "http1"
	ProtocolH2C   ProtocolType = "h2c"
)

// PodAutoscaler scales one Revision's Deployment.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=kpa;pa,categories=all;knative-internal;autoscaling
// +kubebuilder:printcolumn:name="DesiredScale",type=integer,JSONPath=".status.desiredScale"
// +kubebuilder:printcolumn:name="ActualScale",type=integer,JSONPath=".status.actualScale"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].reason"
type PodAutoscaler struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	// +optional
	Spec PodAutoscalerSpec `json:"spec,omitempty"`
	// +optional
	Status PodAutoscalerStatus `json:"status,omitempty"`
}

// PodAutoscalerSpec is what the Revision reconciler asks for.
type PodAutoscalerSpec struct {
	// +optional
	ContainerConcurrency int64 `json:"containerConcurrency,omitempty"`
	// ScaleTargetRef is the Deployment to scale.
	ScaleTargetRef corev1.ObjectReference `json:"scaleTargetRef"`
	// +optional
	Reachability ReachabilityType `json:"reachability,omitempty"`
	ProtocolType ProtocolType     `json:"protocolType"`
}

// PodAutoscaler condition types (knative-semantics.md §3.5).
const (
	PodAutoscalerConditionReady                                     = duck.ConditionReady
	PodAutoscalerConditionActive                 duck.ConditionType = "Active"
	PodAutoscalerConditionScaleTargetInitialized duck.ConditionType = "ScaleTargetInitialized"
	PodAutoscalerConditionSKSReady               duck.ConditionType = "SKSReady"
)

// PodAutoscalerConditions is the living set of a PodAutoscaler.
var PodAutoscalerConditions = duck.NewLivingConditionSet(PodAutoscalerConditionActive, PodAutoscalerConditionScaleTargetInitialized, PodAutoscalerConditionSKSReady)

// PodAutoscalerStatus is the observed state of a PodAutoscaler.
type PodAutoscalerStatus struct {
	duck.Status `json:",inline"`
	// ServiceName is the public K8s Service of the revision (the SKS's).
	// +optional
	ServiceName string `json:"serviceName,omitempty"`
	// MetricsServiceName is the private Service the autoscaler scrapes.
	// +optional
	MetricsServiceName string `json:"metricsServiceName,omitempty"`
	// +optional
	DesiredScale *int32 `json:"desiredScale,omitempty"`
	// +optional
	ActualScale *int32 `json:"actualScale,omitempty"`
}

// PodAutoscalerList is a list of PodAutoscalers.
//
// +kubebuilder:object:root=true
type PodAutoscalerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PodAutoscaler `json:"items"`
}

// Metric tells the metric collector what to collect for a revision and over which windows.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=all;knative-internal;autoscaling
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].reason"
type Metric struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	// +optional
	Spec MetricSpec `json:"spec,omitempty"`
	// +optional
	Status duck.Status `json:"status,omitempty"`
}

// MetricSpec holds the collection windows and the scrape target (empty when TBC=-1).
type MetricSpec struct {
	StableWindow metav1.Duration `json:"stableWindow"`
	PanicWindow  metav1.Duration `json:"panicWindow"`
	// +optional
	ScrapeTarget string `json:"scrapeTarget,omitempty"`
}

// MetricList is a list of Metrics.
//
// +kubebuilder:object:root=true
type MetricList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Metric `json:"items"`
}
