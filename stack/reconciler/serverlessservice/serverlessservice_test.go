//nolint:staticcheck // Knative reads and writes core/v1 Endpoints (§3.6); the pod runtime keeps them.
package serverlessservice

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/servingsim/servingsim/stack/apis"
	"github.com/servingsim/servingsim/stack/apis/duck"
	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/reconciler/serverlessservice/resources"
)

var (
	t0  = time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	key = types.NamespacedName{Namespace: "ns", Name: "hello-00001"}
)

func newSKS(mode netv1alpha1.ServerlessServiceOperationMode, numActivators int32) *netv1alpha1.ServerlessService {
	return &netv1alpha1.ServerlessService{
		ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace, UID: "sks-uid", Generation: 1},
		Spec: netv1alpha1.ServerlessServiceSpec{
			Mode: mode, NumActivators: numActivators, ProtocolType: "http1",
			ObjectRef: corev1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "hello-00001-deployment"},
		},
	}
}

func deployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "hello-00001-deployment", Namespace: "ns"},
		Spec:       appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{serving.RevisionUIDLabelKey: "rev-uid"}}},
	}
}

func endpoints(ns, name string, port int32, ips ...string) *corev1.Endpoints {
	eps := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if len(ips) > 0 {
		ss := corev1.EndpointSubset{Ports: []corev1.EndpointPort{{Name: "http", Port: port}, {Name: "https", Port: 8112}}}
		for _, ip := range ips {
			ss.Addresses = append(ss.Addresses, corev1.EndpointAddress{IP: ip})
		}
		eps.Subsets = []corev1.EndpointSubset{ss}
	}
	return eps
}

func activators(ips ...string) *corev1.Endpoints {
	return endpoints(serving.SystemNamespace, serving.ActivatorServiceName, 8012, ips...)
}

func private(ips ...string) *corev1.Endpoints {
	return endpoints("ns", "hello-00001-private", 8012, ips...)
}

type env struct {
	r     *Reconciler
	c     client.Client
	clock *clocktesting.FakeClock
}

func newEnv(t *testing.T, objs ...client.Object) *env {
	t.Helper()
	c := fake.NewClientBuilder().WithScheme(apis.NewScheme()).
		WithStatusSubresource(&netv1alpha1.ServerlessService{}).WithObjects(objs...).Build()
	clk := clocktesting.NewFakeClock(t0)
	return &env{r: &Reconciler{Client: c, Config: config.NewStore(), Clock: clk}, c: c, clock: clk}
}

func (e *env) reconcile(t *testing.T) {
	t.Helper()
	if _, err := e.r.Reconcile(context.Background(), reconcile.Request{NamespacedName: key}); err != nil {
		t.Fatalf("Reconcile = %v, want no error", err)
	}
}

func (e *env) sks(t *testing.T) *netv1alpha1.ServerlessService {
	t.Helper()
	s := &netv1alpha1.ServerlessService{}
	if err := e.c.Get(context.Background(), key, s); err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) publicIPs(t *testing.T) []string {
	t.Helper()
	eps := &corev1.Endpoints{}
	if err := e.c.Get(context.Background(), key, eps); err != nil {
		t.Fatalf("get public endpoints: %v", err)
	}
	var out []string
	for _, ss := range eps.Subsets {
		for _, a := range ss.Addresses {
			out = append(out, a.IP)
		}
		if len(ss.Ports) == 0 || ss.Ports[0].Name != "http" || ss.Ports[0].Port != 8012 {
			t.Errorf("public endpoints ports = %+v, want http:8012 first", ss.Ports)
		}
	}
	sort.Strings(out)
	return out
}

func wantCond(t *testing.T, st *duck.Status, typ duck.ConditionType, status corev1.ConditionStatus, reason string) {
	t.Helper()
	c := st.GetCondition(typ)
	if c == nil || c.Status != status || (reason != "" && c.Reason != reason) {
		t.Errorf("condition %s = %+v, want %s/%s", typ, c, status, reason)
	}
}

func TestSKSProxyUsesActivatorSubset_Section3_6(t *testing.T) {
	e := newEnv(t, newSKS(netv1alpha1.SKSOperationModeProxy, 2), deployment(), private(),
		activators("127.0.1.1", "127.0.1.2", "127.0.1.3", "127.0.1.4"))
	e.reconcile(t)

	pvt := &corev1.Service{}
	if err := e.c.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: "hello-00001-private"}, pvt); err != nil {
		t.Fatalf("get private service: %v", err)
	}
	if pvt.Spec.Selector[serving.RevisionUIDLabelKey] != "rev-uid" {
		t.Errorf("private selector = %v, want the Deployment's revisionUID selector", pvt.Spec.Selector)
	}
	pub := &corev1.Service{}
	if err := e.c.Get(context.Background(), key, pub); err != nil || pub.Spec.Selector != nil {
		t.Errorf("public service = %+v (err %v), want one without a selector", pub.Spec, err)
	}

	got := e.publicIPs(t)
	chosen := resources.ChooseSubset([]string{"127.0.1.1", "127.0.1.2", "127.0.1.3", "127.0.1.4"}, 2, key.Name)
	if len(got) != 2 {
		t.Fatalf("public endpoints = %v, want 2 activators", got)
	}
	for _, ip := range got {
		if _, ok := chosen[ip]; !ok {
			t.Errorf("public endpoint %s is not in the consistent-hash subset %v", ip, chosen)
		}
	}
	s := e.sks(t)
	if s.Status.ServiceName != "hello-00001" || s.Status.PrivateServiceName != "hello-00001-private" {
		t.Errorf("status names = %q/%q, want hello-00001/hello-00001-private", s.Status.ServiceName, s.Status.PrivateServiceName)
	}
	wantCond(t, &s.Status.Status, netv1alpha1.ServerlessServiceConditionEndpointsPopulated, corev1.ConditionUnknown, ReasonNoHealthyBackends)
	wantCond(t, &s.Status.Status, duck.ConditionReady, corev1.ConditionUnknown, ReasonNoHealthyBackends)
	wantCond(t, &s.Status.Status, netv1alpha1.ServerlessServiceConditionActivatorEndpointsPopulated, corev1.ConditionTrue, "")
	if pf := ProxyFor(s, t0.Add(5*time.Second)); pf != 5*time.Second {
		t.Errorf("ProxyFor 5s after entering proxy = %v, want 5s", pf)
	}
}

func TestSKSServeCopiesPrivateEndpoints_Section3_6(t *testing.T) {
	e := newEnv(t, newSKS(netv1alpha1.SKSOperationModeServe, 2), deployment(), private("127.0.0.10", "127.0.0.11"), activators("127.0.1.1"))
	e.reconcile(t)
	if got := e.publicIPs(t); fmt.Sprint(got) != "[127.0.0.10 127.0.0.11]" {
		t.Errorf("public endpoints in Serve = %v, want the pods", got)
	}
	s := e.sks(t)
	wantCond(t, &s.Status.Status, duck.ConditionReady, corev1.ConditionTrue, "")
	wantCond(t, &s.Status.Status, netv1alpha1.ServerlessServiceConditionActivatorEndpointsPopulated, corev1.ConditionFalse, "")
	if pf := ProxyFor(s, t0.Add(time.Hour)); pf != 0 {
		t.Errorf("ProxyFor in Serve = %v, want 0", pf)
	}
}

func TestSKSForcedModes_Section3_6(t *testing.T) {
	t.Run("Serve without ready pods falls back to the activator", func(t *testing.T) {
		e := newEnv(t, newSKS(netv1alpha1.SKSOperationModeServe, 2), deployment(), private(), activators("127.0.1.1"))
		e.reconcile(t)
		if got := e.publicIPs(t); fmt.Sprint(got) != "[127.0.1.1]" {
			t.Errorf("public endpoints = %v, want the activator", got)
		}
		wantCond(t, &e.sks(t).Status.Status, netv1alpha1.ServerlessServiceConditionActivatorEndpointsPopulated, corev1.ConditionTrue, "")
	})
	t.Run("Proxy without activators serves from the pods", func(t *testing.T) {
		e := newEnv(t, newSKS(netv1alpha1.SKSOperationModeProxy, 2), deployment(), private("127.0.0.10"))
		e.reconcile(t)
		if got := e.publicIPs(t); fmt.Sprint(got) != "[127.0.0.10]" {
			t.Errorf("public endpoints = %v, want the pod", got)
		}
		wantCond(t, &e.sks(t).Status.Status, netv1alpha1.ServerlessServiceConditionActivatorEndpointsPopulated, corev1.ConditionFalse, "")
	})
}

func TestSKSModeFlipUpdatesEndpointsAndKeepsProxyTime_Section3_6(t *testing.T) {
	e := newEnv(t, newSKS(netv1alpha1.SKSOperationModeProxy, 2), deployment(), private("127.0.0.10"), activators("127.0.1.1"))
	e.reconcile(t)
	if got := e.publicIPs(t); fmt.Sprint(got) != "[127.0.1.1]" {
		t.Errorf("public endpoints in Proxy = %v, want the activator", got)
	}
	e.clock.Step(10 * time.Second)
	e.reconcile(t) // nothing changed: the proxy clock keeps running
	if pf := ProxyFor(e.sks(t), e.clock.Now()); pf != 10*time.Second {
		t.Errorf("ProxyFor after a no-op reconcile = %v, want 10s", pf)
	}
	s := e.sks(t)
	s.Spec.Mode = netv1alpha1.SKSOperationModeServe
	if err := e.c.Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	e.reconcile(t)
	if got := e.publicIPs(t); fmt.Sprint(got) != "[127.0.0.10]" {
		t.Errorf("public endpoints after switching to Serve = %v, want the pod", got)
	}
}

func TestEndpointsToSKS(t *testing.T) {
	e := newEnv(t, newSKS(netv1alpha1.SKSOperationModeProxy, 2), deployment(), private(), activators())
	e.reconcile(t)
	ctx := context.Background()
	want := fmt.Sprint([]reconcile.Request{{NamespacedName: key}})
	if got := e.r.endpointsToSKS(ctx, activators()); fmt.Sprint(got) != want {
		t.Errorf("endpointsToSKS(activator) = %v, want %v", got, want)
	}
	if got := e.r.endpointsToSKS(ctx, private()); fmt.Sprint(got) != want {
		t.Errorf("endpointsToSKS(private) = %v, want %v", got, want)
	}
	pub := &corev1.Endpoints{}
	if err := e.c.Get(ctx, key, pub); err != nil {
		t.Fatal(err)
	}
	if got := e.r.endpointsToSKS(ctx, pub); fmt.Sprint(got) != want {
		t.Errorf("endpointsToSKS(public) = %v, want %v", got, want)
	}
	if got := e.r.endpointsToSKS(ctx, endpoints("ns", "unrelated", 80)); len(got) != 0 {
		t.Errorf("endpointsToSKS(unrelated) = %v, want none", got)
	}
}
