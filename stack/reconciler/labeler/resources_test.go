package labeler

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/ptr"

	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/kmeta"
)

const ns = "demo"

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func cfgObj(name string, gen int64, latestCreated string, svc string) servingv1.Configuration {
	c := servingv1.Configuration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: gen,
		UID: types.UID("uid-" + name), Labels: map[string]string{}}}
	if svc != "" {
		c.Labels[serving.ServiceLabelKey] = svc
	}
	c.Status.LatestCreatedRevisionName = latestCreated
	return c
}

func revObj(name string, cfg *servingv1.Configuration, gen string) servingv1.Revision {
	r := servingv1.Revision{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{
		serving.ConfigurationLabelKey: cfg.Name, serving.ConfigurationGenerationLabelKey: gen}}}
	r.OwnerReferences = []metav1.OwnerReference{kmeta.NewControllerRef(cfg, servingv1.SchemeGroupVersion.WithKind("Configuration"))}
	return r
}

func routeObj(name, svc string, spec, status []servingv1.TrafficTarget) servingv1.Route {
	r := servingv1.Route{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{}}}
	if svc != "" {
		r.Labels[serving.ServiceLabelKey] = svc
	}
	r.Spec.Traffic, r.Status.Traffic = spec, status
	return r
}

func setOf(s ...string) sets.Set[string] { return sets.New(s...) }

func TestComputeDesired_KnativeLabelerRule(t *testing.T) { // knative-semantics.md §1.2 Labeler
	hello := cfgObj("hello", 3, "hello-00003", "hello")
	other := cfgObj("other", 1, "other-00001", "")
	revs := []servingv1.Revision{
		revObj("hello-00001", &hello, "1"),
		revObj("hello-00002", &hello, "2"),
		revObj("hello-00003", &hello, "3"),
		revObj("other-00001", &other, "1"),
	}
	// hello-00004 exists for generation 4 before the Config's status names it.
	hello4 := cfgObj("hello", 4, "hello-00003", "hello")
	revs4 := append(append([]servingv1.Revision{}, revs...), revObj("hello-00004", &hello4, "4"))

	// A Service-owned Configuration, as the Service reconciler creates it.
	owned := cfgObj("hello", 1, "hello-00001", "hello")
	owned.OwnerReferences = []metav1.OwnerReference{{APIVersion: "serving.knative.dev/v1", Kind: "Service",
		Name: "hello", UID: "svc-uid", Controller: ptr.To(true)}}
	ownedRevs := []servingv1.Revision{revObj("hello-00001", &owned, "1")}

	latest := []servingv1.TrafficTarget{{ConfigurationName: "hello", LatestRevision: ptr.To(true), Percent: ptr.To[int64](100)}}
	cases := []struct {
		name     string
		routes   []servingv1.Route
		configs  []servingv1.Configuration
		revs     []servingv1.Revision
		wantCfgs map[string]sets.Set[string]
		wantRevs map[string]sets.Set[string]
	}{{
		name: "service route follows latest: config, latest ready (status) and latest created",
		routes: []servingv1.Route{routeObj("hello", "hello", latest,
			[]servingv1.TrafficTarget{{RevisionName: "hello-00002", LatestRevision: ptr.To(true), Percent: ptr.To[int64](100)}})},
		configs:  []servingv1.Configuration{hello, other},
		revs:     revs,
		wantCfgs: map[string]sets.Set[string]{"hello": setOf("hello")},
		wantRevs: map[string]sets.Set[string]{"hello-00002": setOf("hello"), "hello-00003": setOf("hello")},
	}, {
		name: "pinned revision of another route labels the revision and its controlling config",
		routes: []servingv1.Route{
			routeObj("hello", "hello", latest, nil),
			routeObj("pin", "", []servingv1.TrafficTarget{{RevisionName: "hello-00001", Percent: ptr.To[int64](100)}}, nil),
		},
		configs:  []servingv1.Configuration{hello, other},
		revs:     revs,
		wantCfgs: map[string]sets.Set[string]{"hello": setOf("hello", "pin")},
		wantRevs: map[string]sets.Set[string]{"hello-00001": setOf("pin"), "hello-00003": setOf("hello")},
	}, {
		name:     "revision of the config's current generation counts as latest created",
		routes:   []servingv1.Route{routeObj("hello", "hello", latest, nil)},
		configs:  []servingv1.Configuration{hello4},
		revs:     revs4,
		wantCfgs: map[string]sets.Set[string]{"hello": setOf("hello")},
		wantRevs: map[string]sets.Set[string]{"hello-00003": setOf("hello"), "hello-00004": setOf("hello")},
	}, {
		name: "missing targets and deleting routes are skipped",
		routes: func() []servingv1.Route {
			gone := routeObj("gone", "", []servingv1.TrafficTarget{{ConfigurationName: "other"}}, nil)
			gone.DeletionTimestamp = &metav1.Time{Time: t0}
			return []servingv1.Route{gone, routeObj("r", "", []servingv1.TrafficTarget{
				{RevisionName: "nope"}, {ConfigurationName: "missing"}}, nil)}
		}(),
		configs:  []servingv1.Configuration{hello, other},
		revs:     revs,
		wantCfgs: map[string]sets.Set[string]{},
		wantRevs: map[string]sets.Set[string]{},
	}, {
		name:     "a Service's Configuration is routed by the Service's Route even before it exists",
		configs:  []servingv1.Configuration{owned},
		revs:     ownedRevs,
		wantCfgs: map[string]sets.Set[string]{"hello": setOf("hello")},
		wantRevs: map[string]sets.Set[string]{"hello-00001": setOf("hello")},
	}, {
		name: "once the Service's Route exists its spec decides which revisions are routed",
		routes: []servingv1.Route{routeObj("hello", "hello",
			[]servingv1.TrafficTarget{{RevisionName: "hello-00000", LatestRevision: ptr.To(false)}}, nil)},
		configs:  []servingv1.Configuration{owned},
		revs:     append(ownedRevs, revObj("hello-00000", &owned, "0")),
		wantCfgs: map[string]sets.Set[string]{"hello": setOf("hello")},
		wantRevs: map[string]sets.Set[string]{"hello-00000": setOf("hello")},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ComputeDesired(c.routes, c.configs, c.revs)
			if !equalSets(got.Configurations, c.wantCfgs) {
				t.Errorf("ComputeDesired().Configurations = %v, want %v", got.Configurations, c.wantCfgs)
			}
			if !equalSets(got.Revisions, c.wantRevs) {
				t.Errorf("ComputeDesired().Revisions = %v, want %v", got.Revisions, c.wantRevs)
			}
		})
	}
}

func equalSets(a, b map[string]sets.Set[string]) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !v.Equal(b[k]) {
			return false
		}
	}
	return true
}

func TestApplyToRevision_RoutingState(t *testing.T) { // §1.2: active / reserve + routingStateModified
	stamp := RoutingStateModified(t0)
	later := t0.Add(time.Hour)
	cases := []struct {
		name      string
		labels    map[string]string
		anns      map[string]string
		want      sets.Set[string]
		changed   bool
		wantState string
		wantRts   string // "" = annotation absent
		wantStamp string
	}{
		{"pending becomes active", map[string]string{serving.RoutingStateLabelKey: "pending"},
			map[string]string{serving.RoutingStateModifiedAnnotationKey: stamp}, setOf("b", "a"),
			true, "active", "a,b", RoutingStateModified(later)},
		{"active and unchanged keeps its timestamp", map[string]string{serving.RoutingStateLabelKey: "active"},
			map[string]string{serving.RoutingStateModifiedAnnotationKey: stamp, serving.RoutesAnnotationKey: "a"}, setOf("a"),
			false, "active", "a", stamp},
		{"active with new route set keeps state timestamp", map[string]string{serving.RoutingStateLabelKey: "active"},
			map[string]string{serving.RoutingStateModifiedAnnotationKey: stamp, serving.RoutesAnnotationKey: "a"}, setOf("a", "b"),
			true, "active", "a,b", stamp},
		{"no longer routed becomes reserve", map[string]string{serving.RoutingStateLabelKey: "active"},
			map[string]string{serving.RoutingStateModifiedAnnotationKey: stamp, serving.RoutesAnnotationKey: "a"}, nil,
			true, "reserve", "", RoutingStateModified(later)},
		{"never routed pending stays pending", map[string]string{serving.RoutingStateLabelKey: "pending"},
			map[string]string{serving.RoutingStateModifiedAnnotationKey: stamp}, nil,
			false, "pending", "", stamp},
		{"reserve stays reserve", map[string]string{serving.RoutingStateLabelKey: "reserve"},
			map[string]string{serving.RoutingStateModifiedAnnotationKey: stamp}, nil,
			false, "reserve", "", stamp},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rev := &servingv1.Revision{ObjectMeta: metav1.ObjectMeta{Name: "r", Labels: c.labels, Annotations: c.anns}}
			if got := ApplyToRevision(rev, c.want, later); got != c.changed {
				t.Errorf("ApplyToRevision() changed = %v, want %v", got, c.changed)
			}
			if got := rev.Labels[serving.RoutingStateLabelKey]; got != c.wantState {
				t.Errorf("routingState = %q, want %q", got, c.wantState)
			}
			if got := rev.Annotations[serving.RoutesAnnotationKey]; got != c.wantRts {
				t.Errorf("routes annotation = %q, want %q", got, c.wantRts)
			}
			if _, ok := rev.Annotations[serving.RoutesAnnotationKey]; ok != (c.wantRts != "") {
				t.Errorf("routes annotation present = %v, want %v", ok, c.wantRts != "")
			}
			if got := rev.Annotations[serving.RoutingStateModifiedAnnotationKey]; got != c.wantStamp {
				t.Errorf("routingStateModified = %q, want %q", got, c.wantStamp)
			}
		})
	}
}

func TestApplyToConfiguration_RoutesAnnotation(t *testing.T) { // §1.2
	cfg := &servingv1.Configuration{}
	if !ApplyToConfiguration(cfg, setOf("z", "a")) || cfg.Annotations[serving.RoutesAnnotationKey] != "a,z" {
		t.Fatalf("ApplyToConfiguration(z,a) annotation = %q, want \"a,z\"", cfg.Annotations[serving.RoutesAnnotationKey])
	}
	if ApplyToConfiguration(cfg, setOf("a", "z")) {
		t.Errorf("ApplyToConfiguration(same set) changed = true, want false")
	}
	if !ApplyToConfiguration(cfg, nil) {
		t.Errorf("ApplyToConfiguration(empty) changed = false, want true")
	}
	if _, ok := cfg.Annotations[serving.RoutesAnnotationKey]; ok {
		t.Errorf("routes annotation present after unreferencing, want removed")
	}
}

func TestSetRoutingState_TimestampFormat(t *testing.T) { // §1.2 routingStateModified
	rev := &servingv1.Revision{}
	local := time.Date(2026, 1, 2, 4, 4, 5, 999, time.FixedZone("CET", 3600))
	if !SetRoutingState(rev, serving.RoutingStatePending, local) {
		t.Fatal("SetRoutingState on a bare revision changed = false, want true")
	}
	if got, want := rev.Annotations[serving.RoutingStateModifiedAnnotationKey], "2026-01-02T03:04:05Z"; got != want {
		t.Errorf("routingStateModified = %q, want %q", got, want)
	}
	if SetRoutingState(rev, serving.RoutingStatePending, local.Add(time.Hour)) {
		t.Errorf("SetRoutingState(same state) changed = true, want false")
	}
}

func TestParseJoinRoutes(t *testing.T) {
	if got, want := JoinRoutes(ParseRoutes(" b, a,,b ")), "a,b"; got != want {
		t.Errorf("JoinRoutes(ParseRoutes(\" b, a,,b \")) = %q, want %q", got, want)
	}
}
