package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupName is Knative's internal autoscaling group.
const GroupName = "autoscaling.internal.knative.dev"

var (
	// SchemeGroupVersion is autoscaling.internal.knative.dev/v1alpha1.
	SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: "v1alpha1"}
	// SchemeBuilder registers the types of this package.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)
	// AddToScheme adds the types of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(SchemeGroupVersion, &PodAutoscaler{}, &PodAutoscalerList{}, &Metric{}, &MetricList{})
	metav1.AddToGroupVersion(s, SchemeGroupVersion)
	return nil
}
