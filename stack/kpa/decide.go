package kpa

import (
	"context"
	"math"
	"time"

	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/reconciler/podautoscaler/resources"
)

// tick is one decision of rev (Knative's tickScaler, §3.4): count the ready pods, then decide.
func (k *KPA) tick(ctx context.Context, rev *revision) {
	rev.mu.Lock()
	name, deciding := rev.name, rev.scaler != nil
	rev.mu.Unlock()
	if !deciding {
		return // a collection without a decider yet (its Metric came first)
	}
	ready, err := k.readyPods(ctx, rev.key.Namespace, name)
	if err != nil {
		// Knative makes no decision when the pod lister fails.
		if ctx.Err() == nil {
			k.logger.Error(err, "Failed to count ready pods", "revision", rev.key)
		}
		return
	}
	k.decide(rev, k.clock.Now(), ready)
}

// decide runs the scaler at now with ready pods, keeps a valid decision, reports it (gauges and
// a DecisionEvent) and pokes the PA when the desired scale changed or the EBC changed sign.
func (k *KPA) decide(rev *revision, now time.Time, ready int32) {
	rev.mu.Lock()
	if rev.scaler == nil || rev.retired {
		rev.mu.Unlock()
		return
	}
	before := rev.scaler.Decision()
	r := rev.scaler.Scale(now, ready, rev.collector)
	if k.observers.observing() {
		k.observers.observe(Observation{Kind: ObservedTick, Time: now, Key: rev.key, ReadyPods: ready, Result: r})
	}
	after := rev.scaler.Decision()
	spec := rev.scaler.Spec()
	changed := r.ScaleValid && (before.DesiredScale != after.DesiredScale ||
		!sameSign(before.ExcessBurstCapacity, after.ExcessBurstCapacity))
	report(rev.series, spec, r, ready)
	ev := DecisionEvent{
		Time:                now,
		Namespace:           rev.key.Namespace,
		Revision:            rev.name,
		ReadyPods:           ready,
		StableValue:         r.Stable,
		PanicValue:          r.Panic,
		Target:              spec.TargetValue,
		DesiredPods:         r.DesiredPodCount,
		ExcessBurstCapacity: r.ExcessBurstCapacity,
		Panicking:           r.Panicking,
		Mode:                resources.SKSMode(boundedWant(after.DesiredScale, spec), after.ExcessBurstCapacity),
		Metric:              spec.ScalingMetric,
	}
	rev.mu.Unlock()

	k.events.publish(ev)
	if changed {
		k.poke(rev.key)
	}
}

// report sets the revision's gauges after a tick: actual pods always, the rest only for a valid
// decision, as Knative records them once Scale has metrics. rev.mu is held.
func report(s *revisionSeries, spec autoscaler.DeciderSpec, r autoscaler.ScaleResult, ready int32) {
	s.set(gaugeActualPods, float64(ready))
	if !r.ScaleValid {
		return
	}
	s.set(gaugeDesiredPods, float64(r.DesiredPodCount))
	s.set(gaugeExcessBurstCapacity, float64(r.ExcessBurstCapacity))
	panicMode := 0.0
	if r.Panicking {
		panicMode = 1
	}
	s.set(gaugePanicMode, panicMode)
	if spec.ScalingMetric == serving.MetricRPS {
		s.set(gaugeStableRPS, r.Stable)
		s.set(gaugePanicRPS, r.Panic)
		s.set(gaugeTargetRPS, spec.TargetValue)
		return
	}
	s.set(gaugeStableConcurrency, r.Stable)
	s.set(gaugePanicConcurrency, r.Panic)
	s.set(gaugeTargetConcurrency, spec.TargetValue)
}

// boundedWant is the PA's want for a desired scale: within [MinScale, MaxScale] (max 0 =
// unbounded) once the decider has decided; -1 (no decision) stays -1 (§3.5.3).
func boundedWant(desired int32, spec autoscaler.DeciderSpec) int32 {
	if desired < 0 {
		return desired
	}
	desired = max(desired, spec.MinScale)
	if spec.MaxScale > 0 {
		desired = min(desired, spec.MaxScale)
	}
	return desired
}

// sameSign is Knative's sign test on the EBC (multiscaler.go): 0 counts as positive.
func sameSign(a, b int32) bool {
	return (a&math.MinInt32)^(b&math.MinInt32) == 0
}
