package webhook

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
)

func TestValidate_Names(t *testing.T) { // §2.2 Names
	runSvcCases(t, []svcCase{
		{name: "not a label", mod: func(s *servingv1.Service) { s.Name = "Hello_World" },
			want: "not a DNS 1035 label: [a DNS-1035 label must consist of lower case alphanumeric characters or '-', " +
				"start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', " +
				"regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')]: metadata.name"},
		{name: "missing", mod: func(s *servingv1.Service) { s.Name = "" },
			want: "name or generateName is required: metadata.name"},
		{name: "generateName only", mod: func(s *servingv1.Service) { s.Name, s.GenerateName, s.Spec.Template.Name = "", "hello-", "" }},
	})
}

func TestValidate_BYONamePrefix(t *testing.T) { // §2.2 Names: BYO revision name
	runSvcCases(t, []svcCase{
		{name: "prefixed", mod: func(s *servingv1.Service) { s.Spec.Template.Name = "hello-blue" }},
		{name: "wrong prefix", mod: func(s *servingv1.Service) { s.Spec.Template.Name = "blue" },
			want: `invalid value: "blue" must have prefix "hello-": spec.template.metadata.name`},
		{name: "parent uses generateName", mod: func(s *servingv1.Service) {
			s.Name, s.GenerateName, s.Spec.Template.Name = "", "hello-", "hello-blue"
		}, want: "must not set the field(s): spec.template.metadata.name"},
	})
}

func TestValidate_ChangeWithoutNameChangeRejected(t *testing.T) { // §2.2 Names: BYO on update
	old := ksvc(func(s *servingv1.Service) { s.Spec.Template.Name = "hello-v1" })
	if err := admit(t, old, Options{User: "alice"}); err != nil {
		t.Fatalf("Validate(old) = %v", err)
	}
	upd := old.DeepCopy()
	ctr0(upd).Image = "ghcr.io/knative/helloworld-go:v2"
	got := errString(admit(t, upd, Options{User: "alice", Old: old}))
	want := "Saw the following changes without a name change (-old +new): spec.template.metadata.name\n" +
		"spec.containers[0].image:\n\t-: \"ghcr.io/knative/helloworld-go:latest\"\n\t+: \"ghcr.io/knative/helloworld-go:v2\"\n"
	if got != want {
		t.Errorf("Validate(template change, same name) = %q, want %q", got, want)
	}
	upd.Spec.Template.Name = "hello-v2"
	if got := admit(t, upd, Options{User: "alice", Old: old}); got != nil {
		t.Errorf("Validate(template change, new name) = %v, want nil", got)
	}
}

func TestValidate_RevisionSpecImmutable(t *testing.T) { // §2.2 Revision spec is immutable
	owner := []metav1.OwnerReference{{APIVersion: "serving.knative.dev/v1", Kind: "Configuration", Name: "hello", UID: "u"}}
	rev := &servingv1.Revision{ObjectMeta: metav1.ObjectMeta{Name: "hello-00001", OwnerReferences: owner,
		Labels: map[string]string{serving.ConfigurationLabelKey: "hello", serving.RoutingStateLabelKey: "pending"}},
		Spec: servingv1.RevisionSpec{PodSpec: corev1.PodSpec{Containers: []corev1.Container{{Image: testImage}}}}}
	if err := admit(t, rev, Options{}); err != nil {
		t.Fatalf("Validate(revision) = %v", err)
	}
	relabel := rev.DeepCopy()
	relabel.Labels[serving.RoutingStateLabelKey] = "active"
	if got := admit(t, relabel, Options{Old: rev}); got != nil {
		t.Errorf("Validate(revision label update) = %v, want nil", got)
	}
	changed := rev.DeepCopy()
	changed.Spec.Containers[0].Image = "ghcr.io/knative/other"
	got := errString(admit(t, changed, Options{Old: rev}))
	want := "Immutable fields changed (-old +new): spec\ncontainers[0].image:\n\t-: \"" + testImage + "\"\n\t+: \"ghcr.io/knative/other\"\n"
	if got != want {
		t.Errorf("Validate(revision image update) = %q, want %q", got, want)
	}
}

func TestValidate_OwnershipLabels(t *testing.T) { // §2.2 Ownership labels
	svcOwner := []metav1.OwnerReference{{APIVersion: "serving.knative.dev/v1", Kind: "Service", Name: "hello", UID: "u"}}
	cfg := func(owners []metav1.OwnerReference) *servingv1.Configuration {
		return &servingv1.Configuration{ObjectMeta: metav1.ObjectMeta{Name: "hello", OwnerReferences: owners,
			Labels: map[string]string{serving.ServiceLabelKey: "hello"}}, Spec: ksvc().Spec.ConfigurationSpec}
	}
	if got := errString(admit(t, cfg(nil), Options{})); got != "missing field(s): metadata.labels[serving.knative.dev/service]" {
		t.Errorf("Validate(configuration with service label, no owner) = %q, want the missing-field error", got)
	}
	if got := admit(t, cfg(svcOwner), Options{}); got != nil {
		t.Errorf("Validate(owned configuration) = %v, want nil", got)
	}
	route := &servingv1.Route{ObjectMeta: metav1.ObjectMeta{Name: "hello", Labels: map[string]string{serving.ServiceLabelKey: "other"},
		OwnerReferences: svcOwner}, Spec: servingv1.RouteSpec{Traffic: []servingv1.TrafficTarget{{ConfigurationName: "hello", Percent: pct(100)}}}}
	if got := errString(admit(t, route, Options{})); got != "missing field(s): metadata.labels[serving.knative.dev/service]" {
		t.Errorf("Validate(route labelled for another service) = %q, want the missing-field error", got)
	}
	rev := &servingv1.Revision{ObjectMeta: metav1.ObjectMeta{Name: "hello-00001",
		Labels: map[string]string{serving.ConfigurationLabelKey: "hello", serving.GroupName + "/bogus": "x"}},
		Spec: servingv1.RevisionSpec{PodSpec: corev1.PodSpec{Containers: []corev1.Container{{Image: testImage}}}}}
	want := `invalid key name "serving.knative.dev/bogus": metadata.labels` + "\nmissing field(s): metadata.labels[serving.knative.dev/configuration]"
	if got := errString(admit(t, rev, Options{})); got != want {
		t.Errorf("Validate(revision with unowned configuration label) = %q, want %q", got, want)
	}
}

func TestValidate_CreatorAnnotationImmutable(t *testing.T) {
	old := ksvc()
	if err := admit(t, old, Options{User: "alice"}); err != nil {
		t.Fatal(err)
	}
	upd := old.DeepCopy()
	upd.Annotations[serving.CreatorAnnotation] = "mallory"
	upd.Annotations[serving.UpdaterAnnotation] = "mallory"
	want := "annotation value is immutable: metadata.annotations[serving.knative.dev/creator], metadata.annotations[serving.knative.dev/lastModifier]"
	if got := errString(admit(t, upd, Options{User: "bob", Old: old})); got != want {
		t.Errorf("Validate(forged creator) = %q, want %q", got, want)
	}
}

func TestValidate_AutoscalingAnnotationsOnConfigurationAndRoute(t *testing.T) { // §2.2
	anns := map[string]string{serving.MinScaleAnnotationKeyAlternative: "1"}
	want := `autoscaling annotations must be put under "spec.template.metadata.annotations" to work: metadata.annotations[autoscaling.knative.dev/minScale]`
	cfg := &servingv1.Configuration{ObjectMeta: metav1.ObjectMeta{Name: "c", Annotations: anns}, Spec: ksvc().Spec.ConfigurationSpec}
	if got := errString(admit(t, cfg, Options{})); got != want {
		t.Errorf("Validate(configuration with minScale) = %q, want %q", got, want)
	}
	r := &servingv1.Route{ObjectMeta: metav1.ObjectMeta{Name: "r", Annotations: anns},
		Spec: servingv1.RouteSpec{Traffic: []servingv1.TrafficTarget{{ConfigurationName: "c", Percent: pct(100)}}}}
	if got := errString(admit(t, r, Options{})); got != want {
		t.Errorf("Validate(route with minScale) = %q, want %q", got, want)
	}
	rev := &servingv1.Revision{ObjectMeta: metav1.ObjectMeta{Name: "r-1", Annotations: map[string]string{serving.MaxScaleAnnotationKey: "-3"}},
		Spec: servingv1.RevisionSpec{PodSpec: corev1.PodSpec{Containers: []corev1.Container{{Image: testImage}}}}}
	if got, want := errString(admit(t, rev, Options{})), "expected 0 <= -3 <= 2147483647: metadata.annotations[autoscaling.knative.dev/max-scale]"; got != want {
		t.Errorf("Validate(revision with max-scale -3) = %q, want %q", got, want)
	}
}

func TestValidate_VisibilityLabel(t *testing.T) {
	runSvcCases(t, []svcCase{{name: "public is not a value", mod: func(s *servingv1.Service) {
		s.Labels = map[string]string{serving.VisibilityLabelKey: "public"}
	}, want: "invalid value: public: metadata.labels[networking.knative.dev/visibility]"}})
}
