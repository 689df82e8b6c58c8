package configuration

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/servingsim/servingsim/stack/apis/duck"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/kmeta"
)

const ns = "demo"

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newConfig(name string, gen int64) *servingv1.Configuration {
	return &servingv1.Configuration{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: gen, UID: types.UID("cfg-uid-" + name)},
		Spec: servingv1.ConfigurationSpec{Template: servingv1.RevisionTemplateSpec{
			Spec: servingv1.RevisionSpec{PodSpec: corev1.PodSpec{Containers: []corev1.Container{{Image: "ko.local/hello:v1"}}}},
		}},
	}
}

func TestMakeRevision_NamesLabelsAndOwner(t *testing.T) { // knative-semantics.md §1.1, §1.2 Revision
	cfg := newConfig("hello", 1)
	cfg.Labels = map[string]string{serving.ServiceLabelKey: "hello", serving.ServiceUIDLabelKey: "svc-uid"}
	cfg.Annotations = map[string]string{serving.UpdaterAnnotation: "alice"}
	cfg.Spec.Template.Labels = map[string]string{"team": "a"}
	cfg.Spec.Template.Annotations = map[string]string{"autoscaling.knative.dev/target": "10"}

	rev := MakeRevision(cfg, t0)
	if rev.Name != "hello-00001" || rev.Namespace != ns {
		t.Errorf("MakeRevision() name = %s/%s, want %s/hello-00001", rev.Namespace, rev.Name, ns)
	}
	wantLabels := map[string]string{
		"team":                                  "a",
		serving.ConfigurationLabelKey:           "hello",
		serving.ServiceLabelKey:                 "hello",
		serving.ConfigurationGenerationLabelKey: "1",
		serving.ConfigurationUIDLabelKey:        "cfg-uid-hello",
		serving.ServiceUIDLabelKey:              "svc-uid",
		serving.RoutingStateLabelKey:            serving.RoutingStatePending,
	}
	for k, v := range wantLabels {
		if rev.Labels[k] != v {
			t.Errorf("MakeRevision() label %s = %q, want %q", k, rev.Labels[k], v)
		}
	}
	if len(rev.Labels) != len(wantLabels) {
		t.Errorf("MakeRevision() labels = %v, want exactly %v", rev.Labels, wantLabels)
	}
	if got := rev.Annotations[serving.CreatorAnnotation]; got != "alice" {
		t.Errorf("MakeRevision() creator = %q, want alice (the Config's lastModifier)", got)
	}
	if got := rev.Annotations[serving.RoutingStateModifiedAnnotationKey]; got != "2026-01-02T03:04:05Z" {
		t.Errorf("MakeRevision() routingStateModified = %q, want 2026-01-02T03:04:05Z", got)
	}
	if got := rev.Annotations["autoscaling.knative.dev/target"]; got != "10" {
		t.Errorf("MakeRevision() template annotation = %q, want 10", got)
	}
	if _, ok := rev.Annotations[serving.RoutesAnnotationKey]; ok {
		t.Errorf("MakeRevision() of an unrouted Config has a routes annotation")
	}
	if !kmeta.IsControlledBy(rev, cfg) || rev.OwnerReferences[0].Kind != "Configuration" {
		t.Errorf("MakeRevision() ownerReferences = %+v, want controller Configuration %s", rev.OwnerReferences, cfg.UID)
	}
	if rev.Spec.Containers[0].Image != "ko.local/hello:v1" {
		t.Errorf("MakeRevision() spec image = %q, want the template's", rev.Spec.Containers[0].Image)
	}
	// The template must not be aliased.
	rev.Labels["x"] = "y"
	if _, ok := cfg.Spec.Template.Labels["x"]; ok {
		t.Errorf("MakeRevision() shares the template's label map")
	}
}

func TestMakeRevision_RoutedConfigStartsActive(t *testing.T) { // §1.2: active at once if Config has routes
	cfg := newConfig("hello", 3)
	cfg.Annotations = map[string]string{serving.RoutesAnnotationKey: "hello,other"}
	rev := MakeRevision(cfg, t0)
	if rev.Name != "hello-00003" {
		t.Errorf("MakeRevision() name = %q, want hello-00003", rev.Name)
	}
	if got := rev.Labels[serving.RoutingStateLabelKey]; got != serving.RoutingStateActive {
		t.Errorf("routingState = %q, want active", got)
	}
	if got := rev.Annotations[serving.RoutesAnnotationKey]; got != "hello,other" {
		t.Errorf("routes annotation = %q, want copied from the Config", got)
	}
	if _, ok := rev.Labels[serving.ServiceLabelKey]; ok {
		t.Errorf("standalone Config's Revision has a service label %q, want none", rev.Labels[serving.ServiceLabelKey])
	}
}

func TestMakeRevision_BYOName(t *testing.T) { // §1.1 BYO name
	cfg := newConfig("hello", 2)
	cfg.Spec.Template.Name = "hello-blue"
	if got := MakeRevision(cfg, t0).Name; got != "hello-blue" {
		t.Errorf("MakeRevision() name = %q, want hello-blue", got)
	}
}

func TestCheckBYORevision_KnativeRule(t *testing.T) { // §1.4 BYO: owned and (same generation or same spec)
	cfg := newConfig("hello", 2)
	cfg.Spec.Template.Name = "hello-blue"
	owned := func(gen string, image string) *servingv1.Revision {
		r := MakeRevision(cfg, t0)
		r.Labels[serving.ConfigurationGenerationLabelKey] = gen
		r.Spec.Containers[0].Image = image
		return r
	}
	foreign := owned("2", "ko.local/hello:v1")
	foreign.OwnerReferences[0].UID = "someone-else"
	cases := []struct {
		name  string
		rev   *servingv1.Revision
		taken bool
	}{
		{"owned, same generation", owned("2", "other"), false},
		{"owned, older generation, same spec", owned("1", "ko.local/hello:v1"), false},
		{"owned, older generation, different spec", owned("1", "other"), true},
		{"owned by another Configuration", foreign, true},
	}
	for _, c := range cases {
		err := CheckBYORevision(cfg, c.rev)
		if got := apierrors.IsAlreadyExists(err); got != c.taken {
			t.Errorf("%s: CheckBYORevision() = %v, want taken=%v", c.name, err, c.taken)
		}
	}
}

func readyRev(name, gen string, status corev1.ConditionStatus) servingv1.Revision {
	r := servingv1.Revision{ObjectMeta: metav1.ObjectMeta{Name: name,
		Labels: map[string]string{serving.ConfigurationGenerationLabelKey: gen}}}
	r.Status.Conditions = []duck.Condition{{Type: duck.ConditionReady, Status: status}}
	return r
}

func TestLatestReady_ScansDownFromConfigGeneration(t *testing.T) { // §1.4 latestReady scan
	revs := []servingv1.Revision{
		readyRev("hello-00001", "1", corev1.ConditionTrue),
		readyRev("hello-00002", "2", corev1.ConditionTrue),
		readyRev("hello-00003", "3", corev1.ConditionFalse),
		readyRev("hello-00004", "4", corev1.ConditionUnknown),
	}
	cases := []struct {
		name        string
		gen         int64
		latestReady string
		revs        []servingv1.Revision
		want        string
	}{
		{"newest ready wins over failed and unknown newer ones", 4, "hello-00001", revs, "hello-00002"},
		{"nothing ready at all", 4, "", []servingv1.Revision{revs[2], revs[3]}, ""},
		{"older than the current latestReady is not considered", 4, "hello-00002",
			[]servingv1.Revision{revs[0], readyRev("hello-00002", "2", corev1.ConditionFalse), revs[2], revs[3]}, ""},
		{"deleted latestReady: scan everything", 4, "gone", revs, "hello-00002"},
		{"revisions past the config generation are ignored", 1, "hello-00001", revs, "hello-00001"},
	}
	for _, c := range cases {
		cfg := newConfig("hello", c.gen)
		cfg.Status.LatestReadyRevisionName = c.latestReady
		if got := LatestReady(cfg, c.revs); got != c.want {
			t.Errorf("%s: LatestReady() = %q, want %q", c.name, got, c.want)
		}
	}
}
