// Package autoscaler holds the pure pieces of the KPA: the decider spec built from a
// PodAutoscaler and config-autoscaler (knative-semantics.md §3.2), the decision a decider returns
// and the initial decision of a decider that has no metrics yet (§3.4). It does no I/O.
package autoscaler
