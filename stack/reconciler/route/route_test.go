package route

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/servingsim/servingsim/stack/apis"
	"github.com/servingsim/servingsim/stack/apis/duck"
	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type fixture struct {
	t   *testing.T
	c   client.Client
	r   *Reconciler
	rec *record.FakeRecorder
	clk *clocktesting.FakeClock
}

func newFixture(t *testing.T, cm map[string]map[string]string, objs ...client.Object) *fixture {
	t.Helper()
	c := fake.NewClientBuilder().WithScheme(apis.NewScheme()).
		WithStatusSubresource(&servingv1.Route{}, &servingv1.Configuration{}, &servingv1.Revision{}, &netv1alpha1.Ingress{}).
		WithObjects(objs...).
		WithInterceptorFuncs(interceptor.Funcs{Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			// Like the API server: a UID and generation 1 for every new object.
			obj.SetUID(types.UID(fmt.Sprintf("%T/%s", obj, obj.GetName())))
			obj.SetGeneration(1)
			return c.Create(ctx, obj, opts...)
		}}).Build()
	store := config.NewStore()
	for name, data := range cm {
		if err := store.Update(name, data); err != nil {
			t.Fatal(err)
		}
	}
	rec := record.NewFakeRecorder(100)
	clk := clocktesting.NewFakeClock(t0)
	return &fixture{t: t, c: c, rec: rec, clk: clk, r: &Reconciler{Client: c, Config: store, Clock: clk, Recorder: rec}}
}

func (f *fixture) reconcile() {
	f.t.Helper()
	if _, err := f.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: "hello"}}); err != nil {
		f.t.Fatalf("Reconcile() = %v", err)
	}
}

func (f *fixture) get(name string, obj client.Object) client.Object {
	f.t.Helper()
	if err := f.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		f.t.Fatal(err)
	}
	return obj
}

func (f *fixture) route() *servingv1.Route {
	return f.get("hello", &servingv1.Route{}).(*servingv1.Route)
}

// markIngress sets the Ingress status as the gateway would.
func (f *fixture) markIngress(ready corev1.ConditionStatus, observed bool) {
	f.t.Helper()
	ing := f.get("hello", &netv1alpha1.Ingress{}).(*netv1alpha1.Ingress)
	ing.Status.ObservedGeneration = ing.Generation
	if !observed {
		ing.Status.ObservedGeneration = ing.Generation - 1
	}
	ing.Status.Conditions = []duck.Condition{{Type: duck.ConditionReady, Status: ready}}
	ing.Status.PrivateLoadBalancer = &netv1alpha1.LoadBalancerStatus{Ingress: []netv1alpha1.LoadBalancerIngressStatus{
		{DomainInternal: "kourier-internal.kourier-system.svc.cluster.local"}}}
	if err := f.c.Status().Update(context.Background(), ing); err != nil {
		f.t.Fatal(err)
	}
}

func routeOf(traffic ...servingv1.TrafficTarget) *servingv1.Route {
	r := newRoute("hello", traffic...)
	r.Generation = 1
	return r
}

func TestReconcile_RouteBecomesReadyWithIngress(t *testing.T) { // knative-semantics.md §1.6, §1.8, §6
	f := newFixture(t, exampleCom,
		routeOf(servingv1.TrafficTarget{ConfigurationName: "hello", Percent: pct(100)}),
		cfgWith("hello", "hello-00001", corev1.ConditionTrue),
		rev("hello-00001", "hello", corev1.ConditionTrue))
	f.reconcile()

	rt := f.route()
	if rt.Status.URL != "http://hello.demo.example.com" {
		t.Errorf("status.url = %q, want http://hello.demo.example.com", rt.Status.URL)
	}
	if rt.Status.Address == nil || rt.Status.Address.URL != "http://hello.demo.svc.cluster.local" {
		t.Errorf("status.address = %+v, want http://hello.demo.svc.cluster.local", rt.Status.Address)
	}
	if tr := rt.Status.Traffic; len(tr) != 1 || tr[0].RevisionName != "hello-00001" || *tr[0].Percent != 100 || !*tr[0].LatestRevision {
		t.Errorf("status.traffic = %+v, want 100%% hello-00001 latestRevision", tr)
	}
	st := &rt.Status.Status
	if c := st.GetCondition(servingv1.RouteConditionAllTrafficAssigned); !c.IsTrue() {
		t.Errorf("AllTrafficAssigned = %+v, want True", c)
	}
	if c := st.GetCondition(servingv1.RouteConditionCertificateProvisioned); !c.IsTrue() || c.Reason != "TLSNotEnabled" ||
		c.Message != "external-domain-tls is not enabled" {
		t.Errorf("CertificateProvisioned = %+v, want True/TLSNotEnabled", c)
	}
	if c := st.GetCondition(servingv1.RouteConditionIngressReady); !c.IsUnknown() || c.Reason != ReasonIngressNotConfigured {
		t.Errorf("IngressReady before the gateway answers = %+v, want Unknown/IngressNotConfigured", c)
	}
	if c := st.GetCondition(duck.ConditionReady); !c.IsUnknown() {
		t.Errorf("Ready = %+v, want Unknown", c)
	}
	if st.ObservedGeneration != 1 {
		t.Errorf("observedGeneration = %d, want 1", st.ObservedGeneration)
	}

	ing := f.get("hello", &netv1alpha1.Ingress{}).(*netv1alpha1.Ingress)
	if ing.Annotations[serving.IngressClassAnnotationKey] != serving.DefaultIngressClass ||
		ing.Labels[serving.RouteLabelKey] != "hello" || ing.Labels[serving.RouteNamespaceLabelKey] != ns {
		t.Errorf("ingress meta = %v / %v, want class annotation and route labels", ing.Annotations, ing.Labels)
	}
	if len(ing.Spec.Rules) != 2 || ing.Spec.Rules[1].Hosts[0] != "hello.demo.example.com" {
		t.Errorf("ingress rules = %+v, want ClusterLocal + ExternalIP hello.demo.example.com", ing.Spec.Rules)
	}
	ph := f.get("hello", &corev1.Service{}).(*corev1.Service)
	if ph.Spec.Type != corev1.ServiceTypeExternalName || ph.Spec.ExternalName != "kourier-internal.kourier-system.svc.cluster.local" {
		t.Errorf("placeholder service spec = %+v, want ExternalName kourier-internal", ph.Spec)
	}

	// The gateway reports Ready but for an older generation: not yet propagated.
	f.markIngress(corev1.ConditionTrue, false)
	f.reconcile()
	if c := f.route().Status.GetCondition(servingv1.RouteConditionIngressReady); !c.IsUnknown() || c.Reason != ReasonIngressNotConfigured {
		t.Errorf("IngressReady with a stale ingress observedGeneration = %+v, want Unknown/IngressNotConfigured", c)
	}
	f.markIngress(corev1.ConditionTrue, true)
	f.reconcile()
	rt = f.route()
	if c := rt.Status.GetCondition(duck.ConditionReady); !c.IsTrue() {
		t.Errorf("Ready after the Ingress is Ready = %+v, want True", c)
	}
	if rt.Status.URL != "http://hello.demo.example.com" {
		t.Errorf("status.url = %q, want http://hello.demo.example.com", rt.Status.URL)
	}

	// Idle: a later reconcile of the same state writes nothing.
	rv := func() string {
		return rt.ResourceVersion + "/" + f.get("hello", &netv1alpha1.Ingress{}).GetResourceVersion() + "/" +
			f.get("hello", &corev1.Service{}).GetResourceVersion()
	}
	before := rv()
	f.clk.Step(time.Minute)
	f.reconcile()
	rt = f.route()
	if after := rv(); after != before {
		t.Errorf("resource versions (route/ingress/placeholder) moved from %s to %s on a no-op reconcile", before, after)
	}
}

func TestReconcile_BadTargetProgramsNothing(t *testing.T) { // §1.6 ConfigurationMissing
	f := newFixture(t, exampleCom, routeOf(servingv1.TrafficTarget{ConfigurationName: "nope", Percent: pct(100)}))
	f.reconcile()
	rt := f.route()
	c := rt.Status.GetCondition(servingv1.RouteConditionAllTrafficAssigned)
	if !c.IsFalse() || c.Reason != "ConfigurationMissing" || c.Message != `Configuration "nope" referenced in traffic not found.` {
		t.Errorf("AllTrafficAssigned = %+v, want False/ConfigurationMissing", c)
	}
	if r := rt.Status.GetCondition(duck.ConditionReady); !r.IsFalse() {
		t.Errorf("Ready = %+v, want False", r)
	}
	if rt.Status.URL != "http://hello.demo.example.com" {
		t.Errorf("status.url = %q, want it set even before traffic resolves", rt.Status.URL)
	}
	err := f.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "hello"}, &netv1alpha1.Ingress{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("Get(ingress) = %v, want NotFound while traffic is unresolved", err)
	}
}

func TestReconcile_TagPlaceholdersFollowSpec(t *testing.T) { // §6 Placeholder services
	f := newFixture(t, exampleCom,
		routeOf(servingv1.TrafficTarget{ConfigurationName: "hello", Percent: pct(100)},
			servingv1.TrafficTarget{RevisionName: "hello-00001", Tag: "old"}),
		cfgWith("hello", "hello-00002", corev1.ConditionTrue),
		rev("hello-00001", "hello", corev1.ConditionTrue), rev("hello-00002", "hello", corev1.ConditionTrue))
	f.reconcile()
	rt := f.route()
	if got := rt.Status.Traffic[1].URL; got != "http://old-hello.demo.example.com" {
		t.Errorf("tag URL = %q, want http://old-hello.demo.example.com", got)
	}
	f.get("old-hello", &corev1.Service{})

	rt.Spec.Traffic = rt.Spec.Traffic[:1]
	rt.Generation = 2
	if err := f.c.Update(context.Background(), rt); err != nil {
		t.Fatal(err)
	}
	f.reconcile()
	err := f.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "old-hello"}, &corev1.Service{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("Get(old-hello) after removing the tag = %v, want NotFound", err)
	}
	ing := f.get("hello", &netv1alpha1.Ingress{}).(*netv1alpha1.Ingress)
	if len(ing.Spec.Rules) != 2 {
		t.Errorf("ingress rules after removing the tag = %d, want 2", len(ing.Spec.Rules))
	}
}

func TestReconcile_PlaceholderNotOwned(t *testing.T) { // §6, NotOwned
	stranger := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hello", UID: "someone"}}
	f := newFixture(t, exampleCom,
		routeOf(servingv1.TrafficTarget{ConfigurationName: "hello", Percent: pct(100)}),
		cfgWith("hello", "hello-00001", corev1.ConditionTrue), rev("hello-00001", "hello", corev1.ConditionTrue), stranger)
	if _, err := f.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: "hello"}}); err == nil {
		t.Errorf("Reconcile() = nil, want an error for a Service we do not own")
	}
	c := f.route().Status.GetCondition(servingv1.RouteConditionIngressReady)
	if !c.IsFalse() || c.Reason != "NotOwned" || c.Message != `There is an existing placeholder Service "hello" that we do not own.` {
		t.Errorf("IngressReady = %+v, want False/NotOwned", c)
	}
}

func TestWatchPredicates_IgnoreReplicaChurn(t *testing.T) { // routes re-run on readiness, not on scale
	old := rev("hello-00001", "hello", corev1.ConditionTrue)
	scaled := old.DeepCopy()
	scaled.Status.ActualReplicas = ptr.To[int32](5)
	if revisionRoutingChanged(event.UpdateEvent{ObjectOld: old, ObjectNew: scaled}) {
		t.Errorf("revisionRoutingChanged(replica count only) = true, want false")
	}
	failed := old.DeepCopy()
	failed.Status.Conditions[0].Status = corev1.ConditionFalse
	if !revisionRoutingChanged(event.UpdateEvent{ObjectOld: old, ObjectNew: failed}) {
		t.Errorf("revisionRoutingChanged(Ready True→False) = false, want true")
	}
	c1 := cfgWith("hello", "hello-00001", corev1.ConditionTrue)
	c2 := c1.DeepCopy()
	c2.Status.LatestCreatedRevisionName = "hello-00002"
	if configurationRoutingChanged(event.UpdateEvent{ObjectOld: c1, ObjectNew: c2}) {
		t.Errorf("configurationRoutingChanged(latestCreated only) = true, want false")
	}
	c2.Status.LatestReadyRevisionName = "hello-00002"
	if !configurationRoutingChanged(event.UpdateEvent{ObjectOld: c1, ObjectNew: c2}) {
		t.Errorf("configurationRoutingChanged(latestReady moved) = false, want true")
	}
}
