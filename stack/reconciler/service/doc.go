// Package service reconciles a Knative Service into its Configuration and Route and reports their
// state as its own (knative-semantics.md §1.3).
package service
