package v1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/servingsim/servingsim/stack/apis/duck"
)

// Revision is an immutable snapshot of code and configuration.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=rev,categories=all;knative;serving
// +kubebuilder:printcolumn:name="Config Name",type=string,JSONPath=".metadata.labels['serving\\.knative\\.dev/configuration']"
// +kubebuilder:printcolumn:name="Generation",type=string,JSONPath=".metadata.labels['serving\\.knative\\.dev/configurationGeneration']"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].reason"
// +kubebuilder:printcolumn:name="Actual Replicas",type=integer,JSONPath=".status.actualReplicas"
// +kubebuilder:printcolumn:name="Desired Replicas",type=integer,JSONPath=".status.desiredReplicas"
type Revision struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is schemaless in the CRD: the admission webhook decodes it strictly and reports
	// disallowed fields with Knative's messages.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	// +optional
	Spec RevisionSpec `json:"spec,omitempty"`
	// +optional
	Status RevisionStatus `json:"status,omitempty"`
}

// RevisionTemplateSpec is the template a Configuration stamps Revisions from.
type RevisionTemplateSpec struct {
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`
	// +optional
	Spec RevisionSpec `json:"spec,omitempty"`
}

// RevisionSpec is a PodSpec plus Knative's per-revision knobs.
type RevisionSpec struct {
	corev1.PodSpec `json:",inline"`

	// ContainerConcurrency is the hard limit of in-flight requests per pod; 0 means unlimited.
	// +optional
	ContainerConcurrency *int64 `json:"containerConcurrency,omitempty"`
	// TimeoutSeconds is the maximum duration of a request.
	// +optional
	TimeoutSeconds *int64 `json:"timeoutSeconds,omitempty"`
	// ResponseStartTimeoutSeconds bounds the time to the first response byte.
	// +optional
	ResponseStartTimeoutSeconds *int64 `json:"responseStartTimeoutSeconds,omitempty"`
	// IdleTimeoutSeconds bounds the time between response bytes.
	// +optional
	IdleTimeoutSeconds *int64 `json:"idleTimeoutSeconds,omitempty"`
}

// Revision condition types (knative-semantics.md §1.5).
const (
	RevisionConditionReady                                 = duck.ConditionReady
	RevisionConditionResourcesAvailable duck.ConditionType = "ResourcesAvailable"
	RevisionConditionContainerHealthy   duck.ConditionType = "ContainerHealthy"
	RevisionConditionActive             duck.ConditionType = "Active"
)

// RevisionConditions is the living set whose Ready gates on resources and container health;
// Active is informational only, so a Revision at zero stays Ready.
var RevisionConditions = duck.NewLivingConditionSet(RevisionConditionResourcesAvailable, RevisionConditionContainerHealthy)

// RevisionStatus is the observed state of a Revision.
type RevisionStatus struct {
	duck.Status `json:",inline"`

	// +optional
	LogURL string `json:"logUrl,omitempty"`
	// +optional
	ContainerStatuses []ContainerStatus `json:"containerStatuses,omitempty"`
	// +optional
	InitContainerStatuses []ContainerStatus `json:"initContainerStatuses,omitempty"`
	// ActualReplicas is the number of ready pods, copied from the PodAutoscaler.
	// +optional
	ActualReplicas *int32 `json:"actualReplicas,omitempty"`
	// DesiredReplicas is the autoscaler's wish, copied from the PodAutoscaler.
	// +optional
	DesiredReplicas *int32 `json:"desiredReplicas,omitempty"`
}

// ContainerStatus records a container's resolved image digest.
type ContainerStatus struct {
	Name string `json:"name,omitempty"`
	// +optional
	ImageDigest string `json:"imageDigest,omitempty"`
}

// RevisionList is a list of Revisions.
//
// +kubebuilder:object:root=true
type RevisionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Revision `json:"items"`
}
