// Package kpa is the live shell around the pure KPA cores of stack/autoscaler: Knative's
// autoscaler process (knative-semantics.md §3) run in-process.
//
// Per revision it keeps a metric Collector, driven by the revision's Metric object (windows,
// scrape target, aggregation annotation) or, until that exists, by the decider spec; a scraper
// that every second samples the revision's ready pods' queue-proxy stats (§3.3.2); and a decider
// that every 2s runs Scaler.Scale and pokes the PodAutoscaler reconciler when the desired scale
// changes or the excess burst capacity flips sign (§3.4). Activator stats arrive through
// RecordStat (autoscaler.StatSink) and tick a revision at scale 0 at once (the scale-from-zero
// poke, §3.3.3).
//
// Every decision is published as a DecisionEvent to subscribers and as Knative's autoscaler_*
// Prometheus gauges. Observe sees, synchronously and in the order each revision's cores saw
// them, every collector and decider (re)spec, stat and tick with the exact times used: what a
// recording needs to be replayed tick for tick (scenarios/recording).
//
// KPA implements podautoscaler.Decider and autoscaler.StatSink, and registers its Metric
// controller and its loops on a controller-runtime manager (SetupWithManager).
package kpa
