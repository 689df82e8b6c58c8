package kmeta

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Object is what an owner must offer.
type Object interface {
	metav1.Object
	GetObjectKind() schema.ObjectKind
}

// NewControllerRef returns a controller owner reference to owner of kind gvk, with
// blockOwnerDeletion set as Knative sets it.
func NewControllerRef(owner metav1.Object, gvk schema.GroupVersionKind) metav1.OwnerReference {
	return *metav1.NewControllerRef(owner, gvk)
}

// IsControlledBy reports whether obj's controller reference points at owner's UID.
func IsControlledBy(obj, owner metav1.Object) bool {
	ref := metav1.GetControllerOf(obj)
	return ref != nil && ref.UID == owner.GetUID()
}

// UnionMaps returns a new map with the entries of every map, later ones winning.
func UnionMaps(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// FilterMap returns a copy of m without the keys for which drop is true.
func FilterMap(m map[string]string, drop func(string) bool) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if !drop(k) {
			out[k] = v
		}
	}
	return out
}
