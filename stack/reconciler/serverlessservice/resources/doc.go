// Package resources builds a ServerlessService's private and public K8s Services and public
// Endpoints, and chooses the activator subset backing a revision in Proxy mode by consistent
// hashing (knative-semantics.md §3.6).
package resources
