package kpa

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/servingsim/servingsim/stack/apis"
	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/config"
)

func TestUpdate_NewScalerStartsInPanicWithReadyPods_Section3_4(t *testing.T) {
	for _, c := range []struct {
		ready     int
		panicking bool
	}{{0, false}, {1, false}, {3, true}} {
		e := newEnv(t, readyPods(c.ready, t0)...)
		spec := defaultSpec(nil)
		d := e.update(t, spec)
		if want := autoscaler.InitialDecision(spec); d != want || d.DesiredScale != -1 || d.ExcessBurstCapacity != -111 {
			t.Errorf("ready %d: first Update = %+v, want the initial decision {-1 -111}", c.ready, d)
		}
		rev := e.rev(t)
		if got := rev.scaler.Panicking(); got != c.panicking {
			t.Errorf("ready %d: new scaler panicking = %v, want %v", c.ready, got, c.panicking)
		}
	}
}

func TestUpdate_KeepsTheScalerAndReturnsItsDecision(t *testing.T) {
	e := newEnv(t)
	e.update(t, defaultSpec(nil))
	e.k.RecordStat(key, autoscaler.Stat{AverageConcurrency: 140})
	e.k.decide(e.rev(t), t0, 1)
	spec := defaultSpec(func(s *autoscaler.DeciderSpec) { s.TargetValue = 10 })
	if d := e.update(t, spec); d.DesiredScale != 2 {
		t.Errorf("Update after a decision of 2 = %+v, want the standing decision", d)
	}
	if got := e.rev(t).scaler.Spec().TargetValue; got != 10 {
		t.Errorf("scaler target after Update = %v, want 10", got)
	}
}

func TestDecide_PokesOnNewScaleOrEBCSignFlip_Section3_4(t *testing.T) {
	e := newEnv(t)
	// maxDown 0, so the ready count moves only the EBC.
	e.update(t, defaultSpec(func(s *autoscaler.DeciderSpec) { s.MaxScaleDownRate = 1000 }))
	rev := e.rev(t)

	e.k.decide(rev, t0, 1)
	if n := e.pokes.count(); n != 0 {
		t.Fatalf("tick without data poked %d times, want none", n)
	}
	e.k.RecordStat(key, autoscaler.Stat{AverageConcurrency: 70})
	steps := []struct {
		name      string
		ready     int32
		addConc   float64
		desired   int32
		ebc       int32
		wantPokes int
	}{
		{"first decision (from -1)", 1, 0, 1, 100 - 211 - 70, 1},
		{"same decision", 1, 0, 1, -181, 0},
		{"EBC turns positive, same scale", 4, 0, 1, 400 - 211 - 70, 1},
		{"same again", 4, 0, 1, 119, 0},
		{"load 350: scale 5, EBC negative", 4, 280, 5, 400 - 211 - 350, 1},
	}
	for _, s := range steps {
		if s.addConc > 0 {
			e.k.RecordStat(key, autoscaler.Stat{AverageConcurrency: s.addConc})
		}
		e.k.decide(rev, t0, s.ready)
		d, _ := e.k.Decision(key)
		if d.DesiredScale != s.desired || d.ExcessBurstCapacity != s.ebc {
			t.Errorf("%s: decision = %+v, want {%d %d}", s.name, d, s.desired, s.ebc)
		}
		if n := e.pokes.count(); n != s.wantPokes {
			t.Errorf("%s: %d pokes, want %d", s.name, n, s.wantPokes)
		}
	}
}

func TestSameSign_ZeroCountsAsPositive(t *testing.T) {
	for _, c := range []struct {
		a, b int32
		want bool
	}{{0, 5, true}, {-1, 0, false}, {-111, -1, true}, {3, -3, false}} {
		if got := sameSign(c.a, c.b); got != c.want {
			t.Errorf("sameSign(%d, %d) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestRecordStat_PokeRule_Section3_3_3(t *testing.T) {
	e := newEnv(t)
	e.k.RecordStat(key, autoscaler.Stat{AverageConcurrency: 1}) // unknown revision: dropped
	if e.k.lookup(key) != nil {
		t.Fatalf("a stat created a revision, want it dropped like Knative's collector")
	}
	e.update(t, defaultSpec(nil))
	rev := e.rev(t)

	e.k.RecordStat(key, autoscaler.Stat{AverageConcurrency: 1})
	if len(rev.pokeCh) != 0 {
		t.Errorf("stat at desired scale -1 asked for a tick, want none")
	}
	e.k.decide(rev, t0.Add(2*time.Second), 0) // average ≈ 1/3 → scale 1
	e.clock.Step(70 * time.Second)            // a whole stable window later the average is 0
	e.k.RecordStat(key, autoscaler.Stat{})
	e.k.decide(rev, e.clock.Now(), 1)
	if d, _ := e.k.Decision(key); d.DesiredScale != 0 {
		t.Fatalf("decision = %+v, want scale 0", d)
	}
	e.k.RecordStat(key, autoscaler.Stat{AverageConcurrency: 0, RequestCount: 1})
	if len(rev.pokeCh) != 0 {
		t.Errorf("stat without concurrency at scale 0 asked for a tick, want none")
	}
	e.k.RecordStat(key, autoscaler.Stat{AverageConcurrency: 1, RequestCount: 1})
	e.k.RecordStat(key, autoscaler.Stat{AverageConcurrency: 1, RequestCount: 1})
	if len(rev.pokeCh) != 1 {
		t.Errorf("stats with concurrency at scale 0: %d ticks pending, want 1", len(rev.pokeCh))
	}
}

// start runs the KPA until the test ends and waits for it to have started.
func start(t *testing.T, e *env) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.k.Start(ctx) }()
	eventually(t, "KPA started", func() bool {
		e.k.mu.RLock()
		defer e.k.mu.RUnlock()
		return e.k.runCtx != nil
	})
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Start = %v, want nil", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func TestLoops_ScrapeRecordTickPoke_Section3_3(t *testing.T) {
	e := newEnv(t, readyPods(2, t0.Add(-time.Hour))...)
	e.stats.set(podIP(0), 70, false)
	e.stats.set(podIP(1), 70, false)
	start(t, e)
	e.update(t, defaultSpec(nil))

	e.clock.Step(time.Second) // scrape tick
	eventually(t, "first scrape recorded", func() bool {
		_, _, err := e.averages(t)
		return err == nil
	})
	e.clock.Step(time.Second) // decision tick at +2s
	if got := e.pokes.wait(t); got != key {
		t.Fatalf("Poke(%v), want %v", got, key)
	}
	d, _ := e.k.Decision(key)
	if want := (autoscaler.Decision{DesiredScale: 2, ExcessBurstCapacity: 200 - 211 - 140}); d != want {
		t.Errorf("decision after the first tick = %+v, want %+v (2 pods × 70)", d, want)
	}
}

func TestLoops_StatAtScaleZeroTicksAtOnce_Section3_3_3(t *testing.T) {
	e := newEnv(t)
	start(t, e)
	e.update(t, defaultSpec(nil))
	e.k.RecordStat(key, autoscaler.Stat{})
	e.clock.Step(2 * time.Second)
	e.pokes.wait(t) // -1 → 0
	if d, _ := e.k.Decision(key); d.DesiredScale != 0 {
		t.Fatalf("decision = %+v, want scale 0", d)
	}
	// No clock step: only the poke can tick.
	e.k.RecordStat(key, autoscaler.Stat{AverageConcurrency: 5, RequestCount: 1})
	e.pokes.wait(t)
	if d, _ := e.k.Decision(key); d.DesiredScale != 1 {
		t.Errorf("decision after the poke = %+v, want scale 1", d)
	}
}

func TestDelete_StopsLoopsAndForgets(t *testing.T) {
	e := newEnv(t)
	beforeStart := goleak.IgnoreCurrent()
	stop := start(t, e)
	kept := types.NamespacedName{Namespace: "other", Name: "kept"}
	if _, err := e.k.Update(context.Background(), kept, defaultSpec(nil)); err != nil {
		t.Fatal(err)
	}
	running := goleak.IgnoreCurrent() // Start and the kept revision's loops
	deleted := []types.NamespacedName{key, {Namespace: "ns", Name: "b"}}
	for _, k := range deleted {
		if _, err := e.k.Update(context.Background(), k, defaultSpec(nil)); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range deleted {
		e.k.Delete(k)
	}
	if err := goleak.Find(running); err != nil {
		t.Errorf("goroutines left by deleted revisions: %v", err)
	}
	if _, ok := e.k.Decision(key); ok {
		t.Errorf("decision of a deleted revision still there")
	}
	e.k.RecordStat(key, autoscaler.Stat{AverageConcurrency: 1})
	if e.k.lookup(key) != nil {
		t.Errorf("a stat revived a deleted revision")
	}
	if _, ok := e.k.Decision(kept); !ok {
		t.Errorf("Delete of other revisions dropped %v", kept)
	}
	stop() // ctx end stops the rest
	if err := goleak.Find(beforeStart); err != nil {
		t.Errorf("goroutines after Start returned: %v", err)
	}
}

func TestDecisionEvents_Section3_4(t *testing.T) {
	e := newEnv(t, paObject(nil))
	var got []DecisionEvent
	cancel := e.k.Subscribe(func(ev DecisionEvent) { got = append(got, ev) })
	e.update(t, defaultSpec(nil))
	rev := e.rev(t)

	e.k.decide(rev, t0, 0) // no data yet
	e.k.RecordStat(key, autoscaler.Stat{AverageConcurrency: 350})
	e.k.decide(rev, t0, 4)
	e.k.decide(rev, t0, 10)
	e.k.decide(rev, t0, 1) // 5 pods wanted on 1: panic (5/1 ≥ 2)
	cancel()

	base := DecisionEvent{Time: t0, Namespace: "ns", Revision: key.Name, Target: 70, Metric: serving.MetricConcurrency}
	ev := func(ready int32, value float64, desired, ebc int32, panicking bool, mode netv1alpha1.ServerlessServiceOperationMode) DecisionEvent {
		e := base
		e.ReadyPods, e.StableValue, e.PanicValue, e.DesiredPods, e.ExcessBurstCapacity, e.Panicking, e.Mode =
			ready, value, value, desired, ebc, panicking, mode
		return e
	}
	want := []DecisionEvent{
		ev(0, 0, -1, -111, false, netv1alpha1.SKSOperationModeProxy),
		ev(4, 350, 5, 400-211-350, false, netv1alpha1.SKSOperationModeProxy),
		ev(10, 350, 5, 1000-211-350, false, netv1alpha1.SKSOperationModeServe),
		ev(1, 350, 5, 100-211-350, true, netv1alpha1.SKSOperationModeProxy),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decision events (-want +got):\n%s", diff)
	}
}

func TestDecisionEvents_SlowSubscriberNeverBlocksTheTicker(t *testing.T) {
	c := newEnv(t)
	k, err := New(Options{Clock: c.clock, Reader: c.c, EventBuffer: 2})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var n int
	cancel := k.Subscribe(func(DecisionEvent) { <-release; n++ })
	if _, err := k.Update(context.Background(), key, defaultSpec(nil)); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		k.decide(k.lookup(key), t0, 0) // would deadlock if publishing waited for the subscriber
	}
	close(release)
	cancel()
	if dropped := k.DroppedEvents(); n+int(dropped) != 10 || dropped == 0 {
		t.Errorf("delivered %d and dropped %d of 10 events with a buffer of 2, want all accounted and some dropped", n, dropped)
	}
}

func TestBoundedWant_Section3_5_3(t *testing.T) {
	spec := autoscaler.DeciderSpec{MinScale: 2, MaxScale: 5}
	for _, c := range []struct{ in, want int32 }{{-1, -1}, {0, 2}, {3, 3}, {9, 5}} {
		if got := boundedWant(c.in, spec); got != c.want {
			t.Errorf("boundedWant(%d, [2,5]) = %d, want %d", c.in, got, c.want)
		}
	}
}

// gauges are the gathered series of g as "name{label=value,...}" → value, labels sorted by name.
func gauges(t *testing.T, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			out[f.GetName()+"{"+strings.Join(ls, ",")+"}"] = m.GetGauge().GetValue()
		}
	}
	return out
}

func TestPrometheus_GaugesAfterATick(t *testing.T) {
	const labels = "{configuration_name=hello,namespace_name=ns,revision_name=hello-00001,service_name=hello}"
	cases := []struct {
		name   string
		metric string
		stat   autoscaler.Stat
		want   map[string]float64
	}{{
		name:   "concurrency",
		metric: serving.MetricConcurrency,
		stat:   autoscaler.Stat{AverageConcurrency: 350},
		want: map[string]float64{
			"autoscaler_actual_pods" + labels:                4,
			"autoscaler_desired_pods" + labels:               5,
			"autoscaler_excess_burst_capacity" + labels:      400 - 211 - 350,
			"autoscaler_panic_mode" + labels:                 0,
			"autoscaler_stable_request_concurrency" + labels: 350,
			"autoscaler_panic_request_concurrency" + labels:  350,
			"autoscaler_target_concurrency_per_pod" + labels: 70,
		},
	}, {
		name:   "rps",
		metric: serving.MetricRPS,
		stat:   autoscaler.Stat{AverageConcurrency: 1, RequestCount: 700},
		// rps target 140 (200 × 0.7): 700 → 5 pods; EBC = 4 × 200 − 211 − 700.
		want: map[string]float64{
			"autoscaler_actual_pods" + labels:                4,
			"autoscaler_desired_pods" + labels:               5,
			"autoscaler_excess_burst_capacity" + labels:      4*200 - 211 - 700,
			"autoscaler_panic_mode" + labels:                 0,
			"autoscaler_stable_requests_per_second" + labels: 700,
			"autoscaler_panic_requests_per_second" + labels:  700,
			"autoscaler_target_requests_per_second" + labels: 140,
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pa := paObject(map[string]string{serving.MetricAnnotationKey: c.metric})
			e := newEnv(t, pa)
			e.update(t, autoscaler.MakeDeciderSpec(pa, config.DefaultAutoscaler()))
			e.k.decide(e.rev(t), t0, 0)
			if got := gauges(t, e.k.Gatherer()); got["autoscaler_actual_pods"+labels] != 0 || len(got) != 1 {
				t.Errorf("gauges after a tick without data = %v, want only actual pods 0", got)
			}
			e.clock.Step(time.Second)
			e.k.RecordStat(key, c.stat)
			e.k.RecordStat(key, autoscaler.Stat{}) // same bucket: the sum stays
			e.k.decide(e.rev(t), e.clock.Now(), 4)
			// The other metric's triple is absent, as in Knative.
			if diff := cmp.Diff(c.want, gauges(t, e.k.Gatherer())); diff != "" {
				t.Errorf("gauges after a tick (-want +got):\n%s", diff)
			}

			e.k.Delete(key)
			if got := gauges(t, e.k.Gatherer()); len(got) != 0 {
				t.Errorf("series after Delete = %v, want none", got)
			}
		})
	}
}

func TestHandler_ServesTheGauges(t *testing.T) {
	e := newEnv(t, paObject(nil))
	e.update(t, defaultSpec(nil))
	e.k.RecordStat(key, autoscaler.Stat{AverageConcurrency: 70})
	e.k.decide(e.rev(t), t0, 1)
	rec := httptest.NewRecorder()
	e.k.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if !strings.Contains(rec.Body.String(), `autoscaler_desired_pods{configuration_name="hello",namespace_name="ns",revision_name="hello-00001",service_name="hello"} 1`) {
		t.Errorf("/metrics lacks the desired pods series:\n%s", rec.Body.String())
	}
}

func TestReadyPods_ByRevisionIndex_Section3_4(t *testing.T) {
	objs := append(readyPods(3, t0),
		testPod(key.Name, 3, podNotReady, t0), testPod(key.Name, 4, podTerminating, t0),
		testPod(key.Name, 5, podPending, t0), testPod("other-00001", 6, podReady, t0))
	for _, indexed := range []bool{false, true} {
		b := fake.NewClientBuilder().WithScheme(apis.NewScheme()).WithObjects(objs...)
		if indexed {
			b = b.WithIndex(&corev1.Pod{}, PodRevisionIndex, IndexPodRevision)
		}
		k, err := New(Options{Reader: b.Build()})
		if err != nil {
			t.Fatal(err)
		}
		k.podIndexed = indexed
		if n, err := k.readyPods(context.Background(), key.Namespace, key.Name); n != 3 || err != nil {
			t.Errorf("indexed=%v: readyPods = %d, %v, want 3 (ready, running, not terminating, this revision)", indexed, n, err)
		}
	}
}
