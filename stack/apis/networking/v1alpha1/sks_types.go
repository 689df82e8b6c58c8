package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/servingsim/servingsim/stack/apis/duck"
)

// ServerlessServiceOperationMode says where a revision's public endpoints point.
type ServerlessServiceOperationMode string

// Modes (knative-semantics.md §3.5–3.6).
const (
	// SKSOperationModeServe points the public endpoints at the revision's pods.
	SKSOperationModeServe ServerlessServiceOperationMode = "Serve"
	// SKSOperationModeProxy points the public endpoints at activators.
	SKSOperationModeProxy ServerlessServiceOperationMode = "Proxy"
)

// ServerlessService owns a revision's private and public K8s Services.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=sks,categories=all;knative-internal;networking
// +kubebuilder:printcolumn:name="Mode",type=string,JSONPath=".spec.mode"
// +kubebuilder:printcolumn:name="Activators",type=integer,JSONPath=".spec.numActivators"
// +kubebuilder:printcolumn:name="ServiceName",type=string,JSONPath=".status.serviceName"
// +kubebuilder:printcolumn:name="PrivateServiceName",type=string,JSONPath=".status.privateServiceName"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].reason"
type ServerlessService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	// +optional
	Spec ServerlessServiceSpec `json:"spec,omitempty"`
	// +optional
	Status ServerlessServiceStatus `json:"status,omitempty"`
}

// ServerlessServiceSpec names the scaled object and the desired mode.
type ServerlessServiceSpec struct {
	Mode      ServerlessServiceOperationMode `json:"mode"`
	ObjectRef corev1.ObjectReference         `json:"objectRef"`
	// ProtocolType is http1 or h2c.
	ProtocolType string `json:"protocolType"`
	// NumActivators is how many activators back the revision in Proxy mode.
	// +optional
	NumActivators int32 `json:"numActivators,omitempty"`
}

// SKS condition types.
const (
	ServerlessServiceConditionReady                                          = duck.ConditionReady
	ServerlessServiceConditionEndpointsPopulated          duck.ConditionType = "EndpointsPopulated"
	ServerlessServiceConditionActivatorEndpointsPopulated duck.ConditionType = "ActivatorEndpointsPopulated"
)

// ServerlessServiceConditions: Ready follows EndpointsPopulated; ActivatorEndpointsPopulated is
// informational and its transition time drives ProxyFor().
var ServerlessServiceConditions = duck.NewLivingConditionSet(ServerlessServiceConditionEndpointsPopulated)

// ServerlessServiceStatus is the observed state of a ServerlessService.
type ServerlessServiceStatus struct {
	duck.Status `json:",inline"`
	// +optional
	ServiceName string `json:"serviceName,omitempty"`
	// +optional
	PrivateServiceName string `json:"privateServiceName,omitempty"`
}

// ServerlessServiceList is a list of ServerlessServices.
//
// +kubebuilder:object:root=true
type ServerlessServiceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ServerlessService `json:"items"`
}
