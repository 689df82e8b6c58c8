package autoscaler

import (
	"math"
	"time"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/config"
)

// TargetMin is the smallest per-pod target a decider ever uses (§3.2).
const TargetMin = 0.01

// DeciderSpec is everything a decider needs to know about one revision (§3.2).
type DeciderSpec struct {
	// ScalingMetric is concurrency or rps.
	ScalingMetric string
	// TargetValue is the per-pod value the autoscaler aims for (total × utilization).
	TargetValue float64
	// TotalValue is the per-pod capacity: CC, the target annotation or the config default.
	TotalValue float64
	// TargetBurstCapacity is the headroom kept in front of the pods; -1 means unlimited.
	TargetBurstCapacity float64
	// ActivatorCapacity is the per-activator capacity used to size the activator subset.
	ActivatorCapacity float64
	// PanicThreshold is panic-threshold-percentage / 100.
	PanicThreshold float64
	// StableWindow and PanicWindow are the averaging windows.
	StableWindow time.Duration
	PanicWindow  time.Duration
	// ScaleDownDelay keeps the max desired scale of this long before scaling down.
	ScaleDownDelay time.Duration
	// MaxScaleUpRate and MaxScaleDownRate bound one step relative to the ready pods.
	MaxScaleUpRate   float64
	MaxScaleDownRate float64
	// ActivationScale is the minimum scale when scaling up from zero (default 1).
	ActivationScale int32
	// InitialScale is the scale a new revision starts at.
	InitialScale int32
	// MinScale and MaxScale are the bounds the PA reconciler applies (max 0 = unbounded).
	MinScale int32
	MaxScale int32
	// Reachable is false when the PA is Unreachable (not routed to).
	Reachable bool
}

// MakeDeciderSpec builds the decider spec of pa under cfg (§3.2).
func MakeDeciderSpec(pa *autoscalingv1alpha1.PodAutoscaler, cfg *config.Autoscaler) DeciderSpec {
	annos := pa.Annotations
	target, total := MetricTarget(pa, cfg)

	panicPct := cfg.PanicWindowPercentage
	if v, ok := annotationFloat(annos, serving.PanicWindowPercentageAnnotationKey, serving.PanicWindowPercentageAnnotationKeyAlternative); ok {
		panicPct = v
	}
	thresholdPct := cfg.PanicThresholdPercentage
	if v, ok := annotationFloat(annos, serving.PanicThresholdPercentageAnnotationKey, serving.PanicThresholdPercentageAnnotationKeyAlternative); ok {
		thresholdPct = v
	}
	scaleDownDelay := cfg.ScaleDownDelay
	if d, ok := annotationDuration(annos, serving.ScaleDownDelayAnnotationKey, serving.ScaleDownDelayAnnotationKeyAlternative); ok {
		scaleDownDelay = d
	}
	activationScale := int32(1)
	if v, ok := annotationInt32(annos, serving.ActivationScaleAnnotationKey, serving.ActivationScaleAnnotationKeyAlternative); ok && v > 0 {
		activationScale = v
	}
	stable := StableWindow(annos, cfg)
	minScale, maxScale := ScaleBounds(pa, cfg)

	return DeciderSpec{
		ScalingMetric:       Metric(annos),
		TargetValue:         target,
		TotalValue:          total,
		TargetBurstCapacity: TargetBurstCapacity(annos, cfg),
		ActivatorCapacity:   cfg.ActivatorCapacity,
		PanicThreshold:      thresholdPct / 100,
		StableWindow:        stable,
		PanicWindow:         config.PanicWindow(stable, panicPct),
		ScaleDownDelay:      scaleDownDelay,
		MaxScaleUpRate:      cfg.MaxScaleUpRate,
		MaxScaleDownRate:    cfg.MaxScaleDownRate,
		ActivationScale:     activationScale,
		InitialScale:        InitialScale(annos, cfg),
		MinScale:            minScale,
		MaxScale:            maxScale,
		Reachable:           pa.Spec.Reachability != autoscalingv1alpha1.ReachabilityUnreachable,
	}
}

// MetricTarget returns the per-pod target and total values of pa (§3.2):
//   - concurrency: total is CC when CC > 0, else container-concurrency-target-default; the target
//     annotation replaces total but never exceeds CC (when CC > 0);
//   - rps: total is requests-per-second-target-default or the target annotation;
//
// and target = max(0.01, total × utilization), utilization being the
// target-utilization-percentage annotation / 100 or container-concurrency-target-percentage.
func MetricTarget(pa *autoscalingv1alpha1.PodAutoscaler, cfg *config.Autoscaler) (target, total float64) {
	annos := pa.Annotations
	metric := Metric(annos)
	cc := float64(pa.Spec.ContainerConcurrency)
	switch metric {
	case serving.MetricRPS:
		total = cfg.RPSTargetDefault
	default:
		total = cc
		if cc <= 0 {
			total = cfg.ContainerConcurrencyTargetDefault
		}
	}
	if v, ok := annotationFloat(annos, serving.TargetAnnotationKey); ok {
		total = v
		if metric != serving.MetricRPS && cc > 0 {
			total = math.Min(v, cc)
		}
	}
	utilization := cfg.ContainerConcurrencyTargetFraction
	if v, ok := annotationFloat(annos, serving.TargetUtilizationAnnotationKey, serving.TargetUtilizationAnnotationKeyAlternative); ok {
		utilization = v / 100
	}
	return math.Max(TargetMin, total*utilization), total
}
