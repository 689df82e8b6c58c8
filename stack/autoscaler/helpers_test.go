package autoscaler

import (
	"math"
	"time"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/config"
)

// epoch is the virtual start of every walk: a whole (and even) Unix second, so second k of a walk
// is bucket k of the metric windows and tick k/2 of the scale-down-delay window.
var epoch = time.Unix(1_700_000_000, 0).UTC()

// at is epoch + sec seconds.
func at(sec float64) time.Time {
	return epoch.Add(time.Duration(math.Round(sec * float64(time.Second))))
}

// fixedMetrics is a MetricSource with set averages, for decisions that need no windows.
type fixedMetrics struct {
	stable, panic float64
	err           error
}

func (f fixedMetrics) StableAndPanic(string, time.Time) (float64, float64, error) {
	return f.stable, f.panic, f.err
}

// specFor is MakeDeciderSpec of a reachable PA with container concurrency cc and annotations
// annos under the Knative defaults changed by cfg.
func specFor(cc int64, annos map[string]string, cfg func(*config.Autoscaler)) DeciderSpec {
	c := config.DefaultAutoscaler()
	if cfg != nil {
		cfg(c)
	}
	return MakeDeciderSpec(pa(cc, autoscalingv1alpha1.ReachabilityReachable, annos), c)
}

// defaultSpec is the decider spec of Knative's defaults: target 70, total 100, TBC 211, panic
// threshold 2, windows 60s/6s, max-scale-up-rate 1000, max-scale-down-rate 2.
func defaultSpec() DeciderSpec { return specFor(0, nil, nil) }

// podStats is n identical pod stats of concurrency c each.
func podStats(n int, c float64) []Stat {
	out := make([]Stat, n)
	for i := range out {
		out[i] = Stat{PodName: "pod", AverageConcurrency: c}
	}
	return out
}

// walk records load(sec) at each whole second from 0 to end and, on every even second (the 2s
// tick), calls Scale after that second's records and hands the result to check.
func walk(s *Scaler, c *Collector, end int, ready func(sec int) int32, load func(sec int) []Stat, check func(sec int, r ScaleResult)) {
	for sec := 0; sec <= end; sec++ {
		for _, st := range load(sec) {
			c.Record(at(float64(sec)), st)
		}
		if sec%2 == 0 {
			check(sec, s.Scale(at(float64(sec)), ready(sec), c))
		}
	}
}

func constReady(n int32) func(int) int32 { return func(int) int32 { return n } }
