// Package duck holds the status shapes every servingsim resource shares with Knative: conditions,
// the common Status block, addressable URLs, and the "living" condition-set rules of
// knative-semantics.md §1.7 that decide a resource's Ready condition from its dependents.
//
// +kubebuilder:object:generate=true
package duck
