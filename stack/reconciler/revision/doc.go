// Package revision reconciles Revisions into their Deployment and PodAutoscaler and reports the
// Revision's ResourcesAvailable, ContainerHealthy and Active conditions from the Deployment, its
// pods and the PodAutoscaler (knative-semantics.md §1.5).
package revision
