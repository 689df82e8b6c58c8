package virtual

import (
	"slices"
	"strings"
	"time"

	"github.com/servingsim/servingsim/stack/activator"
	"github.com/servingsim/servingsim/stack/autoscaler"
)

// Request statistics on the engine's hot path. A pod's queue-proxy stats are a
// queueproxy.StatsCore and an activator's per-revision entry an activator.RevisionStats: the
// cores the live queueproxy.Stats and activator.ConcurrencyReporter wrap with a lock, used
// directly on engine time. What stays here is the reporter's bookkeeping, which the engine
// holds without a map: each throttle carries its revision's entry in its activator, and each
// activator the revisions it holds in the order Report sorts them by (held to the reporter by
// TestActivatorStats_ReportLikeConcurrencyReporter).

// activatorStats is one revision's entry of one activator's reporter (§3.3.3); tracked says
// the reporter holds the entry (it forgets idle revisions).
type activatorStats struct {
	activator.RevisionStats
	tracked bool
}

// reportIn is ConcurrencyReporter.In for th's revision: it returns the immediate stat of the
// first request of a revision the reporter does not hold.
func (a *activatorState) reportIn(now time.Duration, th *throttle) (autoscaler.Stat, bool) {
	rs := &th.stats
	seen := rs.tracked
	if !seen {
		*rs = activatorStats{RevisionStats: activator.NewRevisionStats(now), tracked: true}
		a.track(th)
	}
	rs.In(now)
	if seen {
		return autoscaler.Stat{}, false
	}
	return activator.FirstRequestStat(a.name), true
}

// reportOut is ConcurrencyReporter.Out.
func (a *activatorState) reportOut(now time.Duration, th *throttle) { th.stats.Out(now) }

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
		st, idle := th.stats.Report(now, a.name)
		if idle {
			th.stats.tracked = false
		} else {
			kept = append(kept, th)
		}
		out = append(out, keyedStat{rev: th.rev, stat: st})
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
