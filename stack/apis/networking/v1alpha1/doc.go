// Package v1alpha1 holds networking.internal.knative.dev/v1alpha1: Ingress (KIngress), which the
// gateway serves, and ServerlessService, which switches a revision between its pods and the
// activator.
//
// +kubebuilder:object:generate=true
// +groupName=networking.internal.knative.dev
package v1alpha1
