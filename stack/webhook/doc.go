// Package webhook is servingsim's admission webhook: Knative's defaulting and validation of
// Services, Configurations, Revisions, Routes and PodAutoscalers (knative-semantics.md §2).
package webhook
