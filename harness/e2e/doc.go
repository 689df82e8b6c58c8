// Package e2e holds the live end-to-end suites: real HTTP load through the gateway, activator,
// queue-proxies and apps of a running stack, with the KPA deciding (knative-semantics.md §3–§6).
// Its specs are the acceptance checks of the data plane and of the autoscaler in live mode.
package e2e
