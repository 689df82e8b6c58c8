package webhook

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestShortDiff_ListsChangedLeaves(t *testing.T) {
	a := corev1.Container{Image: "a", Args: []string{"x"}}
	b := corev1.Container{Image: "b", Args: []string{"x", "y"}}
	got, err := shortDiff(a, b)
	if err != nil {
		t.Fatal(err)
	}
	want := "args[1]:\n\t-: null\n\t+: \"y\"\nimage:\n\t-: \"a\"\n\t+: \"b\"\n"
	if got != want {
		t.Errorf("shortDiff(a, b) = %q, want %q", got, want)
	}
}

func TestShortDiff_SemanticQuantities(t *testing.T) {
	a := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1000m")}
	b := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}
	if got, err := shortDiff(a, b); err != nil || got != "" {
		t.Errorf("shortDiff(1000m, 1) = %q, %v, want no difference", got, err)
	}
}
