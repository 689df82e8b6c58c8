// Package configuration stamps out a Revision per Configuration generation and tracks its latest
// created and latest ready Revisions (knative-semantics.md §1.4).
package configuration
