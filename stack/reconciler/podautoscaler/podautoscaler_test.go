package podautoscaler

import (
	"context"
	"errors"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/servingsim/servingsim/stack/apis"
	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/duck"
	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/kmeta"
	"github.com/servingsim/servingsim/stack/reconciler/podautoscaler/resources"
)

var (
	t0  = time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	key = types.NamespacedName{Namespace: "ns", Name: "hello-00001"}
)

// fakeDecider returns a fixed decision and records what it was asked.
type fakeDecider struct {
	decision autoscaler.Decision
	specs    []autoscaler.DeciderSpec
	deleted  []types.NamespacedName
}

func (f *fakeDecider) Update(_ context.Context, _ types.NamespacedName, spec autoscaler.DeciderSpec) (autoscaler.Decision, error) {
	f.specs = append(f.specs, spec)
	return f.decision, nil
}

func (f *fakeDecider) Delete(k types.NamespacedName) { f.deleted = append(f.deleted, k) }

func newPA(annos map[string]string) *autoscalingv1alpha1.PodAutoscaler {
	return &autoscalingv1alpha1.PodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{
			Name: key.Name, Namespace: key.Namespace, UID: "pa-uid", Generation: 1,
			Labels:      map[string]string{serving.RevisionLabelKey: key.Name, serving.RevisionUIDLabelKey: "rev-uid"},
			Annotations: annos,
		},
		Spec: autoscalingv1alpha1.PodAutoscalerSpec{
			ScaleTargetRef: corev1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "hello-00001-deployment"},
			ProtocolType:   autoscalingv1alpha1.ProtocolHTTP1,
			Reachability:   autoscalingv1alpha1.ReachabilityReachable,
		},
	}
}

func newDeployment(replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "hello-00001-deployment", Namespace: "ns"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{serving.RevisionUIDLabelKey: "rev-uid"}},
		},
	}
}

// readySKS is the PA's SKS as the SKS reconciler leaves it once it has its Services.
func readySKS(pa *autoscalingv1alpha1.PodAutoscaler, mode netv1alpha1.ServerlessServiceOperationMode, ready bool) *netv1alpha1.ServerlessService {
	sks := resources.MakeSKS(pa, mode, 2)
	sks.Status.PrivateServiceName = kmeta.PrivateServiceName(sks.Name)
	sks.Status.ServiceName = sks.Name
	st := corev1.ConditionUnknown
	if ready {
		st = corev1.ConditionTrue
	}
	sks.Status.Conditions = []duck.Condition{
		{Type: duck.ConditionReady, Status: st, Message: "K8s Service is not ready"},
		{Type: netv1alpha1.ServerlessServiceConditionEndpointsPopulated, Status: st},
	}
	return sks
}

func pod(name string, ready bool) *corev1.Pod {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{serving.RevisionLabelKey: key.Name}},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}},
	}
}

type env struct {
	r       *Reconciler
	c       client.Client
	clock   *clocktesting.FakeClock
	decider *fakeDecider
}

func newEnv(t *testing.T, decision autoscaler.Decision, objs ...client.Object) *env {
	t.Helper()
	c := fake.NewClientBuilder().WithScheme(apis.NewScheme()).
		WithStatusSubresource(&autoscalingv1alpha1.PodAutoscaler{}, &netv1alpha1.ServerlessService{}, &autoscalingv1alpha1.Metric{}).
		WithObjects(objs...).Build()
	clk := clocktesting.NewFakeClock(t0)
	d := &fakeDecider{decision: decision}
	return &env{r: &Reconciler{Client: c, Config: config.NewStore(), Clock: clk, Decider: d}, c: c, clock: clk, decider: d}
}

func (e *env) reconcileAt(t *testing.T, at time.Duration) reconcile.Result {
	t.Helper()
	e.clock.SetTime(t0.Add(at))
	res, err := e.r.Reconcile(context.Background(), reconcile.Request{NamespacedName: key})
	if err != nil {
		t.Fatalf("Reconcile at +%v = %v, want no error", at, err)
	}
	return res
}

func (e *env) pa(t *testing.T) *autoscalingv1alpha1.PodAutoscaler {
	t.Helper()
	pa := &autoscalingv1alpha1.PodAutoscaler{}
	if err := e.c.Get(context.Background(), key, pa); err != nil {
		t.Fatalf("get pa: %v", err)
	}
	return pa
}

func (e *env) sks(t *testing.T) *netv1alpha1.ServerlessService {
	t.Helper()
	sks := &netv1alpha1.ServerlessService{}
	if err := e.c.Get(context.Background(), key, sks); err != nil {
		t.Fatalf("get sks: %v", err)
	}
	return sks
}

func (e *env) replicas(t *testing.T) int32 {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := e.c.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: "hello-00001-deployment"}, d); err != nil {
		t.Fatalf("get deployment: %v", err)
	}
	return *d.Spec.Replicas
}

func wantCond(t *testing.T, st *duck.Status, typ duck.ConditionType, status corev1.ConditionStatus, reason string) {
	t.Helper()
	c := st.GetCondition(typ)
	if c == nil || c.Status != status || (reason != "" && c.Reason != reason) {
		t.Errorf("condition %s = %+v, want %s/%s", typ, c, status, reason)
	}
}

func initial() autoscaler.Decision {
	return autoscaler.InitialDecision(autoscaler.MakeDeciderSpec(newPA(nil), config.DefaultAutoscaler()))
}

func TestPACreatesSKSInProxyUntilPrivateService_Section3_5_1(t *testing.T) {
	e := newEnv(t, initial(), newPA(nil), newDeployment(1))
	e.reconcileAt(t, 0)

	sks := e.sks(t)
	if sks.Spec.Mode != netv1alpha1.SKSOperationModeProxy || sks.Spec.NumActivators != 2 {
		t.Errorf("sks spec = %+v, want Proxy with 2 activators", sks.Spec)
	}
	if !kmeta.IsControlledBy(sks, e.pa(t)) {
		t.Errorf("sks owner = %v, want the PA", sks.OwnerReferences)
	}
	pa := e.pa(t)
	wantCond(t, &pa.Status.Status, autoscalingv1alpha1.PodAutoscalerConditionSKSReady, corev1.ConditionUnknown, ReasonSKSNotReady)
	if c := pa.Status.GetCondition(autoscalingv1alpha1.PodAutoscalerConditionSKSReady); c.Message != MessageNoPrivateServiceName {
		t.Errorf("SKSReady message = %q, want %q", c.Message, MessageNoPrivateServiceName)
	}
	wantCond(t, &pa.Status.Status, autoscalingv1alpha1.PodAutoscalerConditionActive, corev1.ConditionUnknown, ReasonQueued)
	if len(e.decider.specs) != 0 {
		t.Errorf("decider consulted %d times before the SKS has a private service, want 0", len(e.decider.specs))
	}
	if err := e.c.Get(context.Background(), key, &autoscalingv1alpha1.Metric{}); err == nil {
		t.Errorf("metric exists before the SKS has a private service, want none")
	}
}

func TestPACreatesMetricAndKeepsProxyWithInitialDecision_Section3_5(t *testing.T) {
	pa := newPA(nil)
	e := newEnv(t, initial(), pa, newDeployment(1), readySKS(pa, netv1alpha1.SKSOperationModeProxy, false))
	e.reconcileAt(t, 0)

	m := &autoscalingv1alpha1.Metric{}
	if err := e.c.Get(context.Background(), key, m); err != nil {
		t.Fatalf("get metric: %v", err)
	}
	if m.Spec.StableWindow.Duration != time.Minute || m.Spec.PanicWindow.Duration != 6*time.Second || m.Spec.ScrapeTarget != "hello-00001-private" {
		t.Errorf("metric spec = %+v, want 60s/6s scraping hello-00001-private", m.Spec)
	}
	sks := e.sks(t)
	if sks.Spec.Mode != netv1alpha1.SKSOperationModeProxy || sks.Spec.NumActivators != 3 {
		t.Errorf("sks spec = %+v, want Proxy (EBC −111) with ceil(211/100)=3 activators", sks.Spec)
	}
	got := e.pa(t)
	if got.Status.MetricsServiceName != "hello-00001-private" || got.Status.ServiceName != "hello-00001" {
		t.Errorf("pa status names = %q/%q, want hello-00001-private/hello-00001", got.Status.MetricsServiceName, got.Status.ServiceName)
	}
	if *got.Status.DesiredScale != -1 || *got.Status.ActualScale != 0 {
		t.Errorf("desired/actual = %d/%d, want -1/0", *got.Status.DesiredScale, *got.Status.ActualScale)
	}
	if e.replicas(t) != 1 {
		t.Errorf("replicas = %d, want 1 untouched while the decider has no data", e.replicas(t))
	}
}

func TestPAReadyPodsInitializeScaleTarget_Section3_5_7(t *testing.T) {
	pa := newPA(nil)
	terminating := pod("p3", true)
	terminating.DeletionTimestamp = ptr.To(metav1.NewTime(t0))
	terminating.Finalizers = []string{"keep"}
	pending := pod("p4", true)
	pending.Status.Phase = corev1.PodPending
	e := newEnv(t, initial(), pa, newDeployment(1), readySKS(pa, netv1alpha1.SKSOperationModeProxy, true),
		pod("p1", true), pod("p2", false), terminating, pending)
	e.reconcileAt(t, 0)

	got := e.pa(t)
	if *got.Status.ActualScale != 1 {
		t.Errorf("actualScale = %d, want 1 (only Ready, Running, not terminating pods count)", *got.Status.ActualScale)
	}
	wantCond(t, &got.Status.Status, autoscalingv1alpha1.PodAutoscalerConditionScaleTargetInitialized, corev1.ConditionTrue, "")
	wantCond(t, &got.Status.Status, autoscalingv1alpha1.PodAutoscalerConditionActive, corev1.ConditionTrue, "")
	wantCond(t, &got.Status.Status, autoscalingv1alpha1.PodAutoscalerConditionSKSReady, corev1.ConditionTrue, "")
	wantCond(t, &got.Status.Status, duck.ConditionReady, corev1.ConditionTrue, "")
}

func TestPAMinScaleAndInitialScaleBounds_Section3_5_3(t *testing.T) {
	cases := []struct {
		name  string
		annos map[string]string
		reach autoscalingv1alpha1.ReachabilityType
		want  int32
	}{
		{"min-scale raises an activating PA", map[string]string{serving.MinScaleAnnotationKey: "3"}, autoscalingv1alpha1.ReachabilityReachable, 3},
		{"min-scale ignored while Unreachable", map[string]string{serving.MinScaleAnnotationKey: "3"}, autoscalingv1alpha1.ReachabilityUnreachable, 1},
		{"initial-scale holds until initialized", map[string]string{serving.InitialScaleAnnotationKey: "4"}, autoscalingv1alpha1.ReachabilityReachable, 4},
		{"max-scale caps min-scale", map[string]string{serving.MinScaleAnnotationKey: "5", serving.MaxScaleAnnotationKey: "2"}, autoscalingv1alpha1.ReachabilityReachable, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pa := newPA(c.annos)
			pa.Spec.Reachability = c.reach
			e := newEnv(t, initial(), pa, newDeployment(1), readySKS(pa, netv1alpha1.SKSOperationModeProxy, false))
			e.reconcileAt(t, 0)
			if got := e.replicas(t); got != c.want {
				t.Errorf("replicas = %d, want %d", got, c.want)
			}
		})
	}
}

func TestPAServeModeNeedsWantAndEBC_Section3_5_5(t *testing.T) {
	pa := newPA(nil)
	e := newEnv(t, autoscaler.Decision{DesiredScale: 3, ExcessBurstCapacity: 89}, pa, newDeployment(1),
		readySKS(pa, netv1alpha1.SKSOperationModeProxy, true), pod("p1", true), pod("p2", true), pod("p3", true))
	e.reconcileAt(t, 0)
	if sks := e.sks(t); sks.Spec.Mode != netv1alpha1.SKSOperationModeServe || sks.Spec.NumActivators != 6 {
		t.Errorf("sks spec = %+v, want Serve with ceil((3×100+211)/100)=6 activators", sks.Spec)
	}
	if e.replicas(t) != 3 {
		t.Errorf("replicas = %d, want the decider's 3", e.replicas(t))
	}
	if got := e.pa(t); *got.Status.DesiredScale != 3 {
		t.Errorf("desiredScale = %d, want 3", *got.Status.DesiredScale)
	}

	// A decider restart reports -1; the recorded desired scale is kept.
	e.decider.decision = autoscaler.Decision{DesiredScale: -1, ExcessBurstCapacity: -111}
	e.reconcileAt(t, time.Second)
	got := e.pa(t)
	if *got.Status.DesiredScale != 3 {
		t.Errorf("desiredScale after a transient -1 = %d, want 3 kept", *got.Status.DesiredScale)
	}
	if e.sks(t).Spec.Mode != netv1alpha1.SKSOperationModeProxy {
		t.Errorf("sks mode with want -1 = %s, want Proxy", e.sks(t).Spec.Mode)
	}
}

func setActivatorEndpointsSince(t *testing.T, e *env, at time.Duration) {
	t.Helper()
	sks := e.sks(t)
	sks.Status.Conditions = append(sks.Status.Conditions, duck.Condition{
		Type: netv1alpha1.ServerlessServiceConditionActivatorEndpointsPopulated, Status: corev1.ConditionTrue,
		Severity: duck.ConditionSeverityInfo, LastTransitionTime: metav1.NewTime(t0.Add(at)),
	})
	if err := e.c.Status().Update(context.Background(), sks); err != nil {
		t.Fatal(err)
	}
}

func TestPAScaleToZeroAfterStableWindowAndGrace_Section3_5_4(t *testing.T) {
	pa := newPA(nil)
	e := newEnv(t, autoscaler.Decision{DesiredScale: 1, ExcessBurstCapacity: 0}, pa, newDeployment(1),
		readySKS(pa, netv1alpha1.SKSOperationModeServe, true), pod("p1", true))
	e.reconcileAt(t, 0)
	wantCond(t, &e.pa(t).Status.Status, autoscalingv1alpha1.PodAutoscalerConditionActive, corev1.ConditionTrue, "")

	e.decider.decision = autoscaler.Decision{DesiredScale: 0, ExcessBurstCapacity: 0}
	// Active for 10s of a 60s stable window: hold one pod and come back for the rest.
	if res := e.reconcileAt(t, 10*time.Second); res.RequeueAfter != 50*time.Second {
		t.Errorf("RequeueAfter while active 10s = %v, want 50s", res.RequeueAfter)
	}
	if e.replicas(t) != 1 {
		t.Errorf("replicas while active = %d, want 1", e.replicas(t))
	}
	wantCond(t, &e.pa(t).Status.Status, autoscalingv1alpha1.PodAutoscalerConditionActive, corev1.ConditionTrue, "")

	// Active for the whole window: PA goes inactive, SKS goes to Proxy, pods stay for now.
	e.reconcileAt(t, 60*time.Second)
	wantCond(t, &e.pa(t).Status.Status, autoscalingv1alpha1.PodAutoscalerConditionActive, corev1.ConditionFalse, ReasonNoTraffic)
	if e.sks(t).Spec.Mode != netv1alpha1.SKSOperationModeProxy {
		t.Errorf("sks mode when inactive = %s, want Proxy", e.sks(t).Spec.Mode)
	}
	if e.replicas(t) != 1 {
		t.Errorf("replicas right after going inactive = %d, want 1", e.replicas(t))
	}

	// The SKS reconciler put the activator in the path at +62s.
	setActivatorEndpointsSince(t, e, 62*time.Second)
	if res := e.reconcileAt(t, 70*time.Second); res.RequeueAfter != 22*time.Second {
		t.Errorf("RequeueAfter with 8s in proxy = %v, want grace 30s − 8s = 22s", res.RequeueAfter)
	}
	if e.replicas(t) != 1 {
		t.Errorf("replicas before the grace period = %d, want 1", e.replicas(t))
	}
	e.reconcileAt(t, 92*time.Second)
	if e.replicas(t) != 0 {
		t.Errorf("replicas after inactive 32s ≥ grace = %d, want 0", e.replicas(t))
	}
	got := e.pa(t)
	if *got.Status.DesiredScale != 0 {
		t.Errorf("desiredScale = %d, want 0", *got.Status.DesiredScale)
	}
}

func TestPAScaleToZeroHonoursPodRetention_Section3_5_4(t *testing.T) {
	pa := newPA(map[string]string{serving.ScaleToZeroPodRetentionAnnotationKey: "2m"})
	e := newEnv(t, autoscaler.Decision{DesiredScale: 1}, pa, newDeployment(1), readySKS(pa, netv1alpha1.SKSOperationModeServe, true), pod("p1", true))
	e.reconcileAt(t, 0)
	e.decider.decision = autoscaler.Decision{DesiredScale: 0}
	e.reconcileAt(t, 60*time.Second) // inactive from here
	setActivatorEndpointsSince(t, e, 60*time.Second)
	if res := e.reconcileAt(t, 100*time.Second); res.RequeueAfter != 80*time.Second || e.replicas(t) != 1 {
		t.Errorf("inactive 40s of 2m retention: RequeueAfter=%v replicas=%d, want 80s and 1", res.RequeueAfter, e.replicas(t))
	}
	e.reconcileAt(t, 180*time.Second)
	if e.replicas(t) != 0 {
		t.Errorf("replicas after the retention period = %d, want 0", e.replicas(t))
	}
}

func TestPAScaleToZeroWaitsForActivatorProbe_Section3_5_4(t *testing.T) {
	pa := newPA(nil)
	e := newEnv(t, autoscaler.Decision{DesiredScale: 1}, pa, newDeployment(1), readySKS(pa, netv1alpha1.SKSOperationModeServe, true), pod("p1", true))
	probed := 0
	e.r.ActivatorProbe = func(context.Context, *autoscalingv1alpha1.PodAutoscaler) (bool, error) {
		probed++
		return false, errors.New("connection refused")
	}
	e.reconcileAt(t, 0)
	e.decider.decision = autoscaler.Decision{DesiredScale: 0}
	e.reconcileAt(t, 60*time.Second)
	setActivatorEndpointsSince(t, e, 60*time.Second)
	res := e.reconcileAt(t, 200*time.Second)
	if e.replicas(t) != 1 || res.RequeueAfter != ActivatorProbeRetry || probed == 0 {
		t.Errorf("probe failing: replicas=%d RequeueAfter=%v probes=%d, want 1, %v, >0", e.replicas(t), res.RequeueAfter, probed, ActivatorProbeRetry)
	}
	e.r.ActivatorProbe = func(context.Context, *autoscalingv1alpha1.PodAutoscaler) (bool, error) { return true, nil }
	e.reconcileAt(t, 201*time.Second)
	if e.replicas(t) != 0 {
		t.Errorf("replicas once the activator answers = %d, want 0", e.replicas(t))
	}
}

func TestPAScaleToZeroDisabledKeepsOne_Section3_5_4(t *testing.T) {
	pa := newPA(nil)
	e := newEnv(t, autoscaler.Decision{DesiredScale: 0}, pa, newDeployment(3), readySKS(pa, netv1alpha1.SKSOperationModeServe, true), pod("p1", true))
	if err := e.r.Config.Update(config.AutoscalerConfigName, map[string]string{"enable-scale-to-zero": "false"}); err != nil {
		t.Fatal(err)
	}
	e.reconcileAt(t, 0)
	if e.replicas(t) != 1 {
		t.Errorf("replicas with enable-scale-to-zero=false and want 0 = %d, want 1", e.replicas(t))
	}
}

func TestPAActivationTimesOut_Section3_5_4(t *testing.T) {
	pa := newPA(nil)
	e := newEnv(t, initial(), pa, newDeployment(1), readySKS(pa, netv1alpha1.SKSOperationModeProxy, false))
	e.reconcileAt(t, 0)
	wantCond(t, &e.pa(t).Status.Status, autoscalingv1alpha1.PodAutoscalerConditionActive, corev1.ConditionUnknown, ReasonQueued)
	res := e.reconcileAt(t, 10*time.Minute)
	if e.replicas(t) != 1 || res.RequeueAfter <= 0 {
		t.Errorf("activating 10m: replicas=%d RequeueAfter=%v, want 1 and a requeue at the 630s timeout", e.replicas(t), res.RequeueAfter)
	}
	e.reconcileAt(t, 10*time.Minute+res.RequeueAfter)
	if e.replicas(t) != 0 {
		t.Errorf("replicas after progress-deadline + 30s = %d, want 0", e.replicas(t))
	}
	wantCond(t, &e.pa(t).Status.Status, autoscalingv1alpha1.PodAutoscalerConditionActive, corev1.ConditionFalse, ReasonTimedOut)
}

func TestPADeletedForgetsDecider_Section3_5(t *testing.T) {
	e := newEnv(t, initial())
	e.reconcileAt(t, 0)
	if len(e.decider.deleted) != 1 || e.decider.deleted[0] != key {
		t.Errorf("decider deletes = %v, want [%v]", e.decider.deleted, key)
	}
}

func TestStaticDeciderReturnsInitialDecision_Section3_4(t *testing.T) {
	spec := autoscaler.MakeDeciderSpec(newPA(nil), config.DefaultAutoscaler())
	got, err := StaticDecider{}.Update(context.Background(), key, spec)
	if err != nil || got != (autoscaler.Decision{DesiredScale: -1, ExcessBurstCapacity: -111}) {
		t.Errorf("StaticDecider.Update = %+v, %v, want {-1 -111}", got, err)
	}
}
