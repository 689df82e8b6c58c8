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

// RevisionStats is the arithmetic of one revision's entry in a ConcurrencyReporter (§3.3.3):
// its request statistics and the immediate stat's request still to subtract. Times are offsets
// from any fixed epoch the caller chooses. It is not safe for concurrent use:
// ConcurrencyReporter keeps one per revision behind its lock; the virtual-time engine, on one
// goroutine, keeps one per revision and activator and uses it directly, so both modes compute
// every stat the same way.
type RevisionStats struct {
	stats        queueproxy.StatsCore
	firstRequest float64 // 1 while the immediate stat's request is still to be subtracted
	inFlight     int
}

// NewRevisionStats is the entry of a revision the reporter does not hold, started at now by
// its first request (not yet recorded: call In), whose immediate stat FirstRequestStat is.
func NewRevisionStats(now time.Duration) RevisionStats {
	return RevisionStats{stats: queueproxy.NewStatsCore(now), firstRequest: 1}
}

// FirstRequestStat is the stat an activator named podName sends at once for the first request
// of a revision it does not hold, {concurrency 1, count 1}: it lets the autoscaler scale from
// zero without waiting for the period to end.
func FirstRequestStat(podName string) autoscaler.Stat {
	return autoscaler.Stat{PodName: podName, AverageConcurrency: 1, RequestCount: 1}
}

// In records a request arriving at now.
func (r *RevisionStats) In(now time.Duration) {
	r.inFlight++
	r.stats.In(now, false)
}

// Out records the end at now of a request In recorded.
func (r *RevisionStats) Out(now time.Duration) {
	r.inFlight--
	r.stats.Out(now, false)
}

// Report closes the period at now: the stat of an activator named podName (time-weighted
// average concurrency and arrivals, each minus the immediate stat's request if one was sent
// this period, floored at 0), and whether the revision was idle (no request in flight and none
// in the period), which the reporter forgets.
func (r *RevisionStats) Report(now time.Duration, podName string) (autoscaler.Stat, bool) {
	st := r.stats.Report(now)
	adj := r.firstRequest
	r.firstRequest = 0
	idle := r.inFlight == 0 && st.RequestCount == 0 && st.AverageConcurrency == 0
	return autoscaler.Stat{
		PodName:            podName,
		AverageConcurrency: max(st.AverageConcurrency-adj, 0),
		RequestCount:       max(st.RequestCount-adj, 0),
	}, idle
}

// ConcurrencyReporter accumulates the activator's per-revision request statistics (§3.3.3,
// Knative's ConcurrencyReporter): concurrency integrated over time from a request's arrival
// in the activator (buffering included) to its end, and arrival counts. Callers pass now; it
// never reads a clock. Safe for concurrent use.
type ConcurrencyReporter struct {
	podName string

	mu   sync.Mutex
	revs map[types.NamespacedName]*heldRevision
}

// heldRevision is a RevisionStats on wall-clock times: offsets from the entry's creation.
type heldRevision struct {
	epoch time.Time
	stats RevisionStats
}

// NewConcurrencyReporter returns a reporter whose stats carry podName (the activator's name).
func NewConcurrencyReporter(podName string) *ConcurrencyReporter {
	return &ConcurrencyReporter{podName: podName, revs: map[types.NamespacedName]*heldRevision{}}
}

// In records a request for rev arriving at now. For the first request of a revision unseen in
// the current period it returns the stat to send at once (FirstRequestStat) and true.
func (c *ConcurrencyReporter) In(now time.Time, rev types.NamespacedName) (autoscaler.Stat, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, seen := c.revs[rev]
	if !seen {
		h = &heldRevision{epoch: now, stats: NewRevisionStats(0)}
		c.revs[rev] = h
	}
	h.stats.In(now.Sub(h.epoch))
	if seen {
		return autoscaler.Stat{}, false
	}
	return FirstRequestStat(c.podName), true
}

// Out records the end at now of a request In recorded.
func (c *ConcurrencyReporter) Out(now time.Time, rev types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.revs[rev]
	if h == nil { // cannot happen: a revision with requests in flight is never dropped
		return
	}
	h.stats.Out(now.Sub(h.epoch))
}

// Report closes the period at now and returns one stat per revision seen in it, sorted by
// revision (RevisionStats.Report). A revision with no request in flight and none in the
// period is forgotten, so its next request sends an immediate stat again. Counts are per
// period, as Knative sends them (per second at the default 1s period).
func (c *ConcurrencyReporter) Report(now time.Time) []KeyedStat {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]KeyedStat, 0, len(c.revs))
	for rev, h := range c.revs {
		st, idle := h.stats.Report(now.Sub(h.epoch), c.podName)
		if idle {
			delete(c.revs, rev)
		}
		out = append(out, KeyedStat{Revision: rev, Stat: st})
	}
	slices.SortFunc(out, compareKeyedStats)
	return out
}

// compareKeyedStats is the order of a Report's stats: by revision namespace, then name.
func compareKeyedStats(a, b KeyedStat) int {
	return cmp.Or(cmp.Compare(a.Revision.Namespace, b.Revision.Namespace), cmp.Compare(a.Revision.Name, b.Revision.Name))
}
