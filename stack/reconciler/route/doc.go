// Package route resolves a Route's traffic to Revisions and programs it as a KIngress plus
// placeholder Services (knative-semantics.md §1.6, §1.8, §6).
package route
