package virtual

import (
	"slices"
	"strings"
	"time"

	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/queueproxy"
)

// Request statistics on the engine's hot path. The live stack's queueproxy.Stats and
// activator.ConcurrencyReporter are safe for concurrent use: a mutex per call and, in the
// reporter, a map by revision. The engine runs on one goroutine and already holds each
// revision's per-activator state, so it keeps lock-free mirrors of both: the same arithmetic
// in the same order, so every report is bit-identical (TestStatsMirror_* hold them to the
// originals).

// podStats mirrors queueproxy.Stats: concurrency integrated over time and arrival counts since
// the last report, on engine time.
type podStats struct {
	last              time.Duration
	concurrency       int
	proxied           int
	area, proxiedArea float64
	inUse             float64
	count, proxiedCnt int
}

func newPodStats(now time.Duration) podStats { return podStats{last: now} }

func (s *podStats) compute(now time.Duration) {
	if d := now - s.last; d > 0 {
		secs := seconds(d)
		s.inUse += secs
		s.area += float64(s.concurrency) * secs
		s.proxiedArea += float64(s.proxied) * secs
		s.last = now
	}
}

func (s *podStats) in(now time.Duration, proxied bool) {
	s.compute(now)
	s.concurrency++
	s.count++
	if proxied {
		s.proxied++
		s.proxiedCnt++
	}
}

func (s *podStats) out(now time.Duration, proxied bool) {
	s.compute(now)
	s.concurrency--
	if proxied {
		s.proxied--
	}
}

func (s *podStats) report(now time.Duration) queueproxy.Stat {
	s.compute(now)
	st := queueproxy.Stat{RequestCount: float64(s.count), ProxiedRequestCount: float64(s.proxiedCnt),
		Window: time.Duration(s.inUse * float64(time.Second))}
	if s.inUse > 0 {
		st.AverageConcurrency = s.area / s.inUse
		st.AverageProxiedConcurrency = s.proxiedArea / s.inUse
	}
	s.area, s.proxiedArea, s.inUse, s.count, s.proxiedCnt = 0, 0, 0, 0, 0
	return st
}

// activatorStats mirrors one revision's entry of activator.ConcurrencyReporter (§3.3.3) in one
// activator; tracked says the reporter holds the entry (it forgets idle revisions).
type activatorStats struct {
	stats        podStats
	firstRequest float64
	inFlight     int
	tracked      bool
}

// reportIn is ConcurrencyReporter.In for th's revision: it returns the immediate stat of the
// first request of a revision the reporter does not hold.
func (a *activatorState) reportIn(now time.Duration, th *throttle) (autoscaler.Stat, bool) {
	rs := &th.stats
	seen := rs.tracked
	if !seen {
		*rs = activatorStats{stats: newPodStats(now), firstRequest: 1, tracked: true}
		a.track(th)
	}
	rs.inFlight++
	rs.stats.in(now, false)
	if seen {
		return autoscaler.Stat{}, false
	}
	return autoscaler.Stat{PodName: a.name, AverageConcurrency: 1, RequestCount: 1}, true
}

// reportOut is ConcurrencyReporter.Out.
func (a *activatorState) reportOut(now time.Duration, th *throttle) {
	th.stats.inFlight--
	th.stats.stats.out(now, false)
}

// track adds th to the held revisions, kept in the order Report sorts its stats by, so a
// report needs no sort.
func (a *activatorState) track(th *throttle) {
	i, _ := slices.BinarySearchFunc(a.tracked, th, func(x, y *throttle) int { return compareRevisions(x.rev, y.rev) })
	a.tracked = slices.Insert(a.tracked, i, th)
}

// compareRevisions is the reporter's order of its stats: by namespace, then name; every
// revision of a run is in Spec.Namespace.
func compareRevisions(x, y *revision) int { return strings.Compare(x.key.Name, y.key.Name) }

// report is ConcurrencyReporter.Report: one stat per held revision in revision-name order,
// forgetting the idle ones. The returned slice is reused by the next call.
func (a *activatorState) report(now time.Duration) []keyedStat {
	out := a.reportBuf[:0]
	kept := a.tracked[:0]
	for _, th := range a.tracked {
		rs := &th.stats
		st := rs.stats.report(now)
		adj := rs.firstRequest
		rs.firstRequest = 0
		if rs.inFlight == 0 && st.RequestCount == 0 && st.AverageConcurrency == 0 {
			rs.tracked = false
		} else {
			kept = append(kept, th)
		}
		out = append(out, keyedStat{rev: th.rev, stat: autoscaler.Stat{
			PodName:            a.name,
			AverageConcurrency: max(st.AverageConcurrency-adj, 0),
			RequestCount:       max(st.RequestCount-adj, 0),
		}})
	}
	clear(a.tracked[len(kept):])
	a.tracked = kept
	a.reportBuf = out
	return out
}

// seconds is d.Seconds() without its integer division for the common d under a second,
// where both compute float64(d)/1e9 exactly.
func seconds(d time.Duration) float64 {
	if d >= 0 && d < time.Second {
		return float64(d) / 1e9
	}
	return d.Seconds()
}

type keyedStat struct {
	rev  *revision
	stat autoscaler.Stat
}
