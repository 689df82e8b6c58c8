package kpa

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/servingsim/servingsim/stack/apis/serving"
)

// Label names of Knative's revision-scoped autoscaler metrics (metrics.RevisionContext).
const (
	LabelNamespace     = "namespace_name"
	LabelService       = "service_name"
	LabelConfiguration = "configuration_name"
	LabelRevision      = "revision_name"
)

var seriesLabelNames = []string{LabelNamespace, LabelService, LabelConfiguration, LabelRevision}

// gaugeID indexes the autoscaler's per-revision gauges.
type gaugeID int

const (
	gaugeDesiredPods gaugeID = iota
	gaugeActualPods
	gaugeStableConcurrency
	gaugePanicConcurrency
	gaugeTargetConcurrency
	gaugeExcessBurstCapacity
	gaugePanicMode
	gaugeStableRPS
	gaugePanicRPS
	gaugeTargetRPS
	numGauges
)

// gaugeDefs are Knative's autoscaler metric names and help texts (pkg/autoscaler/metrics).
// autoscaler_requested_pods is left out: Knative reports it where the PA reconciler patches the
// Deployment, which is stack/reconciler/podautoscaler, not the KPA.
var gaugeDefs = [numGauges]struct{ name, help string }{
	gaugeDesiredPods:         {"autoscaler_desired_pods", "Number of pods autoscaler wants to allocate"},
	gaugeActualPods:          {"autoscaler_actual_pods", "Number of pods that are allocated currently"},
	gaugeStableConcurrency:   {"autoscaler_stable_request_concurrency", "Average of requests count per observed pod over the stable window"},
	gaugePanicConcurrency:    {"autoscaler_panic_request_concurrency", "Average of requests count per observed pod over the panic window"},
	gaugeTargetConcurrency:   {"autoscaler_target_concurrency_per_pod", "The desired number of concurrent requests for each pod"},
	gaugeExcessBurstCapacity: {"autoscaler_excess_burst_capacity", "Excess burst capacity overserved over the stable window"},
	gaugePanicMode:           {"autoscaler_panic_mode", "1 if autoscaler is in panic mode, 0 otherwise"},
	gaugeStableRPS:           {"autoscaler_stable_requests_per_second", "Average requests-per-second per observed pod over the stable window"},
	gaugePanicRPS:            {"autoscaler_panic_requests_per_second", "Average requests-per-second per observed pod over the panic window"},
	gaugeTargetRPS:           {"autoscaler_target_requests_per_second", "The desired requests-per-second for each pod"},
}

// promMetrics are the KPA's gauge vectors and the registry Handler serves.
type promMetrics struct {
	registry *prometheus.Registry
	vecs     [numGauges]*prometheus.GaugeVec
}

func newPromMetrics(extra prometheus.Registerer) (*promMetrics, error) {
	pm := &promMetrics{registry: prometheus.NewRegistry()}
	for i, d := range gaugeDefs {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: d.name, Help: d.help}, seriesLabelNames)
		pm.registry.MustRegister(v)
		if extra != nil {
			// Fails when another KPA already registered there: one KPA per registry.
			if err := extra.Register(v); err != nil {
				return nil, fmt.Errorf("register %s: %w", d.name, err)
			}
		}
		pm.vecs[i] = v
	}
	return pm, nil
}

// seriesValues are the label values of a revision's series, in seriesLabelNames order.
func seriesValues(ns, revisionName string, labels map[string]string) [4]string {
	return [4]string{ns, labels[serving.ServiceLabelKey], labels[serving.ConfigurationLabelKey], revisionName}
}

// series returns the (lazily created) gauges of one revision.
func (pm *promMetrics) series(ns, revisionName string, labels map[string]string) *revisionSeries {
	return &revisionSeries{metrics: pm, values: seriesValues(ns, revisionName, labels)}
}

// revisionSeries caches one revision's gauge children, so a tick sets gauges without hashing
// label values. A gauge is created on its first Set: a concurrency revision never exports the
// RPS gauges, as in Knative. Callers serialise access (revision.mu).
type revisionSeries struct {
	metrics *promMetrics
	values  [4]string
	gauges  [numGauges]prometheus.Gauge
}

func (s *revisionSeries) set(id gaugeID, v float64) {
	g := s.gauges[id]
	if g == nil {
		g = s.metrics.vecs[id].WithLabelValues(s.values[:]...)
		s.gauges[id] = g
	}
	g.Set(v)
}

// delete removes every series the revision exported.
func (s *revisionSeries) delete() {
	for id, g := range s.gauges {
		if g != nil {
			s.metrics.vecs[id].DeleteLabelValues(s.values[:]...)
			s.gauges[id] = nil
		}
	}
}

// Handler serves the autoscaler_* metrics in the Prometheus text format (the autoscaler's
// :9090/metrics).
func (k *KPA) Handler() http.Handler {
	return promhttp.HandlerFor(k.metrics.registry, promhttp.HandlerOpts{})
}

// Gatherer is the KPA's own registry, for tests and aggregation with other registries.
func (k *KPA) Gatherer() prometheus.Gatherer { return k.metrics.registry }
