package webhook

import (
	"encoding/json"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	sigsjson "sigs.k8s.io/json"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
)

// newObject returns an empty object of the admitted kind, or nil if the webhook does not handle it.
func newObject(gvk schema.GroupVersionKind) runtime.Object {
	switch gvk {
	case servingv1.SchemeGroupVersion.WithKind("Service"):
		return &servingv1.Service{}
	case servingv1.SchemeGroupVersion.WithKind("Configuration"):
		return &servingv1.Configuration{}
	case servingv1.SchemeGroupVersion.WithKind("Revision"):
		return &servingv1.Revision{}
	case servingv1.SchemeGroupVersion.WithKind("Route"):
		return &servingv1.Route{}
	case autoscalingv1alpha1.SchemeGroupVersion.WithKind("PodAutoscaler"):
		return &autoscalingv1alpha1.PodAutoscaler{}
	}
	return nil
}

// decodeStrict decodes raw into obj and fails on unknown or duplicate fields, naming each. The
// CRDs keep spec schemaless (x-kubernetes-preserve-unknown-fields), so this is the only place a
// misspelt or unsupported field is caught, as Knative's webhook does (§2.2).
func decodeStrict(raw []byte, obj runtime.Object) error {
	strict, err := sigsjson.UnmarshalStrict(raw, obj)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// decodeLenient decodes a stored object (an UPDATE's old object), ignoring unknown fields.
func decodeLenient(raw []byte, obj runtime.Object) error {
	if err := json.Unmarshal(raw, obj); err != nil {
		return fmt.Errorf("decode old object: %w", err)
	}
	return nil
}
