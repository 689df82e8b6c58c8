// Package harness starts a whole servingsim stack (real API server, webhook, reconcilers, pod
// runtime, gateway) for suites and the CLI, and gives them a client, a namespace per spec and
// helpers for waiting on Knative conditions.
package harness
