package autoscaler

import (
	"errors"
	"time"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/config"
)

// ErrNoData is what a Collector answers when its revision has a scrape target but nothing was
// recorded within the stable window; the decider then makes no decision (§3.3.5).
var ErrNoData = errors.New("no metric data in the stable window")

// Stat is one report about a revision: from the scraper (the revision-wide estimate, §3.3.2) or
// from one activator (§3.3.3). Concurrencies are time-weighted averages over the report's second;
// counts are requests in that second.
type Stat struct {
	PodName                   string
	AverageConcurrency        float64
	AverageProxiedConcurrency float64
	RequestCount              float64
	ProxiedRequestCount       float64
}

// MetricSpec configures the Collector of one revision: Knative's Metric object (§3.2, §3.3).
type MetricSpec struct {
	// StableWindow and PanicWindow are the lengths of the two averaging windows.
	StableWindow time.Duration
	PanicWindow  time.Duration
	// Aggregation is the metric-aggregation-algorithm: linear ("" or "linear") or
	// weighted-exponential.
	Aggregation string
	// Scraped is false when the revision has no scrape target (TBC = -1, §3.3.2): only the
	// activator reports, and an empty window reads as 0 instead of ErrNoData.
	Scraped bool
}

// MakeMetricSpec builds the metric spec of pa under cfg: the windows of MakeDeciderSpec, the
// metric-aggregation-algorithm annotation, and a scrape target unless TBC is -1.
func MakeMetricSpec(pa *autoscalingv1alpha1.PodAutoscaler, cfg *config.Autoscaler) MetricSpec {
	ds := MakeDeciderSpec(pa, cfg)
	return MetricSpec{
		StableWindow: ds.StableWindow,
		PanicWindow:  ds.PanicWindow,
		Aggregation:  MetricAggregation(pa.Annotations),
		Scraped:      ds.TargetBurstCapacity != -1,
	}
}

// MetricAggregation is the metric-aggregation-algorithm annotation (either spelling), default
// linear.
func MetricAggregation(annos map[string]string) string {
	if v, ok := lookup(annos, serving.MetricAggregationAnnotationKey, serving.MetricAggregationAnnotationKeyAlternative); ok && v != "" {
		return v
	}
	return serving.MetricAggregationLinear
}

// MetricSource is what a Scaler reads: the stable and panic window averages of one revision's
// metric (concurrency or rps) at now, or ErrNoData.
type MetricSource interface {
	StableAndPanic(metric string, now time.Time) (stableAvg, panicAvg float64, err error)
}

var _ MetricSource = (*Collector)(nil)

// Collector is the metric store of one revision (Knative's collection, §3.3.4): every Stat goes
// into a stable and a panic window for concurrency and for RPS. It is not safe for concurrent
// use; a live shell serialises calls.
type Collector struct {
	spec        MetricSpec
	concurrency windowPair
	rps         windowPair
}

type windowPair struct{ stable, panic *Buckets }

func newWindowPair(spec MetricSpec) windowPair {
	return windowPair{stable: NewBuckets(spec.StableWindow), panic: NewBuckets(spec.PanicWindow)}
}

// NewCollector returns an empty Collector.
func NewCollector(spec MetricSpec) *Collector {
	return &Collector{spec: spec, concurrency: newWindowPair(spec), rps: newWindowPair(spec)}
}

// Spec is the current metric spec.
func (c *Collector) Spec() MetricSpec { return c.spec }

// Update changes the spec live; windows of a new length keep their newest buckets.
func (c *Collector) Update(spec MetricSpec) {
	for _, p := range []windowPair{c.concurrency, c.rps} {
		p.stable.Resize(spec.StableWindow)
		p.panic.Resize(spec.PanicWindow)
	}
	c.spec = spec
}

// Record adds s at now, as the collector does (§3.3.4): concurrency = average − proxied average
// and rps = requests − proxied requests (the activator reports proxied traffic itself). Stats
// landing in the same one-second bucket are summed.
func (c *Collector) Record(now time.Time, s Stat) {
	conc := s.AverageConcurrency - s.AverageProxiedConcurrency
	rps := s.RequestCount - s.ProxiedRequestCount
	c.concurrency.stable.Record(now, conc)
	c.concurrency.panic.Record(now, conc)
	c.rps.stable.Record(now, rps)
	c.rps.panic.Record(now, rps)
}

// StableAndPanic returns the stable and panic window averages of metric (rps, else concurrency)
// at now. With a scrape target and nothing recorded in the stable window it returns ErrNoData.
func (c *Collector) StableAndPanic(metric string, now time.Time) (stableAvg, panicAvg float64, err error) {
	p := c.concurrency
	if metric == serving.MetricRPS {
		p = c.rps
	}
	if c.spec.Scraped && p.stable.IsEmpty(now) {
		return 0, 0, ErrNoData
	}
	return c.average(p.stable, now), c.average(p.panic, now), nil
}

func (c *Collector) average(b *Buckets, now time.Time) float64 {
	if isWeighted(c.spec.Aggregation) {
		return weightedAverage(b, SmoothingCoefficient(b.Len()), now)
	}
	return b.WindowAverage(now)
}
