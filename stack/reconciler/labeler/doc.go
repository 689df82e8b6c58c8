// Package labeler marks every Configuration and Revision a Route references with the routes
// annotation and, for Revisions, the routingState label (knative-semantics.md §1.2).
package labeler
