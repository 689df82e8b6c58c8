package service

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/servingsim/servingsim/stack/apis"
	"github.com/servingsim/servingsim/stack/apis/duck"
	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/kmeta"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// newClient is a fake API server that, like the real one, gives created objects a UID and
// generation 1.
func newClient(objs ...client.Object) client.Client {
	return fake.NewClientBuilder().WithScheme(apis.NewScheme()).
		WithStatusSubresource(&servingv1.Service{}, &servingv1.Configuration{}, &servingv1.Route{},
			&servingv1.Revision{}, &netv1alpha1.Ingress{}).
		WithObjects(objs...).
		WithInterceptorFuncs(interceptor.Funcs{Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if obj.GetUID() == "" {
				obj.SetUID(types.UID(fmt.Sprintf("%T/%s/%s", obj, obj.GetNamespace(), obj.GetName())))
			}
			if obj.GetGeneration() == 0 {
				obj.SetGeneration(1)
			}
			return c.Create(ctx, obj, opts...)
		}}).Build()
}

type fixture struct {
	t   *testing.T
	c   client.Client
	r   *Reconciler
	rec *record.FakeRecorder
	clk *clocktesting.FakeClock
}

func newFixture(t *testing.T, objs ...client.Object) *fixture {
	c := newClient(objs...)
	rec := record.NewFakeRecorder(100)
	clk := clocktesting.NewFakeClock(t0)
	return &fixture{t: t, c: c, rec: rec, clk: clk,
		r: &Reconciler{Client: c, Config: config.NewStore(), Clock: clk, Recorder: rec}}
}

func (f *fixture) reconcile() error {
	_, err := f.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: "hello"}})
	return err
}

func get[T client.Object](t *testing.T, c client.Client, name string, obj T) T {
	t.Helper()
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

func cond(s *duck.Status, typ duck.ConditionType) *duck.Condition { return s.GetCondition(typ) }

func TestReconcile_CreatesConfigurationAndRoute(t *testing.T) { // knative-semantics.md §1.1, §1.2, §1.3 step 1
	f := newFixture(t, newService("hello"))
	if err := f.reconcile(); err != nil {
		t.Fatalf("Reconcile() = %v", err)
	}
	svc := get(t, f.c, "hello", &servingv1.Service{})
	cfg := get(t, f.c, "hello", &servingv1.Configuration{})
	rt := get(t, f.c, "hello", &servingv1.Route{})
	if !kmeta.IsControlledBy(cfg, svc) || !kmeta.IsControlledBy(rt, svc) {
		t.Errorf("children owners = %+v / %+v, want controller refs to the Service", cfg.OwnerReferences, rt.OwnerReferences)
	}
	if cfg.Labels[serving.ServiceLabelKey] != "hello" || cfg.Labels[serving.ServiceUIDLabelKey] != string(svc.UID) || cfg.Labels["team"] != "a" {
		t.Errorf("configuration labels = %v, want service, serviceUID and the Service's labels", cfg.Labels)
	}
	if got := cfg.Annotations[serving.RoutesAnnotationKey]; got != "hello" {
		t.Errorf("configuration routes annotation = %q, want hello", got)
	}
	if rt.Labels[serving.ServiceLabelKey] != "hello" || rt.Spec.Traffic[0].ConfigurationName != "hello" {
		t.Errorf("route labels %v / traffic %+v, want service label and configurationName hello", rt.Labels, rt.Spec.Traffic)
	}
	// Fresh children have not reconciled their generation yet.
	if c := cond(&svc.Status.Status, servingv1.ServiceConditionConfigurationsReady); !c.IsUnknown() || c.Reason != ReasonOutOfDate {
		t.Errorf("ConfigurationsReady = %+v, want Unknown/OutOfDate", c)
	}
	if c := cond(&svc.Status.Status, servingv1.ServiceConditionRoutesReady); !c.IsUnknown() || c.Reason != ReasonOutOfDate {
		t.Errorf("RoutesReady = %+v, want Unknown/OutOfDate", c)
	}
	if svc.Status.ObservedGeneration != 1 {
		t.Errorf("observedGeneration = %d, want 1", svc.Status.ObservedGeneration)
	}
	want := []string{`Normal Created Created Configuration "hello"`, `Normal Created Created Route "hello"`}
	for _, w := range want {
		if got := <-f.rec.Events; got != w {
			t.Errorf("event = %q, want %q", got, w)
		}
	}
}

func TestReconcile_ConfigurationNotOwned(t *testing.T) { // §1.3 step 1 NotOwned
	stranger := &servingv1.Configuration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hello", UID: "stranger"}}
	f := newFixture(t, newService("hello"), stranger)
	if err := f.reconcile(); err == nil {
		t.Errorf("Reconcile() = nil, want an error for a Configuration we do not own")
	}
	svc := get(t, f.c, "hello", &servingv1.Service{})
	c := cond(&svc.Status.Status, servingv1.ServiceConditionConfigurationsReady)
	if !c.IsFalse() || c.Reason != ReasonNotOwned || c.Message != `There is an existing Configuration "hello" that we do not own.` {
		t.Errorf("ConfigurationsReady = %+v, want False/NotOwned", c)
	}
	if r := cond(&svc.Status.Status, duck.ConditionReady); !r.IsFalse() {
		t.Errorf("Ready = %+v, want False", r)
	}
}

func TestReconcile_ClobbersDriftedChildren(t *testing.T) { // §1.3 step 1/4 clobber
	f := newFixture(t, newService("hello"))
	must(t, f.reconcile())
	cfg := get(t, f.c, "hello", &servingv1.Configuration{})
	cfg.Spec.Template.Spec.Containers[0].Image = "edited-by-hand"
	cfg.Labels["extra"] = "1"
	must(t, f.c.Update(context.Background(), cfg))
	rt := get(t, f.c, "hello", &servingv1.Route{})
	rt.Spec.Traffic[0].Percent = ptr.To[int64](50)
	must(t, f.c.Update(context.Background(), rt))

	must(t, f.reconcile())
	cfg = get(t, f.c, "hello", &servingv1.Configuration{})
	if img := cfg.Spec.Template.Spec.Containers[0].Image; img != "ko.local/hello:v1" {
		t.Errorf("configuration image after reconcile = %q, want the Service's", img)
	}
	if _, ok := cfg.Labels["extra"]; ok {
		t.Errorf("configuration keeps a hand-added label, want labels overwritten")
	}
	if p := *get(t, f.c, "hello", &servingv1.Route{}).Spec.Traffic[0].Percent; p != 100 {
		t.Errorf("route percent after reconcile = %d, want 100", p)
	}
}

// readyChildren puts the Configuration and Route into the state their reconcilers reach once
// hello-00001 serves.
func readyChildren(t *testing.T, c client.Client, latestReady string, statusRevision string) {
	t.Helper()
	ctx := context.Background()
	cfg := get(t, c, "hello", &servingv1.Configuration{})
	cfg.Status.ObservedGeneration = cfg.Generation
	cfg.Status.LatestCreatedRevisionName = latestReady
	cfg.Status.LatestReadyRevisionName = latestReady
	cfg.Status.Conditions = []duck.Condition{{Type: duck.ConditionReady, Status: corev1.ConditionTrue}}
	must(t, c.Status().Update(ctx, cfg))
	rt := get(t, c, "hello", &servingv1.Route{})
	rt.Status.ObservedGeneration = rt.Generation
	rt.Status.URL = "http://hello.demo.example.com"
	rt.Status.Address = &duck.Addressable{URL: "http://hello.demo.svc.cluster.local"}
	rt.Status.Traffic = []servingv1.TrafficTarget{{RevisionName: statusRevision, LatestRevision: ptr.To(true), Percent: ptr.To[int64](100)}}
	rt.Status.Conditions = []duck.Condition{{Type: duck.ConditionReady, Status: corev1.ConditionTrue}}
	must(t, c.Status().Update(ctx, rt))
}

func TestReconcile_PropagatesChildStatus(t *testing.T) { // §1.3 steps 2, 4, 5
	f := newFixture(t, newService("hello"))
	must(t, f.reconcile())
	readyChildren(t, f.c, "hello-00001", "hello-00001")
	must(t, f.reconcile())
	svc := get(t, f.c, "hello", &servingv1.Service{})
	if r := cond(&svc.Status.Status, duck.ConditionReady); !r.IsTrue() {
		t.Errorf("Ready = %+v, want True when ConfigurationsReady and RoutesReady are True", r)
	}
	if svc.Status.URL != "http://hello.demo.example.com" || svc.Status.Address == nil ||
		svc.Status.Address.URL != "http://hello.demo.svc.cluster.local" {
		t.Errorf("status url/address = %q/%+v, want the Route's", svc.Status.URL, svc.Status.Address)
	}
	if svc.Status.LatestReadyRevisionName != "hello-00001" || svc.Status.LatestCreatedRevisionName != "hello-00001" {
		t.Errorf("latestReady/latestCreated = %q/%q, want hello-00001", svc.Status.LatestReadyRevisionName, svc.Status.LatestCreatedRevisionName)
	}
	if len(svc.Status.Traffic) != 1 || svc.Status.Traffic[0].RevisionName != "hello-00001" {
		t.Errorf("status traffic = %+v, want the Route's", svc.Status.Traffic)
	}

	// The Config moved on to hello-00002 but the Route still serves hello-00001.
	readyChildren(t, f.c, "hello-00002", "hello-00001")
	must(t, f.reconcile())
	svc = get(t, f.c, "hello", &servingv1.Service{})
	c := cond(&svc.Status.Status, servingv1.ServiceConditionRoutesReady)
	if !c.IsUnknown() || c.Reason != ReasonTrafficNotMigrated || c.Message != "Traffic is not yet migrated to the latest revision." {
		t.Errorf("RoutesReady = %+v, want Unknown/TrafficNotMigrated", c)
	}
	if r := cond(&svc.Status.Status, duck.ConditionReady); !r.IsUnknown() {
		t.Errorf("Ready = %+v, want Unknown while traffic migrates", r)
	}

	// Level-triggered and idle: reconciling the same state later writes nothing (§1.7).
	f.clk.Step(time.Minute)
	must(t, f.reconcile())
	if again := get(t, f.c, "hello", &servingv1.Service{}); again.ResourceVersion != svc.ResourceVersion {
		t.Errorf("resourceVersion moved from %s to %s on a no-op reconcile", svc.ResourceVersion, again.ResourceVersion)
	}
}

func TestReconcile_ConfigurationOutOfDate(t *testing.T) { // §1.3 step 2 OutOfDate
	f := newFixture(t, newService("hello"))
	must(t, f.reconcile())
	readyChildren(t, f.c, "hello-00001", "hello-00001")
	cfg := get(t, f.c, "hello", &servingv1.Configuration{})
	cfg.Generation = 2
	must(t, f.c.Update(context.Background(), cfg))
	must(t, f.reconcile())
	svc := get(t, f.c, "hello", &servingv1.Service{})
	c := cond(&svc.Status.Status, servingv1.ServiceConditionConfigurationsReady)
	if !c.IsUnknown() || c.Reason != ReasonOutOfDate ||
		c.Message != "The Configuration is still working to reflect the latest desired specification." {
		t.Errorf("ConfigurationsReady = %+v, want Unknown/OutOfDate", c)
	}
}

func TestReconcile_RevisionNameTaken(t *testing.T) { // §1.3 step 3
	svc := newService("hello")
	svc.Spec.Template.Name = "hello-blue"
	taken := &servingv1.Revision{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hello-blue",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "serving.knative.dev/v1", Kind: "Configuration",
			Name: "other", UID: "other-uid", Controller: ptr.To(true)}}}}
	f := newFixture(t, svc, taken)
	must(t, f.reconcile())
	// The BYO name makes the Service wait for the Configuration to observe its generation.
	if err := f.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "hello"}, &servingv1.Route{}); err == nil {
		t.Errorf("Route created before the Configuration reconciled a BYO-named generation")
	}
	cfg := get(t, f.c, "hello", &servingv1.Configuration{})
	cfg.Status.ObservedGeneration = cfg.Generation
	must(t, f.c.Status().Update(context.Background(), cfg))
	must(t, f.reconcile())
	got := get(t, f.c, "hello", &servingv1.Service{})
	c := cond(&got.Status.Status, servingv1.ServiceConditionRoutesReady)
	want := `The revision name "hello-blue" is taken by a conflicting Revision, so traffic will not be migrated`
	if !c.IsFalse() || c.Reason != ReasonRevisionNameTaken || c.Message != want {
		t.Errorf("RoutesReady = %+v, want False/RevisionNameTaken/%q", c, want)
	}
	if err := f.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "hello"}, &servingv1.Route{}); err == nil {
		t.Errorf("Route created although the revision name is taken")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
