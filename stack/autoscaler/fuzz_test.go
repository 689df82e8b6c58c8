package autoscaler

import (
	"math"
	"testing"
	"time"

	"github.com/servingsim/servingsim/stack/apis/serving"
)

// bounded maps any float (NaN and infinities included) into [lo, hi).
func bounded(x, lo, hi float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return lo
	}
	return lo + math.Mod(math.Abs(x), hi-lo)
}

// FuzzScale walks a Collector and a Scaler through fuzzed load, gaps and ready counts under a
// fuzzed spec, and checks the invariants of §3.4 on every 2s tick:
//   - no decision (no data) means desired −1 and an unchanged panic state; otherwise desired ≥ 0;
//   - reachable: desired ≥ floor(max(1, ready)/max-scale-down-rate) (panic, delay and activation
//     scale only ever raise it);
//   - with ready never decreasing: desired ≤ max(ceil(max-scale-up-rate·max(1, ready)),
//     activation-scale) (earlier panic maxima and delayed values were bounded by smaller counts);
//   - without a scale-down delay, two panicking decisions in a row never go down.
//
// Each op is three bytes, one second: ready (absolute, or an increment when growOnly), load
// (concurrency per stat = 4·byte) and flags (bit 0: nothing recorded this second; bits 1–2: 1–4
// stats, like pods plus an activator, summed in the bucket).
func FuzzScale(f *testing.F) {
	f.Add(2.0, 1000.0, 200.0, uint8(1), uint8(0), true, true, false, uint8(1),
		[]byte{1, 10, 0, 0, 40, 2, 1, 80, 6, 2, 200, 6, 0, 0, 1, 0, 0, 1, 3, 5, 4})
	f.Add(1.5, 1.2, 110.0, uint8(3), uint8(10), true, false, true, uint8(5),
		[]byte{5, 255, 6, 0, 255, 6, 60, 0, 0, 2, 0, 1, 2, 0, 1, 2, 9, 2, 40, 1, 0})
	f.Add(3.0, 4.0, 1000.0, uint8(0), uint8(4), false, true, false, uint8(0),
		[]byte{0, 0, 1, 0, 3, 0, 2, 90, 2, 2, 90, 2, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1})
	f.Fuzz(func(t *testing.T, downRate, upRate, thresholdPct float64, activation, delaySec uint8,
		reachable, growOnly, weighted bool, ready0 uint8, ops []byte) {
		if len(ops) > 3*600 {
			ops = ops[:3*600]
		}
		spec := defaultSpec()
		spec.MaxScaleDownRate = bounded(downRate, 1.01, 100)
		spec.MaxScaleUpRate = bounded(upRate, 1.01, 1000)
		spec.PanicThreshold = bounded(thresholdPct, 110, 1000) / 100
		spec.ActivationScale = 1 + int32(activation%5)
		spec.ScaleDownDelay = time.Duration(delaySec%31) * time.Second
		spec.Reachable = reachable
		mspec := linear60
		if weighted {
			mspec.Aggregation = serving.MetricAggregationWeightedExponential
		}

		ready := int32(ready0 % 64)
		s := NewScaler(spec, ready, at(0))
		c := NewCollector(mspec)
		panicking := s.Panicking()
		var prev ScaleResult
		for i := 0; i+2 < len(ops); i += 3 {
			sec := i / 3
			if growOnly {
				ready += int32(ops[i] % 3)
			} else {
				ready = int32(ops[i] % 64)
			}
			if ops[i+2]&1 == 0 {
				for range 1 + int(ops[i+2]>>1&3) {
					c.Record(at(float64(sec)+0.5), Stat{AverageConcurrency: 4 * float64(ops[i+1])})
				}
			}
			if sec%2 != 0 {
				continue
			}
			r := s.Scale(at(float64(sec)), ready, c)
			if !r.ScaleValid {
				if r.DesiredPodCount != -1 || r.Panicking != panicking {
					t.Fatalf("t=%d: invalid Scale = %+v, want desired -1 and panicking %v unchanged", sec, r, panicking)
				}
				continue
			}
			readyF := math.Max(1, float64(ready))
			if r.DesiredPodCount < 0 {
				t.Fatalf("t=%d: Scale(ready %d) desired = %d, want ≥ 0", sec, ready, r.DesiredPodCount)
			}
			if lo := math.Floor(readyF / spec.MaxScaleDownRate); reachable && float64(r.DesiredPodCount) < lo {
				t.Fatalf("t=%d: Scale(ready %d) desired = %d, want ≥ floor(%v/%v) = %v", sec, ready, r.DesiredPodCount, readyF, spec.MaxScaleDownRate, lo)
			}
			if hi := math.Max(math.Ceil(spec.MaxScaleUpRate*readyF), float64(spec.ActivationScale)); growOnly && float64(r.DesiredPodCount) > hi {
				t.Fatalf("t=%d: Scale(ready %d) desired = %d, want ≤ max(ceil(%v·%v), %d) = %v", sec, ready, r.DesiredPodCount, spec.MaxScaleUpRate, readyF, spec.ActivationScale, hi)
			}
			if spec.ScaleDownDelay == 0 && prev.Panicking && r.Panicking && r.DesiredPodCount < prev.DesiredPodCount {
				t.Fatalf("t=%d: panicking desired %d after panicking desired %d, want no decrease", sec, r.DesiredPodCount, prev.DesiredPodCount)
			}
			prev, panicking = r, r.Panicking
		}
	})
}
