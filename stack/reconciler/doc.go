// Package reconciler holds what every kind's reconciler shares: the pre- and post-reconcile
// status rules of knative-semantics.md §1.7 and status writes that skip no-op updates. One
// subpackage per kind holds the reconcilers themselves.
package reconciler
