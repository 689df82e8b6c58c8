package queueproxy

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// MetricsPath is the autoscaler's scrape path on the metrics port (§3.3.2).
const MetricsPath = "/metrics"

// DefaultReportingPeriod is how often the stats are snapshotted (§5 Stats).
const DefaultReportingPeriod = time.Second

// PodStat is what :9090/metrics publishes: the last reporting period of one pod, with
// Knative's Stat field names (§3.3.1; see the package doc for an example).
type PodStat struct {
	PodName string `json:"pod_name"`
	// AverageConcurrentRequests is the time-weighted average of requests in flight, all included.
	AverageConcurrentRequests float64 `json:"average_concurrent_requests"`
	// AverageProxiedConcurrentRequests counts only requests from the activator.
	AverageProxiedConcurrentRequests float64 `json:"average_proxied_concurrent_requests"`
	// RequestCount is requests per second (proxied included).
	RequestCount float64 `json:"request_count"`
	// ProxiedRequestCount is activator requests per second.
	ProxiedRequestCount float64 `json:"proxied_request_count"`
	// ProcessUptime is seconds since the queue-proxy started.
	ProcessUptime float64 `json:"process_uptime"`
	// Timestamp is the end of the period, on the queue-proxy's clock.
	Timestamp time.Time `json:"timestamp"`
}

// Prometheus metric names of queue-proxy's stat (Knative's Prometheus stats reporter).
var promNames = []struct{ name, help string }{
	{"queue_average_concurrent_requests", "Number of requests currently being handled by this pod"},
	{"queue_average_proxied_concurrent_requests", "Number of proxied requests currently being handled by this pod"},
	{"queue_requests_per_second", "Number of requests received since last Stat"},
	{"queue_proxied_operations_per_second", "Number of proxied requests received since last Stat"},
	{"process_uptime", "The number of seconds that the process has been up"},
}

// wantsPrometheus reports a scrape asking for the text format.
func wantsPrometheus(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case "prometheus", "text":
		return true
	case "json":
		return false
	}
	accept := r.Header.Get("Accept")
	return !strings.Contains(accept, "application/json") &&
		(strings.Contains(accept, "text/plain") || strings.Contains(accept, "application/openmetrics-text"))
}

func (q *QueueProxy) serveMetrics(w http.ResponseWriter, r *http.Request) {
	st := q.LastStat()
	if wantsPrometheus(r) {
		w.Header().Set(contentTypeHeader, "text/plain; version=0.0.4; charset=utf-8")
		_ = writePrometheus(w, st, q.cfg)
		return
	}
	w.Header().Set(contentTypeHeader, "application/json")
	_ = json.NewEncoder(w).Encode(st)
}

func writePrometheus(w io.Writer, st PodStat, c Config) error {
	labels := fmt.Sprintf(`destination_configuration=%q,destination_namespace=%q,destination_pod=%q,destination_revision=%q`,
		c.Configuration, c.Namespace, st.PodName, c.Revision)
	values := []float64{st.AverageConcurrentRequests, st.AverageProxiedConcurrentRequests, st.RequestCount,
		st.ProxiedRequestCount, st.ProcessUptime}
	var b strings.Builder
	for i, m := range promNames {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s{%s} %g\n", m.name, m.help, m.name, m.name, labels, values[i])
	}
	_, err := io.WriteString(w, b.String())
	return err
}
