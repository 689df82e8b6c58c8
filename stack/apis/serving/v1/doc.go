// Package v1 holds the serving.knative.dev/v1 types: Service, Configuration, Revision and Route,
// with Knative's field names, JSON tags, short names and printer columns.
//
// +kubebuilder:object:generate=true
// +groupName=serving.knative.dev
package v1
