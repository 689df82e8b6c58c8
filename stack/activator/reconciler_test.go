//nolint:staticcheck // the activator reads core/v1 Endpoints
package activator

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/servingsim/servingsim/stack/apis"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/podruntime"
)

func revision(cc int64) *servingv1.Revision {
	return &servingv1.Revision{
		ObjectMeta: metav1.ObjectMeta{Namespace: revA.Namespace, Name: revA.Name},
		Spec:       servingv1.RevisionSpec{ContainerConcurrency: ptr.To(cc), TimeoutSeconds: ptr.To[int64](30), IdleTimeoutSeconds: ptr.To[int64](5)},
	}
}

// endpoints builds Endpoints as the API server holds them: 10.x stand-ins of loopback IPs.
func endpoints(name, serviceType string, loopbackIPs ...string) *corev1.Endpoints {
	ss := corev1.EndpointSubset{Ports: []corev1.EndpointPort{{Name: "http", Port: serving.QueueHTTPPort}}}
	for _, ip := range loopbackIPs {
		ss.Addresses = append(ss.Addresses, corev1.EndpointAddress{IP: podruntime.EndpointIP(ip)})
	}
	return &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Namespace: revA.Namespace, Name: name,
			Labels: map[string]string{serving.RevisionLabelKey: revA.Name, serving.ServiceTypeKey: serviceType}},
		Subsets: []corev1.EndpointSubset{ss},
	}
}

func TestRevisionOfEndpoints(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   bool
	}{
		{"private", map[string]string{serving.RevisionLabelKey: "r", serving.ServiceTypeKey: serving.ServiceTypePrivate}, true},
		{"public", map[string]string{serving.RevisionLabelKey: "r", serving.ServiceTypeKey: serving.ServiceTypePublic}, true},
		{"no service type", map[string]string{serving.RevisionLabelKey: "r"}, false},
		{"no revision", map[string]string{serving.ServiceTypeKey: serving.ServiceTypePrivate}, false},
	} {
		o := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "x", Labels: tc.labels}}
		key, ok := revisionOfEndpoints(o)
		if ok != tc.want || (ok && (key.Name != "r" || key.Namespace != "ns")) {
			t.Errorf("%s: revisionOfEndpoints = %v, %v, want %v", tc.name, key, ok, tc.want)
		}
	}
}

// The reconciler feeds the activator the Revision, the private Endpoints' ready pods (probed
// before use) and its index from the public Endpoints (§4), and forgets deleted revisions.
func TestBackendsReconciler_Section4(t *testing.T) {
	self := nextIP()
	peer := "127.0.1.1" // sorts before self (127.204.x.y): self is activator 1 of 2
	e := newTestEnv(t, Options{Address: self})
	p1, p2, p3 := startFakePod(t, okHandler), startFakePod(t, okHandler), startFakePod(t, okHandler)
	for _, p := range []*fakePod{p1, p2, p3} {
		e.register(p)
	}
	c := fake.NewClientBuilder().WithScheme(apis.NewScheme()).WithObjects(
		revision(10),
		endpoints(revA.Name+"-private", serving.ServiceTypePrivate, p1.ip, p2.ip, p3.ip),
		endpoints(revA.Name, serving.ServiceTypePublic, self, peer),
	).Build()
	e.a.reader = c
	r := &backendsReconciler{reader: c, a: e.a}
	ctx := context.Background()
	if _, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: revA}); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	e.waitHealthy(t, revA, 3)
	s := e.state(t, revA)
	// 3 pods over 2 activators: activator 1 gets the slice [1, 2) and no remainder.
	if s.ActivatorIndex != 1 || s.NumActivators != 2 || s.AssignedPods != 1 || s.Capacity != 10 || s.ContainerConcurrency != 10 {
		t.Errorf("state = %+v, want activator 1 of 2 with 1 of 3 pods, capacity 10", s)
	}
	info := e.a.revisions[revA]
	if info.timeouts != (timeouts{total: 30e9, idle: 5e9}) {
		t.Errorf("timeouts = %+v, want 30s total, 5s idle from the Revision", info.timeouts)
	}
	if r := e.get(revA, "/", nil); r.code != http.StatusOK {
		t.Errorf("GET through the reconciled revision = %d %q", r.code, r.body)
	}

	// Serve mode: the public Endpoints list pods; the last index stays.
	pub := &corev1.Endpoints{}
	if err := c.Get(ctx, revA, pub); err != nil {
		t.Fatal(err)
	}
	pub.Subsets = endpoints(revA.Name, serving.ServiceTypePublic, p1.ip).Subsets
	if err := c.Update(ctx, pub); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: revA}); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	if s := e.state(t, revA); s.ActivatorIndex != 1 || s.NumActivators != 2 {
		t.Errorf("index after Serve mode = %d/%d, want the previous 1/2", s.ActivatorIndex, s.NumActivators)
	}

	if err := c.Delete(ctx, revision(10)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: revA}); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	if snap := e.a.Snapshot(); len(snap) != 0 {
		t.Errorf("Snapshot after the revision was deleted = %+v, want empty", snap)
	}
	if r := e.get(revA, "/", nil); r.code != http.StatusNotFound {
		t.Errorf("GET deleted revision = %d %q, want 404", r.code, r.body)
	}
}

// A revision the controller has not seen yet is found in the cache by the context handler.
func TestLookupRevision_FallsBackToCache(t *testing.T) {
	e := newTestEnv(t, Options{})
	e.a.reader = fake.NewClientBuilder().WithScheme(apis.NewScheme()).WithObjects(revision(0)).Build()
	info, err := e.a.lookupRevision(context.Background(), revA)
	if err != nil || info.key != revA || info.timeouts.total != 30e9 {
		t.Errorf("lookupRevision = %+v, %v, want it from the cache", info, err)
	}
}

var setupRuns atomic.Int32

// Two activators register on one manager: distinct controller names, even with controller
// name validation on.
func TestSetupWithManager_TwoActivators(t *testing.T) {
	mgr, err := ctrl.NewManager(&rest.Config{Host: "http://127.0.0.1:1"}, ctrl.Options{
		Scheme:                 apis.NewScheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}
	run := setupRuns.Add(1) // controller names are checked process-wide: unique per run
	for _, name := range []string{fmt.Sprintf("activator-%d-0", run), fmt.Sprintf("activator-%d-1", run)} {
		a, err := New(Options{Name: name, Address: nextIP()})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.SetupWithManager(mgr); err != nil {
			t.Errorf("SetupWithManager(%s) = %v", name, err)
		}
		a.Close()
	}
}
