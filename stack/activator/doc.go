// Package activator is servingsim's Knative activator (knative-semantics.md §4): the in-process
// HTTP proxy that sits in a revision's data path while its SKS is in Proxy mode. It buffers
// requests while the revision has no ready pods, throttles them per revision to the capacity
// of the pods assigned to this activator, load-balances them over those pods, and reports
// per-revision concurrency to the autoscaler (§3.3.3).
//
// The decision-making parts are pure cores with no I/O and no clock reads, so a virtual-time
// driver can reuse them:
//   - Breaker: a FIFO semaphore whose capacity changes as backends come and go.
//   - Throttler: one revision's revision breaker, pod trackers, pod-to-activator assignment
//     (AssignPods, ActivatorPosition) and load-balancing policies (random choice of 2, first
//     available, round robin).
//   - ConcurrencyReporter: time-weighted concurrency and request counts per revision, with the
//     immediate first-request stat; callers pass now.
//
// Around them, Activator is the live shell: the handler chain on Address:8012, backend
// discovery from the revision's private Endpoints with readiness probes, the activator index
// from its public Endpoints, and the 1s stat reporter, all on an injected clock.
//
// # Simplifications
//
//   - Only HTTP/1 on 8012: no h2c listener on 8013 and no TLS on 8112; upstream always
//     podIP:8012.
//   - No clusterIP fallback ("podsAddressable=false", #15477): pods are always probed and
//     addressed directly. Only ready addresses are candidates (no probing of not-ready pods).
//   - The revision breaker bounds its queue at 10,000 waiting requests; Knative's bound
//     (queue depth + MaxInt32 in-flight slots) never bites. The CC=0 "infinite breaker" is the
//     same breaker at capacity 0 or UnlimitedCapacity, so it is bounded the same way.
//   - A request re-enqueued after a failed pick waits for the next change of pod capacity
//     instead of spinning through the breaker.
//   - The upstream dial backoff retries timed-out dials only (as Knative) but without the
//     jittered sleeps between attempts.
//   - Full-duplex, metric, request-log and tracing handlers are left out of the chain.
//   - Stats go to an autoscaler.StatSink in-process instead of a websocket.
package activator
