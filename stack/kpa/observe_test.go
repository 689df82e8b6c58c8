package kpa

import (
	"context"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/servingsim/servingsim/stack/apis"
	"github.com/servingsim/servingsim/stack/autoscaler"
)

// observed collects Observations.
type observed struct {
	mu  sync.Mutex
	obs []Observation
}

func (o *observed) add(ob Observation) {
	o.mu.Lock()
	o.obs = append(o.obs, ob)
	o.mu.Unlock()
}

func (o *observed) kinds() []ObservationKind {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]ObservationKind, len(o.obs))
	for i, ob := range o.obs {
		out[i] = ob.Kind
	}
	return out
}

// TestObserve_EveryCoreInputInOrder drives a revision through create, an activator stat, a
// scrape, ticks and Delete, and checks that the observer saw each core call, in order, with the
// exact times, and that replaying the observations on fresh cores gives the same ticks (§3.3,
// §3.4): what a recording needs to be replayed exactly.
func TestObserve_EveryCoreInputInOrder(t *testing.T) {
	e := newEnv(t, append(readyPods(2, t0.Add(-2*time.Minute)), paObject(nil))...)
	var o observed
	cancel := e.k.Observe(o.add)
	spec := defaultSpec(nil)
	e.update(t, spec)
	e.stats.set(podIP(0), 30, false)
	e.stats.set(podIP(1), 50, false)

	e.clock.Step(300 * time.Millisecond)
	e.k.RecordStat(key, autoscaler.Stat{PodName: "activator-0", AverageConcurrency: 5, RequestCount: 7})
	e.clock.Step(500 * time.Millisecond)
	e.k.scrape(context.Background(), e.rev(t))
	e.clock.Step(1200 * time.Millisecond)
	e.k.tick(context.Background(), e.rev(t))
	e.clock.Step(2 * time.Second)
	e.k.tick(context.Background(), e.rev(t))
	e.k.Delete(key)
	e.k.RecordStat(key, autoscaler.Stat{AverageConcurrency: 1}) // dropped: nothing observed
	cancel()
	e.update(t, spec) // after cancel: not observed

	want := []ObservationKind{ObservedCollector, ObservedDecider, ObservedCollector, ObservedStat, ObservedStat, ObservedTick, ObservedTick, ObservedDrop}
	if got := o.kinds(); !slicesEqual(got, want) {
		t.Fatalf("observed kinds %v, want %v", got, want)
	}
	obs := o.obs
	if !obs[0].New || !obs[1].New || obs[1].ReadyPods != 2 || obs[1].DeciderSpec != spec || obs[1].PA == nil {
		t.Errorf("creation observations %+v / %+v, want new collector, new scaler with 2 ready pods, the spec and the PA", obs[0], obs[1])
	}
	if !obs[3].FromActivator || obs[3].Time != t0.Add(300*time.Millisecond) || obs[3].Stat.RequestCount != 7 {
		t.Errorf("activator stat observation %+v, want from the activator at t0+300ms", obs[3])
	}
	if obs[4].FromActivator || obs[4].Stat.PodName != autoscaler.ScraperPodName || obs[4].Stat.AverageConcurrency != 80 {
		t.Errorf("scrape observation %+v, want the extrapolated stat 30+50 = 80", obs[4])
	}

	// Replay on fresh cores: every tick comes out the same.
	var coll *autoscaler.Collector
	var sc *autoscaler.Scaler
	ticks := 0
	for _, ob := range obs {
		switch ob.Kind {
		case ObservedCollector:
			if ob.New {
				coll = autoscaler.NewCollector(ob.MetricSpec)
			} else {
				coll.Update(ob.MetricSpec)
			}
		case ObservedDecider:
			sc = autoscaler.NewScaler(ob.DeciderSpec, ob.ReadyPods, ob.Time)
		case ObservedStat:
			coll.Record(ob.Time, ob.Stat)
		case ObservedTick:
			ticks++
			if got := sc.Scale(ob.Time, ob.ReadyPods, coll); got != ob.Result {
				t.Errorf("replayed tick at %s = %+v, want the observed %+v", ob.Time.Sub(t0), got, ob.Result)
			}
		}
	}
	if ticks != 2 || !obs[5].Result.ScaleValid || obs[5].Result.Stable != 85 {
		t.Errorf("ticks %d, first %+v: want 2 ticks, the first valid with stable 5 + 80 = 85", ticks, obs[5].Result)
	}
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// BenchmarkRecordStat_Observed is RecordStat's cost with and without an observer.
func BenchmarkRecordStat_Observed(b *testing.B) {
	for _, observe := range []bool{false, true} {
		name := "none"
		if observe {
			name = "observer"
		}
		b.Run(name, func(b *testing.B) {
			c := fake.NewClientBuilder().WithScheme(apis.NewScheme()).Build()
			k, err := New(Options{Clock: clocktesting.NewFakeClock(t0), Reader: c})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := k.Update(context.Background(), key, defaultSpec(nil)); err != nil {
				b.Fatal(err)
			}
			if observe {
				n := 0
				defer k.Observe(func(Observation) { n++ })()
			}
			s := autoscaler.Stat{PodName: "activator", AverageConcurrency: 3, RequestCount: 3}
			b.ReportAllocs()
			for b.Loop() {
				k.RecordStat(key, s)
			}
		})
	}
}
