package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/servingsim/servingsim/stack/apis/duck"
)

// Ingress (KIngress) is the route's request to the networking layer.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=kingress;king,categories=all;knative-internal;networking
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].reason"
type Ingress struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	// +optional
	Spec IngressSpec `json:"spec,omitempty"`
	// +optional
	Status IngressStatus `json:"status,omitempty"`
}

// IngressVisibility is ExternalIP or ClusterLocal.
type IngressVisibility string

// Visibilities.
const (
	IngressVisibilityExternalIP   IngressVisibility = "ExternalIP"
	IngressVisibilityClusterLocal IngressVisibility = "ClusterLocal"
)

// HTTPOption is Enabled or Redirected.
type HTTPOption string

// HTTP options.
const (
	HTTPOptionEnabled    HTTPOption = "Enabled"
	HTTPOptionRedirected HTTPOption = "Redirected"
)

// IngressSpec lists host rules.
type IngressSpec struct {
	// +optional
	TLS []IngressTLS `json:"tls,omitempty"`
	// +optional
	Rules []IngressRule `json:"rules,omitempty"`
	// +optional
	HTTPOption HTTPOption `json:"httpOption,omitempty"`
}

// IngressTLS names a certificate secret for hosts.
type IngressTLS struct {
	// +optional
	Hosts []string `json:"hosts,omitempty"`
	// +optional
	SecretName string `json:"secretName,omitempty"`
	// +optional
	SecretNamespace string `json:"secretNamespace,omitempty"`
}

// IngressRule routes a set of hosts.
type IngressRule struct {
	// +optional
	Hosts []string `json:"hosts,omitempty"`
	// +optional
	Visibility IngressVisibility     `json:"visibility,omitempty"`
	HTTP       *HTTPIngressRuleValue `json:"http,omitempty"`
}

// HTTPIngressRuleValue holds the paths of a rule.
type HTTPIngressRuleValue struct {
	Paths []HTTPIngressPath `json:"paths"`
}

// HeaderMatch matches a header value exactly.
type HeaderMatch struct {
	Exact string `json:"exact"`
}

// HTTPIngressPath is one weighted set of backends, optionally matched on headers.
type HTTPIngressPath struct {
	// +optional
	Path string `json:"path,omitempty"`
	// +optional
	Headers map[string]HeaderMatch `json:"headers,omitempty"`
	// +optional
	RewriteHost string `json:"rewriteHost,omitempty"`
	// +optional
	AppendHeaders map[string]string     `json:"appendHeaders,omitempty"`
	Splits        []IngressBackendSplit `json:"splits"`
}

// IngressBackendSplit sends a percentage of a path's traffic to one K8s Service.
type IngressBackendSplit struct {
	ServiceNamespace string             `json:"serviceNamespace"`
	ServiceName      string             `json:"serviceName"`
	ServicePort      intstr.IntOrString `json:"servicePort"`
	// +optional
	Percent int `json:"percent,omitempty"`
	// +optional
	AppendHeaders map[string]string `json:"appendHeaders,omitempty"`
}

// Ingress condition types.
const (
	IngressConditionReady                                = duck.ConditionReady
	IngressConditionNetworkConfigured duck.ConditionType = "NetworkConfigured"
	IngressConditionLoadBalancerReady duck.ConditionType = "LoadBalancerReady"
)

// IngressConditions is the living set of an Ingress.
var IngressConditions = duck.NewLivingConditionSet(IngressConditionNetworkConfigured, IngressConditionLoadBalancerReady)

// IngressStatus is the observed state of an Ingress.
type IngressStatus struct {
	duck.Status `json:",inline"`
	// +optional
	PublicLoadBalancer *LoadBalancerStatus `json:"publicLoadBalancer,omitempty"`
	// +optional
	PrivateLoadBalancer *LoadBalancerStatus `json:"privateLoadBalancer,omitempty"`
}

// LoadBalancerStatus lists where the ingress can be reached.
type LoadBalancerStatus struct {
	// +optional
	Ingress []LoadBalancerIngressStatus `json:"ingress,omitempty"`
}

// LoadBalancerIngressStatus is one load-balancer address.
type LoadBalancerIngressStatus struct {
	// +optional
	IP string `json:"ip,omitempty"`
	// +optional
	Domain string `json:"domain,omitempty"`
	// +optional
	DomainInternal string `json:"domainInternal,omitempty"`
	// +optional
	MeshOnly bool `json:"meshOnly,omitempty"`
}

// IngressList is a list of Ingresses.
//
// +kubebuilder:object:root=true
type IngressList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Ingress `json:"items"`
}
