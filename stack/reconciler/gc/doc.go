// Package gc deletes a Configuration's stale non-active Revisions under config-gc
// (knative-semantics.md §1.9). It reconciles Configurations but never writes their status: the
// Configuration reconciler owns that; GC only reads latestReadyRevisionName.
package gc
