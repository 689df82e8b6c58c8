package kpa

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/types"

	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/rng"
)

// revision is the KPA state of one revision: Knative's collection (collector + scraper) and
// scalerRunner (scaler + ticker) in one place.
type revision struct {
	key types.NamespacedName
	// pokeCh asks the decision loop for an immediate tick; one pending poke is enough.
	pokeCh chan struct{}
	// stream orders the scraper's sample.
	stream *rng.Stream

	// mu guards everything below; it is never held across I/O.
	mu sync.Mutex
	// collector holds the windows; its spec comes from the Metric once fromMetric, else from
	// the decider spec.
	collector  *autoscaler.Collector
	fromMetric bool
	// scaler is nil until the PodAutoscaler reconciler created the decider (Update).
	scaler *autoscaler.Scaler
	// name is the revision name, the serving.knative.dev/revision label of its pods.
	name string
	// series are the revision's Prometheus gauges.
	series *revisionSeries
	// retired is set by Delete; a retired revision records and reports nothing.
	retired bool

	// cancel and loops stop and await the scrape and decision loops; cancel is nil when the
	// loops never started. Both are set under KPA.mu.
	cancel context.CancelFunc
	loops  sync.WaitGroup
}

func newRevision(key types.NamespacedName, labels map[string]string, spec autoscaler.MetricSpec, stream *rng.Stream, pm *promMetrics) *revision {
	name := revisionName(key, labels)
	return &revision{
		key:       key,
		pokeCh:    make(chan struct{}, 1),
		stream:    stream,
		collector: autoscaler.NewCollector(spec),
		name:      name,
		series:    pm.series(key.Namespace, name, labels),
	}
}

// revisionName is the revision label of a PA or Metric, else its name (they are named after the
// revision).
func revisionName(key types.NamespacedName, labels map[string]string) string {
	if rev := labels[serving.RevisionLabelKey]; rev != "" {
		return rev
	}
	return key.Name
}

// relabel follows a change of the object labels naming the revision and its series. rev.mu is
// held.
func (rev *revision) relabel(labels map[string]string) {
	name := revisionName(rev.key, labels)
	values := seriesValues(rev.key.Namespace, name, labels)
	if name == rev.name && values == rev.series.values {
		return
	}
	rev.name = name
	rev.series.delete()
	rev.series = rev.series.metrics.series(rev.key.Namespace, name, labels)
}

// pokeTick asks for a tick now without blocking: a tick already pending covers this one.
func (rev *revision) pokeTick() {
	select {
	case rev.pokeCh <- struct{}{}:
	default:
	}
}

// stopLoops stops the loops and waits for them.
func (rev *revision) stopLoops() {
	if rev.cancel != nil {
		rev.cancel()
		rev.loops.Wait()
	}
}

// retire ends the revision for good: loops stopped, Prometheus series deleted.
func (rev *revision) retire() {
	rev.stopLoops()
	rev.mu.Lock()
	defer rev.mu.Unlock()
	rev.retired = true
	rev.series.delete()
}

// deciderMetricSpec is the collector spec of a revision whose Metric does not exist yet: the
// decider's windows, the PA's aggregation annotation, scraped unless TBC is -1 (§3.2, §3.3.2).
func deciderMetricSpec(spec autoscaler.DeciderSpec, paAnnotations map[string]string) autoscaler.MetricSpec {
	return autoscaler.MetricSpec{
		StableWindow: spec.StableWindow,
		PanicWindow:  spec.PanicWindow,
		Aggregation:  autoscaler.MetricAggregation(paAnnotations),
		Scraped:      spec.TargetBurstCapacity != -1,
	}
}
