package labeler

import (
	"context"
	"testing"
	"time"

	"k8s.io/client-go/util/workqueue"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/servingsim/servingsim/stack/apis"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
)

func TestReconcile_LabelsRoutedAndReservesUnrouted(t *testing.T) { // knative-semantics.md §1.2 Labeler
	ctx := context.Background()
	hello := cfgObj("hello", 2, "hello-00002", "hello")
	r1, r2 := revObj("hello-00001", &hello, "1"), revObj("hello-00002", &hello, "2")
	r1.Labels[serving.RoutingStateLabelKey] = serving.RoutingStatePending
	r2.Labels[serving.RoutingStateLabelKey] = serving.RoutingStatePending
	route := routeObj("hello", "hello", []servingv1.TrafficTarget{
		{ConfigurationName: "hello", LatestRevision: ptr.To(true), Percent: ptr.To[int64](90)},
		{RevisionName: "hello-00001", LatestRevision: ptr.To(false), Percent: ptr.To[int64](10)},
	}, nil)
	c := fake.NewClientBuilder().WithScheme(apis.NewScheme()).
		WithStatusSubresource(&servingv1.Route{}, &servingv1.Configuration{}, &servingv1.Revision{}).
		WithObjects(&hello, &r1, &r2, &route).Build()
	clk := clocktesting.NewFakeClock(t0)
	r := &Reconciler{Client: c, Config: config.NewStore(), Clock: clk}

	if _, err := r.Reconcile(ctx, NamespaceRequest(ns)); err != nil {
		t.Fatalf("Reconcile() = %v", err)
	}
	var cfg servingv1.Configuration
	must(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "hello"}, &cfg))
	if got := cfg.Annotations[serving.RoutesAnnotationKey]; got != "hello" {
		t.Errorf("configuration routes annotation = %q, want %q", got, "hello")
	}
	for _, name := range []string{"hello-00001", "hello-00002"} {
		rev := getRev(t, c, name)
		if got := rev.Labels[serving.RoutingStateLabelKey]; got != serving.RoutingStateActive {
			t.Errorf("%s routingState = %q, want active", name, got)
		}
		if got := rev.Annotations[serving.RoutesAnnotationKey]; got != "hello" {
			t.Errorf("%s routes annotation = %q, want hello", name, got)
		}
		if got, want := rev.Annotations[serving.RoutingStateModifiedAnnotationKey], RoutingStateModified(t0); got != want {
			t.Errorf("%s routingStateModified = %q, want %q", name, got, want)
		}
	}

	// Drop the pinned 10%: hello-00001 is no longer referenced and goes to reserve.
	clk.SetTime(t0.Add(time.Minute))
	var rt servingv1.Route
	must(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "hello"}, &rt))
	rt.Spec.Traffic = rt.Spec.Traffic[:1]
	rt.Spec.Traffic[0].Percent = ptr.To[int64](100)
	must(t, c.Update(ctx, &rt))
	if _, err := r.Reconcile(ctx, NamespaceRequest(ns)); err != nil {
		t.Fatalf("Reconcile() = %v", err)
	}
	old := getRev(t, c, "hello-00001")
	if got := old.Labels[serving.RoutingStateLabelKey]; got != serving.RoutingStateReserve {
		t.Errorf("unreferenced hello-00001 routingState = %q, want reserve", got)
	}
	if _, ok := old.Annotations[serving.RoutesAnnotationKey]; ok {
		t.Errorf("unreferenced hello-00001 keeps routes annotation %q, want removed", old.Annotations[serving.RoutesAnnotationKey])
	}
	if got, want := old.Annotations[serving.RoutingStateModifiedAnnotationKey], RoutingStateModified(t0.Add(time.Minute)); got != want {
		t.Errorf("hello-00001 routingStateModified = %q, want %q", got, want)
	}
	if got, want := getRev(t, c, "hello-00002").Annotations[serving.RoutingStateModifiedAnnotationKey], RoutingStateModified(t0); got != want {
		t.Errorf("still-active hello-00002 routingStateModified = %q, want unchanged %q", got, want)
	}

	// Delete the Route: the Configuration loses the annotation, every revision is reserve.
	must(t, c.Delete(ctx, &rt))
	if _, err := r.Reconcile(ctx, NamespaceRequest(ns)); err != nil {
		t.Fatalf("Reconcile() = %v", err)
	}
	must(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "hello"}, &cfg))
	if v, ok := cfg.Annotations[serving.RoutesAnnotationKey]; ok {
		t.Errorf("configuration routes annotation = %q after route deletion, want removed", v)
	}
	if got := getRev(t, c, "hello-00002").Labels[serving.RoutingStateLabelKey]; got != serving.RoutingStateReserve {
		t.Errorf("hello-00002 routingState after route deletion = %q, want reserve", got)
	}
}

func getRev(t *testing.T, c client.Client, name string) *servingv1.Revision {
	t.Helper()
	rev := &servingv1.Revision{}
	must(t, c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, rev))
	return rev
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A burst of events in one namespace costs one recompute of the namespace, not one per event.
func TestCoalescedByNamespace_OneRequestPerNamespaceBurst(t *testing.T) {
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	h := coalescedByNamespace(500 * time.Millisecond)
	ctx := context.Background()
	for _, name := range []string{"a-00001", "b-00001", "c-00001"} {
		rev := &servingv1.Revision{}
		rev.Namespace, rev.Name = ns, name
		h.Create(ctx, event.CreateEvent{Object: rev}, q)
	}
	other := &servingv1.Route{}
	other.Namespace, other.Name = "other", "hello"
	h.Update(ctx, event.UpdateEvent{ObjectOld: other, ObjectNew: other}, q)
	if n := q.Len(); n != 0 {
		t.Fatalf("queue length right after the events = %d, want 0: requests wait for more events", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for q.Len() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // nothing more may arrive
	if n := q.Len(); n != 2 {
		t.Errorf("queue length = %d, want 2 (one per namespace)", n)
	}
}
