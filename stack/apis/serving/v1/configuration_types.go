package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/servingsim/servingsim/stack/apis/duck"
)

// Configuration stamps out a new Revision each time its template changes.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=config;cfg,categories=all;knative;serving
// +kubebuilder:printcolumn:name="LatestCreated",type=string,JSONPath=".status.latestCreatedRevisionName"
// +kubebuilder:printcolumn:name="LatestReady",type=string,JSONPath=".status.latestReadyRevisionName"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].reason"
type Configuration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	// +optional
	Spec ConfigurationSpec `json:"spec,omitempty"`
	// +optional
	Status ConfigurationStatus `json:"status,omitempty"`
}

// ConfigurationSpec holds the Revision template.
type ConfigurationSpec struct {
	// +optional
	Template RevisionTemplateSpec `json:"template"`
}

// ConfigurationStatusFields are shared by Configuration and Service status.
type ConfigurationStatusFields struct {
	// +optional
	LatestReadyRevisionName string `json:"latestReadyRevisionName,omitempty"`
	// +optional
	LatestCreatedRevisionName string `json:"latestCreatedRevisionName,omitempty"`
}

// ConfigurationStatus is the observed state of a Configuration; its only condition is Ready.
type ConfigurationStatus struct {
	duck.Status               `json:",inline"`
	ConfigurationStatusFields `json:",inline"`
}

// ConfigurationConditions has no dependents: the reconciler sets Ready directly.
var ConfigurationConditions = duck.NewLivingConditionSet()

// ConfigurationList is a list of Configurations.
//
// +kubebuilder:object:root=true
type ConfigurationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Configuration `json:"items"`
}
