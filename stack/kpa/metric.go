package kpa

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/autoscaler"
)

// MetricControllerName names the Metric controller.
const MetricControllerName = "kpa-metric"

// MetricReconciler is Knative's metric reconciler: it keeps the KPA's collection of each
// revision in line with the revision's Metric object (§3.3). The Metric's status is not written.
type MetricReconciler struct {
	KPA *KPA
}

var _ reconcile.Reconciler = (*MetricReconciler)(nil)

// Reconcile creates or updates the revision's collector from its Metric, or drops the
// collection when the Metric is gone.
func (r *MetricReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	k := r.KPA
	m := &autoscalingv1alpha1.Metric{}
	if err := k.reader.Get(ctx, req.NamespacedName, m); err != nil {
		if apierrors.IsNotFound(err) {
			k.metricGone(req.NamespacedName)
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, fmt.Errorf("get metric %s: %w", req.NamespacedName, err)
	}
	if !m.DeletionTimestamp.IsZero() {
		k.metricGone(req.NamespacedName)
		return reconcile.Result{}, nil
	}
	annos := m.Annotations
	if !hasAggregation(annos) {
		// The Metric carries its PA's annotations; a hand-made one may not.
		pa := &autoscalingv1alpha1.PodAutoscaler{}
		if err := k.reader.Get(ctx, req.NamespacedName, pa); err == nil {
			annos = pa.Annotations
		}
	}
	k.setMetric(req.NamespacedName, m.Labels, MetricSpecOf(m, annos))
	return reconcile.Result{}, nil
}

// MetricSpecOf is the collector spec a Metric asks for: its windows, scraped iff it has a scrape
// target (none when TBC is -1, §3.3.2), and the metric-aggregation-algorithm of annos.
func MetricSpecOf(m *autoscalingv1alpha1.Metric, annos map[string]string) autoscaler.MetricSpec {
	return autoscaler.MetricSpec{
		StableWindow: m.Spec.StableWindow.Duration,
		PanicWindow:  m.Spec.PanicWindow.Duration,
		Aggregation:  autoscaler.MetricAggregation(annos),
		Scraped:      m.Spec.ScrapeTarget != "",
	}
}

func hasAggregation(annos map[string]string) bool {
	_, a := annos[serving.MetricAggregationAnnotationKey]
	_, b := annos[serving.MetricAggregationAnnotationKeyAlternative]
	return a || b
}

// setMetric makes the Metric's spec the revision's collector spec from now on.
func (k *KPA) setMetric(key types.NamespacedName, labels map[string]string, spec autoscaler.MetricSpec) {
	rev := k.ensureRevision(key, labels, spec)
	rev.mu.Lock()
	defer rev.mu.Unlock()
	rev.fromMetric = true
	if rev.collector.Spec() != spec {
		rev.collector.Update(spec)
		if k.observers.observing() {
			k.observers.observe(Observation{Kind: ObservedCollector, Time: k.clock.Now(), Key: key, MetricSpec: spec})
		}
	}
}

// metricGone drops a revision that only had a collection; one with a decider keeps collecting
// by its decider spec until Delete.
func (k *KPA) metricGone(key types.NamespacedName) {
	k.mu.Lock()
	rev := k.revisions[key]
	if rev == nil {
		k.mu.Unlock()
		return
	}
	rev.mu.Lock()
	hasDecider := rev.scaler != nil
	if hasDecider {
		rev.fromMetric = false
	}
	rev.mu.Unlock()
	if !hasDecider {
		delete(k.revisions, key)
		k.dropLocked(rev)
	}
	k.mu.Unlock()
	if !hasDecider {
		rev.retire()
	}
}
