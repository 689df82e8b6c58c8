// Package podautoscaler reconciles PodAutoscalers (KPA class): it keeps the revision's
// ServerlessService and Metric, asks a Decider for the desired scale, applies scale bounds and
// the scale-to-zero rules to the Deployment's replicas, and reports Active,
// ScaleTargetInitialized and SKSReady (knative-semantics.md §3.5).
package podautoscaler
