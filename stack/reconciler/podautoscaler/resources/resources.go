package resources

import (
	"math"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/kmeta"
)

// MinActivators is the smallest activator subset backing a revision (§3.5.6).
const MinActivators int32 = 2

// PodAutoscalerGVK is the owner kind of the PA's children.
var PodAutoscalerGVK = autoscalingv1alpha1.SchemeGroupVersion.WithKind("PodAutoscaler")

func childMeta(pa *autoscalingv1alpha1.PodAutoscaler, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:      name,
		Namespace: pa.Namespace,
		Labels:    kmeta.UnionMaps(pa.Labels),
		Annotations: kmeta.FilterMap(pa.Annotations, func(k string) bool {
			return k == serving.LastAppliedConfigurationAnnotation
		}),
		OwnerReferences: []metav1.OwnerReference{kmeta.NewControllerRef(pa, PodAutoscalerGVK)},
	}
}

// MakeSKS builds the PA's ServerlessService in mode with numActivators (§3.5.1, §3.5.5).
func MakeSKS(pa *autoscalingv1alpha1.PodAutoscaler, mode netv1alpha1.ServerlessServiceOperationMode, numActivators int32) *netv1alpha1.ServerlessService {
	return &netv1alpha1.ServerlessService{
		ObjectMeta: childMeta(pa, kmeta.ServerlessServiceName(pa.Name)),
		Spec: netv1alpha1.ServerlessServiceSpec{
			Mode:          mode,
			ObjectRef:     pa.Spec.ScaleTargetRef,
			ProtocolType:  string(pa.Spec.ProtocolType),
			NumActivators: numActivators,
		},
	}
}

// MakeMetric builds the PA's Metric: the decider's windows and the scrape target (§3.3).
func MakeMetric(pa *autoscalingv1alpha1.PodAutoscaler, spec autoscaler.DeciderSpec, scrapeTarget string) *autoscalingv1alpha1.Metric {
	return &autoscalingv1alpha1.Metric{
		ObjectMeta: childMeta(pa, kmeta.MetricName(pa.Name)),
		Spec: autoscalingv1alpha1.MetricSpec{
			StableWindow: metav1.Duration{Duration: spec.StableWindow},
			PanicWindow:  metav1.Duration{Duration: spec.PanicWindow},
			ScrapeTarget: scrapeTarget,
		},
	}
}

// ScrapeTarget is the Service the metric collector scrapes: the private service, or nothing when
// TBC is -1 and only the activator's numbers count (§3.3 step 2).
func ScrapeTarget(spec autoscaler.DeciderSpec, privateService string) string {
	if spec.TargetBurstCapacity == -1 {
		return ""
	}
	return privateService
}

// NumActivators is max(2, ceil((ready × total + TBC if > 0) / activator-capacity)), or 2 when
// TBC is 0 (§3.5.6).
func NumActivators(ready int, spec autoscaler.DeciderSpec) int32 {
	if spec.TargetBurstCapacity == 0 || spec.ActivatorCapacity <= 0 {
		return MinActivators
	}
	capacity := float64(ready) * spec.TotalValue
	if spec.TargetBurstCapacity > 0 {
		capacity += spec.TargetBurstCapacity
	}
	return max(MinActivators, int32(math.Ceil(capacity/spec.ActivatorCapacity)))
}

// SKSMode is Serve iff the autoscaler wants pods and has excess burst capacity, else Proxy
// (§3.5.5). A decider without data (want -1) therefore keeps the activator in the path.
func SKSMode(want, excessBurstCapacity int32) netv1alpha1.ServerlessServiceOperationMode {
	if want > 0 && excessBurstCapacity >= 0 {
		return netv1alpha1.SKSOperationModeServe
	}
	return netv1alpha1.SKSOperationModeProxy
}
