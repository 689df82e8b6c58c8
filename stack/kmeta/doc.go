// Package kmeta derives child object names and owner references the way Knative does
// (knative-semantics.md §1.1), so every reconciler agrees on them.
package kmeta
