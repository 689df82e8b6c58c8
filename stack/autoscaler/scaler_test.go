package autoscaler

import (
	"testing"

	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/config"
)

// Every expected count below is worked out by hand from §3.4 with the default spec (target 70,
// total 100, TBC 211, panic threshold 2, stable window 60s, panic window 6s) unless a case says
// otherwise.

func TestScale_SteadyLoadAtTargetHoldsScale_Section3_4(t *testing.T) {
	// 3 pods at 70 each: dspc = dppc = ceil(210/70) = 3; dppc/ready = 1 < 2. The scaler is created
	// with 3 ready pods, so it starts in panic (§3.4) and leaves it once 60s have passed: first at
	// t=62. EBC = floor(3·100 − 211 − 210) = −121.
	s := NewScaler(defaultSpec(), 3, at(0))
	c := NewCollector(MakeMetricSpec(pa(0, "", nil), config.DefaultAutoscaler()))
	walk(s, c, 120, constReady(3), func(int) []Stat { return podStats(3, 70) }, func(sec int, r ScaleResult) {
		wantPanic := sec <= 60
		if !r.ScaleValid || r.DesiredPodCount != 3 || r.ExcessBurstCapacity != -121 || r.Panicking != wantPanic {
			t.Errorf("t=%d: Scale = %+v, want desired 3, EBC −121, panicking %v", sec, r, wantPanic)
		}
	})
}

func TestScale_ScaleUpLimitedByMaxScaleUpRate_Section3_4(t *testing.T) {
	cases := []struct {
		name   string
		rate   float64
		ready  int32
		stable float64
		want   int32
	}{
		{"ceil(2·2) = 4 caps ceil(700/70) = 10", 2, 2, 700, 4},
		{"zero ready counts as one: ceil(2·1) = 2", 2, 0, 700, 2},
		{"ceil rounds a slow rate up: ceil(1.1·2) = 3", 1.1, 2, 700, 3},
		{"below the cap: ceil(210/70) = 3", 2, 2, 210, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewScaler(specFor(0, nil, func(a *config.Autoscaler) { a.MaxScaleUpRate = c.rate }), 0, at(0))
			r := s.Scale(at(2), c.ready, fixedMetrics{stable: c.stable, panic: c.stable})
			if r.DesiredPodCount != c.want {
				t.Errorf("Scale(ready %d, stable %v, max-scale-up-rate %v) = %d, want %d", c.ready, c.stable, c.rate, r.DesiredPodCount, c.want)
			}
		})
	}
}

func TestScale_ScaleDownLimitedByMaxScaleDownRate_Section3_4(t *testing.T) {
	cases := []struct {
		name      string
		rate      float64
		ready     int32
		stable    float64
		reachable bool
		want      int32
	}{
		{"floor(10/2) = 5 floors ceil(70/70) = 1", 2, 10, 70, true, 5},
		{"floor(10/4) = 2", 4, 10, 70, true, 2},
		{"one pod may go to zero: floor(1/2) = 0", 2, 1, 0, true, 0},
		{"unreachable: maxDown is 0", 2, 10, 70, false, 1},
		{"unreachable to zero at once", 2, 10, 0, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := specFor(0, nil, func(a *config.Autoscaler) { a.MaxScaleDownRate = c.rate })
			spec.Reachable = c.reachable
			s := NewScaler(spec, 0, at(0))
			r := s.Scale(at(2), c.ready, fixedMetrics{stable: c.stable, panic: c.stable})
			if r.DesiredPodCount != c.want || r.Panicking {
				t.Errorf("Scale(ready %d, stable %v, max-scale-down-rate %v, reachable %v) = %d (panicking %v), want %d, not panicking",
					c.ready, c.stable, c.rate, c.reachable, r.DesiredPodCount, r.Panicking, c.want)
			}
		})
	}
}

// step is one Scale call of a scripted walk with fixed window averages.
type step struct {
	sec           float64
	ready         int32
	stable, panic float64
	want          int32
	wantPanic     bool
}

func runSteps(t *testing.T, s *Scaler, steps []step) {
	t.Helper()
	for _, st := range steps {
		r := s.Scale(at(st.sec), st.ready, fixedMetrics{stable: st.stable, panic: st.panic})
		if r.DesiredPodCount != st.want || r.Panicking != st.wantPanic {
			t.Errorf("t=%v: Scale(ready %d, stable %v, panic %v) = %d (panicking %v), want %d (panicking %v)",
				st.sec, st.ready, st.stable, st.panic, r.DesiredPodCount, r.Panicking, st.want, st.wantPanic)
		}
	}
}

func TestScale_PanicAtTwiceReadyAndHoldForStableWindow_Section3_4(t *testing.T) {
	s := NewScaler(defaultSpec(), 0, at(0))
	runSteps(t, s, []step{
		// dppc = ceil(210/70) = 3; 3/2 = 1.5 < 2: stable mode, ceil(140/70) = 2.
		{sec: 0, ready: 2, stable: 140, panic: 210, want: 2},
		// dppc = ceil(280/70) = 4; 4/2 = 2 ≥ 2: panic, desired max(2, 4) = 4. panicTime = 2.
		{sec: 2, ready: 2, stable: 140, panic: 280, want: 4, wantPanic: true},
		// Back under the threshold: panic holds 4 until panicTime + 60s < now, i.e. up to t=62.
		{sec: 4, ready: 2, stable: 140, panic: 70, want: 4, wantPanic: true},
		{sec: 62, ready: 2, stable: 140, panic: 70, want: 4, wantPanic: true},
		// t=64 > 62: panic ends, stable decides: ceil(140/70) = 2.
		{sec: 64, ready: 2, stable: 140, panic: 70, want: 2},
	})
}

func TestScale_PanicExtendsWhileOverThreshold_Section3_4(t *testing.T) {
	s := NewScaler(defaultSpec(), 0, at(0))
	runSteps(t, s, []step{
		{sec: 0, ready: 2, stable: 140, panic: 280, want: 4, wantPanic: true},
		// Over the threshold again at t=30: dppc = ceil(420/70) = 6, 6/2 = 3 ≥ 2 → panicTime = 30,
		// desired 6.
		{sec: 30, ready: 2, stable: 140, panic: 420, want: 6, wantPanic: true},
		// Ends only after 30 + 60 = 90.
		{sec: 62, ready: 6, stable: 140, panic: 70, want: 6, wantPanic: true},
		{sec: 90, ready: 6, stable: 140, panic: 70, want: 6, wantPanic: true},
		// Stable mode: dspc 2, maxDown floor(6/2) = 3 → 3.
		{sec: 92, ready: 6, stable: 140, panic: 70, want: 3},
	})
}

func TestScale_NoScaleDownWhilePanicking_Section3_4(t *testing.T) {
	s := NewScaler(defaultSpec(), 0, at(0))
	runSteps(t, s, []step{
		// dppc = ceil(420/70) = 6; 6/2 = 3 ≥ 2 → panic, desired 6.
		{sec: 0, ready: 2, stable: 70, panic: 420, want: 6, wantPanic: true},
		// Load falls: stable pods = max(ceil(70/70), floor(6/2)) = 3 and panic pods = max(1, 3) = 3,
		// but panic never goes below its maximum 6.
		{sec: 2, ready: 6, stable: 70, panic: 70, want: 6, wantPanic: true},
		{sec: 40, ready: 6, stable: 70, panic: 70, want: 6, wantPanic: true},
		{sec: 62, ready: 6, stable: 70, panic: 70, want: 3},
	})
}

func TestScale_ScaleToZeroOnlyAfterAFullStableWindowOfZero_Section3_4(t *testing.T) {
	// One pod reports concurrency 1 for seconds 0..59, then 0. The stable window (t−60, t] holds
	// bucket 59 up to t=118, so ceil((1/60)/70) = 1 pod until then and 0 from t=120
	// (maxDown = floor(1/2) = 0). The panic average is at most 1: ceil(1/70)/1 = 1 < 2, no panic.
	s := NewScaler(defaultSpec(), 1, at(0))
	c := NewCollector(linear60)
	load := func(sec int) []Stat {
		if sec < 60 {
			return podStats(1, 1)
		}
		return podStats(1, 0)
	}
	walk(s, c, 130, constReady(1), load, func(sec int, r ScaleResult) {
		want := int32(1)
		if sec >= 120 {
			want = 0
		}
		if !r.ScaleValid || r.DesiredPodCount != want || r.Panicking {
			t.Errorf("t=%d: Scale = %+v, want desired %d, not panicking", sec, r, want)
		}
	})
}

func TestScale_ActivationScaleLiftsNonZeroDecisions_Section3_4(t *testing.T) {
	spec := specFor(0, map[string]string{serving.ActivationScaleAnnotationKey: "3"}, nil)
	cases := []struct {
		name          string
		ready         int32
		stable, panic float64
		want          int32
	}{
		{"from zero: ceil(10/70) = 1 lifted to 3", 0, 10, 10, 3},
		{"no traffic stays at 0", 0, 0, 0, 0},
		{"scale down to maxDown floor(5/2) = 2, not lifted when dspc is 0", 5, 0, 0, 2},
		{"above activation scale unchanged: ceil(280/70) = 4", 4, 280, 280, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewScaler(spec, 0, at(0)).Scale(at(2), c.ready, fixedMetrics{stable: c.stable, panic: c.panic})
			if r.DesiredPodCount != c.want {
				t.Errorf("Scale(ready %d, stable %v, activation-scale 3) = %d, want %d", c.ready, c.stable, r.DesiredPodCount, c.want)
			}
		})
	}
}

func TestScale_ScaleDownDelayHoldsTheMaximum_Section3_4(t *testing.T) {
	// scale-down-delay 10s = 5 two-second buckets. 5 pods wanted up to t=8 (ceil(350/70)); from
	// t=10 the undelayed decision is max(ceil(70/70), floor(5/2)) = 2. The 5 of bucket 4 (t=8)
	// leaves the window at bucket 9 (t=18).
	spec := specFor(0, map[string]string{serving.ScaleDownDelayAnnotationKey: "10s"}, nil)
	s := NewScaler(spec, 0, at(0))
	var steps []step
	for sec := 0; sec <= 20; sec += 2 {
		st := step{sec: float64(sec), ready: 5, stable: 350, panic: 70, want: 5}
		if sec >= 10 {
			st.stable = 70
		}
		if sec >= 18 {
			st.want = 2
		}
		steps = append(steps, st)
	}
	runSteps(t, s, steps)

	// Unreachable revisions are not delayed (and maxDown is 0): ceil(70/70) = 1 at once.
	spec.Reachable = false
	s = NewScaler(spec, 0, at(0))
	runSteps(t, s, []step{
		{sec: 0, ready: 5, stable: 350, panic: 70, want: 5},
		{sec: 2, ready: 5, stable: 70, panic: 70, want: 1},
	})
}

func TestScale_RPSMetric_Section3_2(t *testing.T) {
	// metric rps: target 200 × 0.7 = 140. Two pods serve 150 rps each, 40 of them through the
	// activator, which reports its 80 itself: 2·(150−40) + 80 = 300 → ceil(300/140) = 3.
	// 3/2 = 1.5 < 2: no panic. Concurrency (1 per pod + 0.5 at the activator) would say 1.
	load := func(int) []Stat {
		return []Stat{
			{PodName: "p1", AverageConcurrency: 1, RequestCount: 150, ProxiedRequestCount: 40},
			{PodName: "p2", AverageConcurrency: 1, RequestCount: 150, ProxiedRequestCount: 40},
			{PodName: "activator", AverageConcurrency: 0.5, RequestCount: 80},
		}
	}
	for _, c := range []struct {
		metric string
		want   int32
		stable float64
	}{
		{serving.MetricRPS, 3, 300},
		{serving.MetricConcurrency, 1, 2.5},
	} {
		annos := map[string]string{serving.MetricAnnotationKey: c.metric}
		s := NewScaler(specFor(0, annos, nil), 0, at(0))
		coll := NewCollector(MakeMetricSpec(pa(0, "", annos), config.DefaultAutoscaler()))
		walk(s, coll, 10, constReady(2), load, func(sec int, r ScaleResult) {
			if r.DesiredPodCount != c.want || r.Stable != c.stable || r.Panicking {
				t.Errorf("metric %s, t=%d: Scale = %+v, want desired %d, stable %v", c.metric, sec, r, c.want, c.stable)
			}
		})
	}
}

func TestScale_TargetUtilizationAndContainerConcurrency_Section3_2(t *testing.T) {
	cases := []struct {
		name          string
		cc            int64
		annos         map[string]string
		ready         int32
		stable, panic float64
		want          int32
	}{
		{"CC=10, TU 70%: target 7, ceil(12/7) = 2", 10, nil, 2, 12, 12, 2},
		{"CC=10, TU 50%: target 5, ceil(12/5) = 3", 10, map[string]string{serving.TargetUtilizationAnnotationKey: "50"}, 2, 12, 12, 3},
		{"CC=1: target 0.7, ceil(2/0.7) = 3", 1, nil, 3, 2, 2, 3},
		{"target annotation 10 at TU 70%: target 7, ceil(30/7) = 5", 0, map[string]string{serving.TargetAnnotationKey: "10"}, 3, 30, 30, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewScaler(specFor(c.cc, c.annos, nil), 0, at(0)).Scale(at(2), c.ready, fixedMetrics{stable: c.stable, panic: c.panic})
			if r.DesiredPodCount != c.want || r.Panicking {
				t.Errorf("Scale(cc %d, %v, stable %v) = %d (panicking %v), want %d", c.cc, c.annos, c.stable, r.DesiredPodCount, r.Panicking, c.want)
			}
		})
	}
}

func TestScale_ExcessBurstCapacity_Section3_4(t *testing.T) {
	cases := []struct {
		name  string
		cc    int64
		tbc   string
		ready int32
		panic float64
		want  int32
	}{
		{"TBC 211, 3 pods: floor(300 − 211 − 50) = 39 (Serve)", 0, "", 3, 50, 39},
		{"TBC 211, 2 pods: floor(200 − 211 − 50) = −61 (Proxy)", 0, "", 2, 50, -61},
		{"fraction floored: floor(300 − 211 − 49.5) = 39", 0, "", 3, 49.5, 39},
		{"ready 0 (not max(1, ready)): floor(0 − 211 − 0) = −211", 0, "", 0, 0, -211},
		{"CC=10, 30 pods: floor(300 − 211 − 5.5) = 83", 10, "", 30, 5.5, 83},
		{"TBC 0 is always 0", 0, "0", 1, 500, 0},
		{"TBC -1 is always -1", 0, "-1", 10, 0, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var annos map[string]string
			if c.tbc != "" {
				annos = map[string]string{serving.TargetBurstCapacityAnnotationKey: c.tbc}
			}
			r := NewScaler(specFor(c.cc, annos, nil), 0, at(0)).Scale(at(2), c.ready, fixedMetrics{stable: 0, panic: c.panic})
			if r.ExcessBurstCapacity != c.want {
				t.Errorf("EBC(cc %d, TBC %q, ready %d, panic %v) = %d, want %d", c.cc, c.tbc, c.ready, c.panic, r.ExcessBurstCapacity, c.want)
			}
		})
	}
}

func TestScale_WeightedExponentialReactsFaster_Section3_3_5(t *testing.T) {
	// One pod, no load for seconds 0..49, then 140. At t=60 the linear stable window (0, 60]
	// holds 49 zeros and 11·140: 1540/60 = 25.67 → ceil(25.67/70) = 1. Weighted (alpha 0.2):
	// Σ_{k≤10} 140·0.2·0.8^k = 140·(1 − 0.8¹¹) = 127.97 → ceil(127.97/70) = 2. The panic
	// threshold is 1000% so neither panics (linear panic 140: dppc 2 < 10·1).
	for _, c := range []struct {
		algo string
		want int32
	}{
		{serving.MetricAggregationLinear, 1},
		{serving.MetricAggregationWeightedExponential, 2},
	} {
		annos := map[string]string{
			serving.MetricAggregationAnnotationKey:        c.algo,
			serving.PanicThresholdPercentageAnnotationKey: "1000",
		}
		s := NewScaler(specFor(0, annos, nil), 1, at(0))
		coll := NewCollector(MakeMetricSpec(pa(0, "", annos), config.DefaultAutoscaler()))
		var last ScaleResult
		walk(s, coll, 60, constReady(1), func(sec int) []Stat {
			if sec < 50 {
				return podStats(1, 0)
			}
			return podStats(1, 140)
		}, func(_ int, r ScaleResult) { last = r })
		if last.DesiredPodCount != c.want || last.Panicking {
			t.Errorf("%s: Scale(60) = %+v, want desired %d, not panicking", c.algo, last, c.want)
		}
	}
}

func TestScale_SameBucketStatsDoubleCount_Bug6743(t *testing.T) {
	// One pod at a steady 70 (exactly its target) reports once a second at k+0.3. A second report
	// landing in bucket 9 (at 9.9) doubles that bucket. At t=10 the panic window (4, 10] has data
	// in buckets 5..9: (4·70 + 140)/5 = 84 → dppc = 2 ≥ 2·1: a panic at steady load; the stable
	// average (9·70 + 140)/10 = 77 → ceil(77/70) = 2 as well. Without the extra report: 70 → 1 pod.
	for _, c := range []struct {
		extra     bool
		want      int32
		wantPanic bool
	}{
		{false, 1, false},
		{true, 2, true},
	} {
		s := NewScaler(defaultSpec(), 1, at(0))
		coll := NewCollector(linear60)
		for k := 0; k <= 9; k++ {
			coll.Record(at(float64(k)+0.3), Stat{PodName: "pod", AverageConcurrency: 70})
		}
		if c.extra {
			coll.Record(at(9.9), Stat{PodName: "pod", AverageConcurrency: 70})
		}
		r := s.Scale(at(10), 1, coll)
		if r.DesiredPodCount != c.want || r.Panicking != c.wantPanic {
			t.Errorf("extra report %v: Scale(10) = %+v, want desired %d, panicking %v", c.extra, r, c.want, c.wantPanic)
		}
	}
}

func TestScale_StartsInPanicWithMoreThanOneReadyPod_Section3_4(t *testing.T) {
	s := NewScaler(defaultSpec(), 5, at(0))
	if !s.Panicking() {
		t.Fatalf("NewScaler(ready 5).Panicking() = false, want true")
	}
	runSteps(t, s, []step{
		// No load: stable pods = maxDown = floor(5/2) = 2, but the panic maximum is the 5 ready.
		{sec: 2, ready: 5, want: 5, wantPanic: true},
		{sec: 60, ready: 5, want: 5, wantPanic: true},
		// Created at 0: panic ends once 0 + 60 < now.
		{sec: 62, ready: 5, want: 2},
	})
	s = NewScaler(defaultSpec(), 1, at(0))
	runSteps(t, s, []step{{sec: 2, ready: 1, want: 0}})
}

func TestScale_NoDataMeansNoDecision_Section3_3_5(t *testing.T) {
	// Scraped and nothing recorded: no decision; the EBC stays the initial 1·100 − 211 = −111.
	s := NewScaler(defaultSpec(), 0, at(0))
	r := s.Scale(at(0), 0, NewCollector(linear60))
	if r.ScaleValid || r.DesiredPodCount != -1 || r.ExcessBurstCapacity != -111 {
		t.Errorf("Scale(no data) = %+v, want invalid, desired -1, EBC -111", r)
	}
	if d := s.Decision(); d != (Decision{DesiredScale: -1, ExcessBurstCapacity: -111}) {
		t.Errorf("Decision() after no data = %+v, want the initial {-1 -111}", d)
	}
	// After a decision, a tick without data keeps that decision's EBC.
	s.Scale(at(2), 3, fixedMetrics{stable: 70, panic: 50})
	r = s.Scale(at(4), 3, fixedMetrics{err: ErrNoData})
	if r.ScaleValid || r.DesiredPodCount != -1 || r.ExcessBurstCapacity != 39 {
		t.Errorf("Scale(no data) after EBC 39 = %+v, want invalid, desired -1, EBC 39", r)
	}
	if d := s.Decision(); d != (Decision{DesiredScale: 1, ExcessBurstCapacity: 39}) {
		t.Errorf("Decision() = %+v, want {1 39} (max(ceil(70/70), floor(3/2)) = 1 pod)", d)
	}

	// TBC = -1: no scrape target, so silence is zero load and the revision may go to zero.
	annos := map[string]string{serving.TargetBurstCapacityAnnotationKey: "-1"}
	s = NewScaler(specFor(0, annos, nil), 0, at(0))
	r = s.Scale(at(0), 0, NewCollector(MakeMetricSpec(pa(0, "", annos), config.DefaultAutoscaler())))
	if !r.ScaleValid || r.DesiredPodCount != 0 || r.ExcessBurstCapacity != -1 {
		t.Errorf("Scale(TBC -1, no data) = %+v, want valid, desired 0, EBC -1", r)
	}
}

func TestScaler_UpdateChangesSpecLive(t *testing.T) {
	s := NewScaler(defaultSpec(), 0, at(0))
	if r := s.Scale(at(0), 2, fixedMetrics{stable: 140, panic: 140}); r.DesiredPodCount != 2 {
		t.Fatalf("Scale(target 70, stable 140) = %d, want 2", r.DesiredPodCount)
	}
	spec := specFor(0, map[string]string{serving.TargetAnnotationKey: "50", serving.ScaleDownDelayAnnotationKey: "4s"}, nil)
	s.Update(spec) // target 35, delay 2 buckets
	if s.Spec() != spec {
		t.Errorf("Spec() after Update = %+v, want %+v", s.Spec(), spec)
	}
	runSteps(t, s, []step{
		{sec: 2, ready: 2, stable: 140, panic: 35, want: 4}, // ceil(140/35)
		{sec: 4, ready: 4, stable: 35, panic: 35, want: 4},  // undelayed max(1, floor(4/2)) = 2
		{sec: 6, ready: 4, stable: 35, panic: 35, want: 2},  // the 4 of t=2 has left the 4s window
	})
}
