package activator

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/queueproxy"
)

// KeyedStat is one revision's stat for the autoscaler.
type KeyedStat struct {
	Revision types.NamespacedName
	Stat     autoscaler.Stat
}

// ConcurrencyReporter accumulates the activator's per-revision request statistics (§3.3.3,
// Knative's ConcurrencyReporter): concurrency integrated over time from a request's arrival
// in the activator (buffering included) to its end, and arrival counts. Callers pass now; it
// never reads a clock. Safe for concurrent use.
type ConcurrencyReporter struct {
	podName string

	mu   sync.Mutex
	revs map[types.NamespacedName]*revisionStats
}

type revisionStats struct {
	stats        *queueproxy.Stats
	firstRequest float64 // 1 while the immediate stat's request is still to be subtracted
	inFlight     int
}

// NewConcurrencyReporter returns a reporter whose stats carry podName (the activator's name).
func NewConcurrencyReporter(podName string) *ConcurrencyReporter {
	return &ConcurrencyReporter{podName: podName, revs: map[types.NamespacedName]*revisionStats{}}
}

// In records a request for rev arriving at now. For the first request of a revision unseen in
// the current period it returns the stat to send at once, {concurrency 1, count 1}, and true:
// that stat lets the autoscaler scale from zero without waiting for the period to end.
func (c *ConcurrencyReporter) In(now time.Time, rev types.NamespacedName) (autoscaler.Stat, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rs, seen := c.revs[rev]
	if !seen {
		rs = &revisionStats{stats: queueproxy.NewStats(now), firstRequest: 1}
		c.revs[rev] = rs
	}
	rs.inFlight++
	rs.stats.In(now, false)
	if seen {
		return autoscaler.Stat{}, false
	}
	return autoscaler.Stat{PodName: c.podName, AverageConcurrency: 1, RequestCount: 1}, true
}

// Out records the end at now of a request In recorded.
func (c *ConcurrencyReporter) Out(now time.Time, rev types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rs := c.revs[rev]
	if rs == nil { // cannot happen: a revision with requests in flight is never dropped
		return
	}
	rs.inFlight--
	rs.stats.Out(now, false)
}

// Report closes the period at now and returns one stat per revision seen in it, sorted by
// revision: the time-weighted average concurrency over the period and the number of requests
// that arrived in it, each minus the immediate stat's request if one was sent this period
// (floored at 0). A revision with no request in flight and none in the period is forgotten,
// so its next request sends an immediate stat again. Counts are per period, as Knative sends
// them (per second at the default 1s period).
func (c *ConcurrencyReporter) Report(now time.Time) []KeyedStat {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]KeyedStat, 0, len(c.revs))
	for rev, rs := range c.revs {
		st := rs.stats.Report(now)
		adj := rs.firstRequest
		rs.firstRequest = 0
		if rs.inFlight == 0 && st.RequestCount == 0 && st.AverageConcurrency == 0 {
			delete(c.revs, rev)
		}
		out = append(out, KeyedStat{Revision: rev, Stat: autoscaler.Stat{
			PodName:            c.podName,
			AverageConcurrency: max(st.AverageConcurrency-adj, 0),
			RequestCount:       max(st.RequestCount-adj, 0),
		}})
	}
	slices.SortFunc(out, func(a, b KeyedStat) int {
		return cmp.Or(cmp.Compare(a.Revision.Namespace, b.Revision.Namespace), cmp.Compare(a.Revision.Name, b.Revision.Name))
	})
	return out
}
