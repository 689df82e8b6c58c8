// Package resources builds the children of a Revision — its Deployment (user containers plus the
// queue-proxy sidecar) and its PodAutoscaler — as pure functions of the Revision and config
// (knative-semantics.md §1.2, §1.5, §5).
package resources
