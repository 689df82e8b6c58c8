package kpa

import (
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/servingsim/servingsim/stack/autoscaler"
)

// The KPA's per-revision work: a collection tick every second (the scraper's record plus an
// activator stat) and a decision every 2s. Pod listing and HTTP are excluded: they are the
// manager cache's and the network's. Budget: < 20µs per decision.

// benchKPA is a KPA with n revisions, each with a full 60s window of one scraper and one
// activator stat per second, and a subscriber, on a fake clock at t0+60s.
func benchKPA(b *testing.B, n int) (*KPA, []*revision, time.Time) {
	b.Helper()
	clk := clocktesting.NewFakeClock(t0)
	k, err := New(Options{Clock: clk})
	if err != nil {
		b.Fatal(err)
	}
	cancel := k.Subscribe(func(DecisionEvent) {})
	b.Cleanup(cancel)
	spec := defaultSpec(nil)
	revs := make([]*revision, n)
	for i := range revs {
		rk := types.NamespacedName{Namespace: "ns", Name: fmt.Sprintf("rev-%05d", i)}
		rev := k.ensureRevision(rk, nil, deciderMetricSpec(spec, nil))
		rev.scaler = autoscaler.NewScaler(spec, 5, t0)
		for sec := range 60 {
			at := t0.Add(time.Duration(sec) * time.Second)
			rev.collector.Record(at, autoscaler.Stat{PodName: autoscaler.ScraperPodName, AverageConcurrency: 300 + float64(sec)})
			rev.collector.Record(at, autoscaler.Stat{PodName: "activator", AverageConcurrency: 20})
		}
		revs[i] = rev
	}
	return k, revs, t0.Add(59*time.Second + 500*time.Millisecond)
}

// BenchmarkCollectionTick is one second of one revision: the scraper's extrapolated stat and an
// activator stat (RecordStat) into its windows.
func BenchmarkCollectionTick(b *testing.B) {
	clk := clocktesting.NewFakeClock(t0)
	k, err := New(Options{Clock: clk})
	if err != nil {
		b.Fatal(err)
	}
	rev := k.ensureRevision(key, nil, deciderMetricSpec(defaultSpec(nil), nil))
	rev.scaler = autoscaler.NewScaler(defaultSpec(nil), 5, t0)
	scraped := autoscaler.Stat{PodName: autoscaler.ScraperPodName, AverageConcurrency: 310}
	activator := autoscaler.Stat{PodName: "activator", AverageConcurrency: 20}
	b.ReportAllocs()
	for b.Loop() {
		clk.Step(time.Second)
		rev.mu.Lock()
		rev.collector.Record(clk.Now(), scraped)
		rev.mu.Unlock()
		k.RecordStat(key, activator)
	}
}

// BenchmarkDecisionTick is one decision of one revision with full windows: averages, Scale,
// gauges and a DecisionEvent.
func BenchmarkDecisionTick(b *testing.B) {
	k, revs, now := benchKPA(b, 1)
	b.ReportAllocs()
	for b.Loop() {
		k.decide(revs[0], now, 5)
	}
}

// BenchmarkDecisionTick3000Revisions is one 2s tick over 3,000 revisions; ns/decision is the
// cost per revision.
func BenchmarkDecisionTick3000Revisions(b *testing.B) {
	const n = 3000
	k, revs, now := benchKPA(b, n)
	b.ReportAllocs()
	iters := 0
	for b.Loop() {
		for _, rev := range revs {
			k.decide(rev, now, 5)
		}
		iters++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(iters*n), "ns/decision")
}
