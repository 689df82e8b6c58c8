// Package load drives HTTP load at the gateway with vegeta (as a library): a Target (Host header
// of a ksvc, tag or cluster-local host, path, method, headers, body) and a list of phases —
// Constant, Ramp, Step, Sine, Burst, Trace (open model, vegeta's pacers; Step, spread Bursts,
// Traces and Ramps from low rates with our own vegeta.Pacers), Concurrent (closed model) and
// Idle — run back to back. Every request sent has exactly one
// vegeta.Result (Run checks it), so results feed vegeta's encoders, metrics and reporters.
//
// Each open-model phase plans ⌊∫rate⌋ requests on its pacer's schedule and stops at the plan
// or when the next request would be due after its length plus a catch-up grace (10%, at least
// 100ms); the next phase starts when the previous one's length has passed. Rates, durations
// and clients are bounded (MaxRate, MaxTotalDuration, MaxClients). Time is the wall clock, as
// vegeta's attacker uses it.
//
// Every request carries gateway.RequestIDHeader, "<Options.Stream>/<phase name>/<Result.Seq>":
// the targeter numbers requests and each Result is renumbered to match (vegeta numbers Results
// before calling the targeter, so its own Seq cannot be stamped), so the gateway draws each
// request's weighted split from its identity rather than from arrival order, and same-seed
// runs assign the same requests to the same revisions.
package load
