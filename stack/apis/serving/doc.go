// Package serving names the labels, annotations and well-known values Knative Serving puts on
// objects (knative-semantics.md §1.2, §2.2, §6), so every component spells them the same way.
package serving
