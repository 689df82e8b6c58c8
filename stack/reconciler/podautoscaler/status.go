package podautoscaler

import (
	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/duck"
	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/config"
)

// Reasons and messages of the PA's conditions (§3.5.7).
const (
	ReasonNoTraffic             = "NoTraffic"
	MessageNoTraffic            = "The target is not receiving traffic."
	ReasonTimedOut              = "TimedOut"
	MessageTimedOut             = "The target could not be activated."
	ReasonQueued                = "Queued"
	MessageQueued               = "Requests to the target are being buffered as resources are provisioned."
	ReasonSKSNotReady           = "NotReady"
	MessageNoPrivateServiceName = "No Private Service Name"
	ReasonNotOwned              = "NotOwned"
)

// activeThreshold is the number of ready pods the PA needs to count as Active: max(min,
// initial-scale) before ScaleTargetInitialized, max(min, 1) after (§3.5.7).
func activeThreshold(pa *autoscalingv1alpha1.PodAutoscaler, cfg *config.Autoscaler) int32 {
	minScale, _ := autoscaler.ScaleBounds(pa, cfg)
	if !pa.Status.GetCondition(autoscalingv1alpha1.PodAutoscalerConditionScaleTargetInitialized).IsTrue() {
		return max(minScale, autoscaler.InitialScale(pa.Annotations, cfg))
	}
	return max(minScale, 1)
}

// computeStatus sets actualScale, desiredScale, ScaleTargetInitialized and Active (§3.5.7).
func computeStatus(m duck.ConditionManager, pa *autoscalingv1alpha1.PodAutoscaler, want, ready int32, cfg *config.Autoscaler) {
	st := &pa.Status
	st.ActualScale = &ready
	// A decider restarting reports -1 for a moment; keep the last real value.
	if want >= 0 || st.DesiredScale == nil || *st.DesiredScale < 0 {
		w := want
		st.DesiredScale = &w
	}

	minReady := activeThreshold(pa, cfg)
	if ready >= minReady && st.ServiceName != "" {
		m.MarkTrue(autoscalingv1alpha1.PodAutoscalerConditionScaleTargetInitialized)
	}
	active := st.GetCondition(autoscalingv1alpha1.PodAutoscalerConditionActive)
	inactive := active.IsFalse()
	switch {
	case want == 0 || minReady == 0:
		if active.IsUnknown() && minReady > 0 {
			m.MarkFalse(autoscalingv1alpha1.PodAutoscalerConditionActive, ReasonTimedOut, MessageTimedOut)
		} else {
			m.MarkFalse(autoscalingv1alpha1.PodAutoscalerConditionActive, ReasonNoTraffic, MessageNoTraffic)
		}
	case ready < minReady:
		if want > 0 || !inactive {
			m.MarkUnknown(autoscalingv1alpha1.PodAutoscalerConditionActive, ReasonQueued, MessageQueued)
		} else {
			m.MarkFalse(autoscalingv1alpha1.PodAutoscalerConditionActive, ReasonNoTraffic, MessageNoTraffic)
		}
	default:
		if want > 0 || !inactive {
			m.MarkTrue(autoscalingv1alpha1.PodAutoscalerConditionActive)
		}
	}
}
