// Package serverlessservice reconciles ServerlessServices: the private Service selecting a
// revision's pods, the selector-less public Service, and the public Endpoints that point at the
// pods (Serve) or at a consistent-hash subset of activators (Proxy) (knative-semantics.md §3.6).
package serverlessservice
