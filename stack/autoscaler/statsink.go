package autoscaler

import "k8s.io/apimachinery/pkg/types"

// StatSink receives the stats activators push to the autoscaler (§3.3.3): once a second per
// revision, plus the immediate {concurrency 1, count 1} stat on the first request of a period.
// The key is the revision's namespace and name (its PodAutoscaler has the same name). The live
// KPA records each stat into the revision's Collector and pokes its decider (the scale-from-zero
// trigger); implementations must not block the caller.
type StatSink interface {
	RecordStat(key types.NamespacedName, s Stat)
}

// StatSinkFunc adapts a function to StatSink.
type StatSinkFunc func(key types.NamespacedName, s Stat)

// RecordStat calls f.
func (f StatSinkFunc) RecordStat(key types.NamespacedName, s Stat) { f(key, s) }
