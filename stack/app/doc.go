// Package app models the user container of a simulated pod: an HTTP handler that serves real
// requests on the pod's loopback IP with a drawn service time, Knative's autoscale test image
// ?sleep= semantics, injected errors, its own concurrency limit, a startup delay and an echo
// mode that shows what the container saw (knative-semantics.md §7.1, §7.2 runtime contract).
//
// # Configuration
//
// Config comes from the pod's annotations (copied from the Revision template, like every
// sim.servingsim.dev/ key) and, overriding them, from the user container's env, so a scenario
// can set it per revision or per container:
//
//	annotation                            env                      value (default)
//	sim.servingsim.dev/app-service-time   SIM_APP_SERVICE_TIME     distribution ("0")
//	sim.servingsim.dev/app-error-rate     SIM_APP_ERROR_RATE       probability of a 500 in [0,1] (0)
//	sim.servingsim.dev/app-concurrency    SIM_APP_CONCURRENCY      requests worked on at once, 0 = unlimited (0)
//	sim.servingsim.dev/app-overflow       SIM_APP_OVERFLOW         "queue" or "reject" beyond app-concurrency ("queue")
//	sim.servingsim.dev/app-startup-delay  SIM_APP_STARTUP_DELAY    distribution, drawn once per pod ("0")
//	sim.servingsim.dev/app-response-bytes SIM_APP_RESPONSE_BYTES   padding bytes appended to each 200 body (0)
//
// Distributions use podruntime.ParseDist's syntax ("100ms", "uniform(50ms,150ms)",
// "exponential(100ms)", "lognormal(100ms,0.5)") plus an empirical histogram,
// "empirical(10ms:50,100ms:30,1s:20)": weight 50 on (0,10ms], 30 on (10ms,100ms], 20 on
// (100ms,1s], uniform within a bucket. The container's PORT (default 8080) is where it listens,
// and its env (PORT, K_SERVICE, K_CONFIGURATION, K_REVISION, ...) is what echo reports.
//
// # Requests
//
// Every request except a kubelet-style probe (User-Agent kube-probe/…, answered 200 at once) is
// counted in flight from arrival to reply; MaxInFlight is the high-water mark that
// TestSingleConcurrency-style checks read. Beyond app-concurrency a request waits inside the app
// (overflow "queue", like a single-threaded server's accept backlog) or gets 503 (overflow
// "reject"). It then takes ?sleep=<ms or Go duration> (with optional ?sleep-stddev= normal
// jitter), or else a service-time draw, fails with 500 at app-error-rate, and answers
// "Slept for N milliseconds." plus the padding. ?echo=1 or the EchoHeader answers with the Echo
// JSON instead (after the same wait, never failing). Every reply the app writes carries
// RevisionHeader (X-Servingsim-Revision) set to the container's K_REVISION, so the scenario
// runner attributes each request to the revision that served it. All waits run on the injected
// clock; all draws come from streams named app/<purpose>/<namespace>/<pod>.
//
// App.Update changes the model of a running app (a scenario's setApp) for the requests that
// arrive afterwards; the same App listens again after its container restarts (Listen), keeping
// its model and counters.
package app
