package autoscaler

import (
	"testing"
	"time"

	"github.com/servingsim/servingsim/stack/apis/serving"
)

// The KPA decides every 2s and records every second for each revision, so these are the
// per-revision costs of the autoscaler; the budget is < 20µs per decision.

var benchAlgorithms = []string{serving.MetricAggregationLinear, serving.MetricAggregationWeightedExponential}

// filledCollector has a full 60s window of one scraper and one activator stat per second.
func filledCollector(algo string) *Collector {
	spec := linear60
	spec.Aggregation = algo
	c := NewCollector(spec)
	for sec := 0; sec < 60; sec++ {
		c.Record(at(float64(sec)+0.1), Stat{PodName: ScraperPodName, AverageConcurrency: 300 + float64(sec), RequestCount: 900})
		c.Record(at(float64(sec)+0.6), Stat{PodName: "activator", AverageConcurrency: 20, RequestCount: 60})
	}
	return c
}

// BenchmarkScale is one decision: both window averages of a full 60s window plus Scale().
func BenchmarkScale(b *testing.B) {
	for _, algo := range benchAlgorithms {
		b.Run(algo, func(b *testing.B) {
			c := filledCollector(algo)
			s := NewScaler(defaultSpec(), 5, at(0))
			now := at(59.5)
			b.ReportAllocs()
			for b.Loop() {
				s.Scale(now, 5, c)
			}
		})
	}
}

// BenchmarkScaleDecisionOnly is Scale() with the averages given, without window arithmetic.
func BenchmarkScaleDecisionOnly(b *testing.B) {
	spec := defaultSpec()
	spec.ScaleDownDelay = time.Minute
	s := NewScaler(spec, 5, at(0))
	m := fixedMetrics{stable: 320, panic: 350}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Scale(at(float64(2*i)), 5, m)
		i++
	}
}

// BenchmarkRecordTick is one second of one revision: a scraper and an activator Record, then the
// stable and panic averages.
func BenchmarkRecordTick(b *testing.B) {
	for _, algo := range benchAlgorithms {
		b.Run(algo, func(b *testing.B) {
			c := filledCollector(algo)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				now := at(float64(60 + i))
				c.Record(now, Stat{PodName: ScraperPodName, AverageConcurrency: 310, RequestCount: 900})
				c.Record(now, Stat{PodName: "activator", AverageConcurrency: 20, RequestCount: 60})
				_, _, _ = c.StableAndPanic(serving.MetricConcurrency, now)
				i++
			}
		})
	}
}
