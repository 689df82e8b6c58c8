// Package virtual is servingsim's virtual-time driver (design.md "Two drivers, one core"): a
// discrete-event engine that runs Knative Serving's data path and autoscaling per request, on
// one event queue in virtual time, with no API server, no sockets and no goroutine per request.
// Run(ctx, Spec) returns a Result; the same Spec and seed give an identical Result.
//
// It composes the same deterministic cores the live stack runs:
//   - load: the live load generator's schedules (vegeta's constant, linear and sine pacers and
//     harness/load's segment pacer for steps, spread bursts and ramps from low rates), or a
//     seeded Poisson process (Spec.Arrivals); closed-model clients with think time; traces;
//   - gateway: the weighted split of each route (stack/gateway's rule, one seeded stream) and a
//     uniform pick among the public endpoints: the activators in Proxy mode, the pods in Serve;
//   - activator (§4): the per-revision throttler with Knative's capacity (CC × assigned pods,
//     unlimited for CC 0), pod-to-activator assignment (activator.AssignPods,
//     ActivatorPosition), policies (activator.PolicyFor: random choice of 2, first available,
//     round robin), the 10,000-deep queue and the ConcurrencyReporter's arithmetic with its
//     immediate first-request stat (activator.RevisionStats, the core the live reporter locks);
//   - queue-proxy (§5): queueproxy.StatsCore (the core of the live queueproxy.Stats), the
//     breaker (CC in flight, 10×CC queued, 503 beyond), the drain's quiet period;
//   - app: stack/app's Config (parsed from annotations and env by the scenarios package), its
//     service-time samplers, ?sleep= and its jitter, error rate, concurrency limit and overflow,
//     with stack/app's stream names;
//   - pods: podruntime.DrawPlan's startup phases and faults per pod (stream names follow the
//     pod's name; pods are named <revision>-deployment-NNNNN, so their draws differ from a live
//     run's), after Timing's PodStart and PodSpacing, and the ReplicaSet's victim order on
//     scale-down;
//   - autoscaler (§3): per revision an autoscaler.Collector fed by the 1s scrape (SampleSize,
//     Knative's older-pods-first order, Extrapolate) and the activators' stats, and an
//     autoscaler.Scaler ticking every 2s (and on the scale-from-zero poke);
//   - PodAutoscaler (§3.5): bounds, initial scale, scale-to-zero (stable window, grace period,
//     pod retention, activator in the path), the Active and ScaleTargetInitialized conditions,
//     and the SKS mode and activator count (podautoscaler/resources.SKSMode, NumActivators)
//     with the activator subset by the SKS's consistent hash (ChooseSubset).
//
// # Time
//
// The engine starts at virtual time 0 (Epoch as the cores see it) by creating every
// Configuration's first revision and every Route. Time zero, when the load starts, is
// Timing.RouteReady after every initial revision is Ready and every route has resolved its
// traffic; Result times count from it. Stat periods run on whole engine seconds; a revision's
// scrapes and decider ticks count from its PA's first reconcile. Reaction times the engine
// cannot derive are Timing's configured delays (DefaultTiming documents the defaults, measured
// on the live stack). scenarios/crossval_test.go holds catalog scenarios run both ways
// together (docs/capacity-planning.md "How close to live").
//
// # Simplifications
//
//   - The control plane is not reconciled object by object: the Service/Configuration/Route
//     chain is Spec input (the scenarios package applies Knative's defaulting to it), and the
//     PodAutoscaler, SKS, Deployment and Endpoints are state updated after Timing's delays.
//     The PA rules are ported from stack/reconciler/podautoscaler (its helpers are not
//     exported); the activator probe of scale-to-zero holds when the public endpoints point at
//     the activators.
//   - Revisions are Ready once their scale target is initialized; a route's new traffic block
//     waits until every revision it names is Ready, then switches at once (no gradual rollout,
//     rollout-duration is ignored). Reachability: a revision a route sent to and no longer
//     does is Unreachable; one never routed yet counts as reachable.
//   - A request that finds no pod with room in the activator waits at the head of the queue
//     for the next capacity change (Knative re-enqueues it at the back).
//   - The queue-proxy → app hop is added to the service time; responses return instantly.
//   - Client timeouts cancel a request everywhere at once; a revision timeout shorter than the
//     client's answers 504 counted from the send. Idle and response-start timeouts are not
//     modelled.
//   - failPod makes the pod not-ready and restarts its container after the plan's restart
//     delay (podruntime Plan.Restart: the restart-delay annotation, by default the container
//     start, as live) plus startup; requests in its app finish normally. Crash and never-ready faults
//     keep a pod running but never Ready; unschedulable and image-pull faults keep it pending.
//   - A terminating pod whose grace period ends with requests in flight is removed; those
//     requests still finish.
//   - Every activator probe and scrape succeeds; there is no clusterIP fallback.
//   - Every activator's and queue-proxy's stat period starts on a whole engine second; live,
//     each has its own phase (its start), so how fresh the data a decision sees is differs
//     from run to run there, and here is fixed.
package virtual
