// Package queueproxy is the queue-proxy sidecar of a simulated pod: a real HTTP reverse proxy on
// the pod's loopback IP in front of the app model, with Knative's handler chain (drainer and
// health checks, timeouts, Forwarded shim, stats and breaker, Host restore), its readiness
// prober, the 1s stat on :9090/metrics, /wait-for-drain on :8022 and the graceful drain
// (knative-semantics.md §5, §3.3.1). Sandbox runs one app plus one queue-proxy per pod for the
// pod runtime.
//
// Breaker and Stats are pure cores (no goroutines; Stats takes now as an argument) so a
// virtual-time driver can reuse them; the servers and tickers around them run on an injected
// clock.
//
// # Metrics format
//
// GET :9090/metrics answers the last complete reporting period (1s) as JSON (PodStat):
//
//	{"pod_name":"rev-00001-deployment-abc-xyz","average_concurrent_requests":1.0,
//	 "average_proxied_concurrent_requests":0.0,"request_count":2,"proxied_request_count":0,
//	 "process_uptime":12.5,"timestamp":"2026-01-01T00:00:12Z"}
//
// Averages are time-weighted over the period; counts are per second (requests in the period /
// period seconds), as in Knative's protobuf Stat; proxied requests (K-Proxy-Request: activator)
// are included in the totals and also counted apart. With ?format=prometheus or an Accept
// header asking for text/plain the same numbers come in Prometheus text format under Knative's
// names (queue_average_concurrent_requests, queue_average_proxied_concurrent_requests,
// queue_requests_per_second, queue_proxied_operations_per_second, process_uptime) labelled
// destination_namespace, destination_configuration, destination_revision, destination_pod.
package queueproxy
