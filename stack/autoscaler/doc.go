// Package autoscaler holds the pure cores of the KPA (knative-semantics.md §3): the decider spec
// built from a PodAutoscaler and config-autoscaler (§3.2), the metric windows and per-revision
// Collector (§3.3), the scraper's sample-size rule (§3.3.2), the Scaler that turns window
// averages into a desired scale and excess burst capacity (§3.4), and the initial decision of a
// decider with no metrics yet. It does no I/O, starts no goroutines and reads no clock: every
// method takes the time it acts at, so a live shell and a virtual-time driver share it.
package autoscaler
