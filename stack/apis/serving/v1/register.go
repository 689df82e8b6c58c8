package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupName is Knative Serving's public API group.
const GroupName = "serving.knative.dev"

var (
	// SchemeGroupVersion is serving.knative.dev/v1.
	SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: "v1"}
	// SchemeBuilder registers the types of this package.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)
	// AddToScheme adds the types of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(SchemeGroupVersion, &Service{}, &ServiceList{}, &Configuration{}, &ConfigurationList{},
		&Revision{}, &RevisionList{}, &Route{}, &RouteList{})
	metav1.AddToGroupVersion(s, SchemeGroupVersion)
	return nil
}
