package webhook

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
)

const testImage = "ghcr.io/knative/helloworld-go:latest"

// ksvc is a minimal valid Service "hello" (before defaulting), changed by mods.
func ksvc(mods ...func(*servingv1.Service)) *servingv1.Service {
	s := &servingv1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: "default"},
		Spec: servingv1.ServiceSpec{ConfigurationSpec: servingv1.ConfigurationSpec{Template: servingv1.RevisionTemplateSpec{
			Spec: servingv1.RevisionSpec{PodSpec: corev1.PodSpec{Containers: []corev1.Container{{Image: testImage}}}},
		}}},
	}
	for _, m := range mods {
		m(s)
	}
	return s
}

// podSpec returns the template PodSpec of s, for concise mods.
func podSpec(s *servingv1.Service) *corev1.PodSpec { return &s.Spec.Template.Spec.PodSpec }

// ctr0 returns the first container of s.
func ctr0(s *servingv1.Service) *corev1.Container { return &s.Spec.Template.Spec.Containers[0] }

// cfgWith returns Knative's default config with one ConfigMap's data applied.
func cfgWith(t *testing.T, name string, data map[string]string) *config.Config {
	t.Helper()
	st := config.NewStore()
	if err := st.Update(name, data); err != nil {
		t.Fatalf("config %s %v: %v", name, data, err)
	}
	return st.Load()
}

// admit runs the webhook chain on obj in place: defaulting, then validation.
func admit(t *testing.T, obj runtime.Object, o Options) *FieldError {
	t.Helper()
	if err := SetDefaults(obj, o); err != nil {
		t.Fatalf("SetDefaults(%T) = %v", obj, err)
	}
	return Validate(obj, o)
}

func errString(e *FieldError) string {
	if e == nil {
		return "<nil>"
	}
	return e.Error()
}
