package v1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

// GroupName is Knative Serving's public API group.
const GroupName = "serving.knative.dev"

var (
	// SchemeGroupVersion is serving.knative.dev/v1.
	SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: "v1"}
	// SchemeBuilder registers the types of this package.
	SchemeBuilder = &scheme.Builder{GroupVersion: SchemeGroupVersion}
	// AddToScheme adds the types of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func init() {
	SchemeBuilder.Register(&Service{}, &ServiceList{}, &Configuration{}, &ConfigurationList{},
		&Revision{}, &RevisionList{}, &Route{}, &RouteList{})
}
