package kpa

import (
	"context"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/autoscaler"
)

func reconcileMetric(t *testing.T, e *env) {
	t.Helper()
	if _, err := (&MetricReconciler{KPA: e.k}).Reconcile(context.Background(), reconcile.Request{NamespacedName: key}); err != nil {
		t.Fatalf("Reconcile metric: %v", err)
	}
}

var weighted = map[string]string{serving.MetricAggregationAnnotationKey: serving.MetricAggregationWeightedExponential}

func TestMetricReconciler_MetricDrivesTheCollector_Section3_3(t *testing.T) {
	m := metricObject("hello-00001-private", weighted)
	m.Spec.StableWindow.Duration, m.Spec.PanicWindow.Duration = 30*time.Second, 3*time.Second
	want := autoscaler.MetricSpec{StableWindow: 30 * time.Second, PanicWindow: 3 * time.Second,
		Aggregation: serving.MetricAggregationWeightedExponential, Scraped: true}

	t.Run("Metric first, then the decider", func(t *testing.T) {
		e := newEnv(t, m.DeepCopy(), paObject(nil))
		reconcileMetric(t, e)
		if got := e.collectorSpec(t); got != want {
			t.Fatalf("collector spec = %+v, want %+v", got, want)
		}
		e.update(t, defaultSpec(nil)) // 60s/6s linear: the Metric wins
		if got := e.collectorSpec(t); got != want {
			t.Errorf("collector spec after Update = %+v, want the Metric's %+v", got, want)
		}
	})
	t.Run("decider first, then the Metric", func(t *testing.T) {
		e := newEnv(t, m.DeepCopy(), paObject(nil))
		e.update(t, defaultSpec(nil))
		if got := e.collectorSpec(t); got.StableWindow != time.Minute || got.Aggregation != serving.MetricAggregationLinear || !got.Scraped {
			t.Fatalf("collector spec from the decider = %+v, want 60s linear scraped", got)
		}
		reconcileMetric(t, e)
		if got := e.collectorSpec(t); got != want {
			t.Errorf("collector spec = %+v, want %+v", got, want)
		}
	})
	t.Run("aggregation from the PA when the Metric has none", func(t *testing.T) {
		e := newEnv(t, metricObject("hello-00001-private", nil), paObject(weighted))
		reconcileMetric(t, e)
		if got := e.collectorSpec(t).Aggregation; got != serving.MetricAggregationWeightedExponential {
			t.Errorf("aggregation = %q, want the PA's weighted-exponential", got)
		}
	})
}

func TestMetricReconciler_MetricGone(t *testing.T) {
	t.Run("collection only: dropped", func(t *testing.T) {
		e := newEnv(t, metricObject("x", nil))
		reconcileMetric(t, e)
		if err := e.c.Delete(context.Background(), metricObject("x", nil)); err != nil {
			t.Fatal(err)
		}
		reconcileMetric(t, e)
		if e.k.lookup(key) != nil {
			t.Errorf("revision still collected after its Metric is gone and it has no decider")
		}
	})
	t.Run("with a decider: kept, back to the decider's spec", func(t *testing.T) {
		e := newEnv(t, metricObject("x", weighted))
		reconcileMetric(t, e)
		e.update(t, defaultSpec(nil))
		if err := e.c.Delete(context.Background(), metricObject("x", nil)); err != nil {
			t.Fatal(err)
		}
		reconcileMetric(t, e)
		e.update(t, defaultSpec(nil))
		if got := e.collectorSpec(t).Aggregation; got != serving.MetricAggregationLinear {
			t.Errorf("aggregation = %q, want the decider's linear once the Metric is gone", got)
		}
		if _, ok := e.k.Decision(key); !ok {
			t.Errorf("decider gone with the Metric, want it kept until Delete")
		}
	})
}
