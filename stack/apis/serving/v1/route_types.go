package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/servingsim/servingsim/stack/apis/duck"
)

// Route maps a network endpoint to one or more Revisions.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=rt,categories=all;knative;serving
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=".status.url"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].reason"
type Route struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	// +optional
	Spec RouteSpec `json:"spec,omitempty"`
	// +optional
	Status RouteStatus `json:"status,omitempty"`
}

// TrafficTarget routes a percentage of traffic (or a tag) to a Revision or Configuration.
type TrafficTarget struct {
	// +optional
	Tag string `json:"tag,omitempty"`
	// +optional
	RevisionName string `json:"revisionName,omitempty"`
	// +optional
	ConfigurationName string `json:"configurationName,omitempty"`
	// LatestRevision follows the Configuration's latest ready Revision when true.
	// +optional
	LatestRevision *bool `json:"latestRevision,omitempty"`
	// +optional
	Percent *int64 `json:"percent,omitempty"`
	// URL is status-only: the tag's address.
	// +optional
	URL string `json:"url,omitempty"`
}

// RouteSpec is the desired traffic assignment.
type RouteSpec struct {
	// +optional
	Traffic []TrafficTarget `json:"traffic,omitempty"`
}

// Route condition types (knative-semantics.md §1.6).
const (
	RouteConditionReady                                     = duck.ConditionReady
	RouteConditionAllTrafficAssigned     duck.ConditionType = "AllTrafficAssigned"
	RouteConditionIngressReady           duck.ConditionType = "IngressReady"
	RouteConditionCertificateProvisioned duck.ConditionType = "CertificateProvisioned"
)

// RouteConditions is the living set of a Route.
var RouteConditions = duck.NewLivingConditionSet(RouteConditionAllTrafficAssigned, RouteConditionIngressReady, RouteConditionCertificateProvisioned)

// RouteStatusFields are shared by Route and Service status.
type RouteStatusFields struct {
	// +optional
	URL string `json:"url,omitempty"`
	// +optional
	Address *duck.Addressable `json:"address,omitempty"`
	// +optional
	Traffic []TrafficTarget `json:"traffic,omitempty"`
}

// RouteStatus is the observed state of a Route.
type RouteStatus struct {
	duck.Status       `json:",inline"`
	RouteStatusFields `json:",inline"`
}

// RouteList is a list of Routes.
//
// +kubebuilder:object:root=true
type RouteList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Route `json:"items"`
}
