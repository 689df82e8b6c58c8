package service

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/kmeta"
)

const ns = "demo"

func newService(name string) *servingv1.Service {
	svc := &servingv1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1,
		UID:         types.UID("svc-uid-" + name),
		Labels:      map[string]string{"team": "a"},
		Annotations: map[string]string{"note": "x"},
	}}
	svc.Spec.Template.Spec.Containers = []corev1.Container{{Image: "ko.local/hello:v1"}}
	svc.Spec.Traffic = []servingv1.TrafficTarget{{LatestRevision: ptr.To(true), Percent: ptr.To[int64](100)}}
	return svc
}

func TestMakeConfiguration_LabelsAnnotationsSpec(t *testing.T) { // knative-semantics.md §1.2 Configuration
	svc := newService("hello")
	svc.Annotations[serving.LastAppliedConfigurationAnnotation] = "{}"
	svc.Annotations[serving.RolloutDurationKey] = "60s"
	svc.Annotations[serving.RolloutDurationLegacyKey] = "60s"

	cfg := MakeConfiguration(svc, nil)
	if cfg.Name != "hello" || cfg.Namespace != ns {
		t.Errorf("MakeConfiguration() = %s/%s, want %s/hello", cfg.Namespace, cfg.Name, ns)
	}
	wantLabels := map[string]string{"team": "a", serving.ServiceLabelKey: "hello", serving.ServiceUIDLabelKey: "svc-uid-hello"}
	if !mapsEq(cfg.Labels, wantLabels) {
		t.Errorf("MakeConfiguration() labels = %v, want %v", cfg.Labels, wantLabels)
	}
	wantAnns := map[string]string{"note": "x", serving.RoutesAnnotationKey: "hello"}
	if !mapsEq(cfg.Annotations, wantAnns) {
		t.Errorf("MakeConfiguration() annotations = %v, want %v", cfg.Annotations, wantAnns)
	}
	if cfg.Spec.Template.Spec.Containers[0].Image != "ko.local/hello:v1" {
		t.Errorf("MakeConfiguration() spec not copied from spec.template")
	}
	if !kmeta.IsControlledBy(cfg, svc) || cfg.OwnerReferences[0].Kind != "Service" ||
		cfg.OwnerReferences[0].APIVersion != "serving.knative.dev/v1" {
		t.Errorf("MakeConfiguration() ownerReferences = %+v, want controller Service", cfg.OwnerReferences)
	}

	// The routes the labeler recorded are kept, sorted, with our Route added.
	existing := cfg.DeepCopy()
	existing.Annotations[serving.RoutesAnnotationKey] = "zeta,alpha"
	if got := MakeConfiguration(svc, existing).Annotations[serving.RoutesAnnotationKey]; got != "alpha,hello,zeta" {
		t.Errorf("MakeConfiguration(existing routes zeta,alpha) routes = %q, want alpha,hello,zeta", got)
	}
	svc.Spec.Template.Spec.Containers[0].Image = "changed"
	if cfg.Spec.Template.Spec.Containers[0].Image == "changed" {
		t.Errorf("MakeConfiguration() aliases the Service's spec")
	}
}

func TestMakeRoute_TrafficAndLabels(t *testing.T) { // §1.2 Route
	svc := newService("hello")
	svc.Annotations[serving.LastAppliedConfigurationAnnotation] = "{}"
	svc.Annotations[serving.RolloutDurationKey] = "60s"
	svc.Spec.Traffic = []servingv1.TrafficTarget{
		{LatestRevision: ptr.To(true), Percent: ptr.To[int64](80)},
		{RevisionName: "hello-00001", Percent: ptr.To[int64](20), Tag: "old"},
	}
	rt := MakeRoute(svc)
	if rt.Name != "hello" || !kmeta.IsControlledBy(rt, svc) {
		t.Errorf("MakeRoute() = %s owned by %+v, want hello controlled by the Service", rt.Name, rt.OwnerReferences)
	}
	if want := map[string]string{"team": "a", serving.ServiceLabelKey: "hello"}; !mapsEq(rt.Labels, want) {
		t.Errorf("MakeRoute() labels = %v, want %v", rt.Labels, want)
	}
	if want := map[string]string{"note": "x", serving.RolloutDurationKey: "60s"}; !mapsEq(rt.Annotations, want) {
		t.Errorf("MakeRoute() annotations = %v, want %v (rollout-duration stays on the Route)", rt.Annotations, want)
	}
	if got := rt.Spec.Traffic[0].ConfigurationName; got != "hello" {
		t.Errorf("MakeRoute() traffic[0].configurationName = %q, want hello", got)
	}
	if got := rt.Spec.Traffic[1]; got.ConfigurationName != "" || got.RevisionName != "hello-00001" || got.Tag != "old" {
		t.Errorf("MakeRoute() traffic[1] = %+v, want the revision target unchanged", got)
	}

	svc.Spec.Traffic = nil
	def := MakeRoute(svc).Spec.Traffic
	if len(def) != 1 || def[0].ConfigurationName != "hello" || !*def[0].LatestRevision || *def[0].Percent != 100 {
		t.Errorf("MakeRoute(no traffic) traffic = %+v, want 100%% latest of hello", def)
	}
}

func TestTrafficMigrated_KnativeRule(t *testing.T) { // §1.3 step 5
	cfg := &servingv1.Configuration{ObjectMeta: metav1.ObjectMeta{Name: "hello"}}
	cfg.Status.LatestReadyRevisionName = "hello-00002"
	route := &servingv1.Route{}
	route.Spec.Traffic = []servingv1.TrafficTarget{
		{ConfigurationName: "hello", LatestRevision: ptr.To(true), Percent: ptr.To[int64](90)},
		{RevisionName: "hello-00001", Tag: "old", Percent: ptr.To[int64](10)},
	}
	status := func(latest string) []servingv1.TrafficTarget {
		return []servingv1.TrafficTarget{
			{RevisionName: latest, LatestRevision: ptr.To(true), Percent: ptr.To[int64](90)},
			{RevisionName: "hello-00001", Tag: "old", Percent: ptr.To[int64](10), URL: "http://old-hello.demo.example.com",
				LatestRevision: ptr.To(false)},
		}
	}
	route.Status.Traffic = status("hello-00002")
	if !TrafficMigrated(route, cfg) {
		t.Errorf("TrafficMigrated(status on latest ready) = false, want true")
	}
	route.Status.Traffic = status("hello-00001")
	if TrafficMigrated(route, cfg) {
		t.Errorf("TrafficMigrated(status on previous revision) = true, want false")
	}
	route.Status.Traffic = status("hello-00002")[:1]
	if TrafficMigrated(route, cfg) {
		t.Errorf("TrafficMigrated(fewer status targets) = true, want false")
	}
}

func mapsEq(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || v != w {
			return false
		}
	}
	return true
}
