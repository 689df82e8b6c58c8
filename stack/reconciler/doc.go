// Package reconciler holds what every kind's reconciler shares: the pre- and post-reconcile
// status rules of knative-semantics.md §1.7 (Frame), and the way they talk to the API server.
//
// Status is written as a patch replacing the status alone, skipped when nothing changed, with
// no resourceVersion precondition (each kind's status has one writer; see UpdateStatus).
// Reconcilers read an informer cache that trails their own writes, so each keeps a CacheLag of
// what it wrote and has not seen yet: a reconcile of the copy its last status write replaced is
// skipped (FrameWith; the write's watch event follows), and a child created a moment ago is not
// created again (GetChild, CreateChild, like the ReplicaSet controller's expectations). Writes
// that do not depend on each other go out together (Concurrently). One subpackage per kind
// holds the reconcilers themselves.
package reconciler
