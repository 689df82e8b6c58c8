// Package v1alpha1 holds autoscaling.internal.knative.dev/v1alpha1: PodAutoscaler and Metric,
// the internal objects through which a Revision asks to be scaled.
//
// +kubebuilder:object:generate=true
// +groupName=autoscaling.internal.knative.dev
package v1alpha1
