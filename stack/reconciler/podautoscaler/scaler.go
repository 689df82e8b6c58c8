package podautoscaler

import (
	"context"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/log"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/reconciler/serverlessservice"
)

// Timings of the scale-to-zero rules (§3.5.4).
const (
	// ActivationTimeoutBuffer is added to the progress deadline before an activating PA gives up.
	ActivationTimeoutBuffer = 30 * time.Second
	// ProxyRecheckDelay re-runs a PA that went inactive while its SKS was already proxying,
	// since nothing else would change to trigger it.
	ProxyRecheckDelay = 3 * time.Second
	// ActivatorProbeRetry is how soon a failed activator probe is retried (Knative's async
	// prober polls every second).
	ActivatorProbeRetry = time.Second
)

// ActivatorProbe reports whether the activator is in the request path of pa's revision: Knative
// GETs http://<rev>.<ns>:80/healthz with K-Network-Probe: activator and expects 200 "activator"
// (§3.5.4). A nil ActivatorProbe counts as true.
type ActivatorProbe func(ctx context.Context, pa *autoscalingv1alpha1.PodAutoscaler) (bool, error)

// scaleInput is what the scaler decides from.
type scaleInput struct {
	pa      *autoscalingv1alpha1.PodAutoscaler
	sks     *netv1alpha1.ServerlessService
	desired int32
	cfg     *config.Config
	now     time.Time
	probe   ActivatorProbe
}

// scaleResult is the scaler's verdict: want is the desired scale the PA reports, apply says
// whether the Deployment's replicas should be set to want, requeueAfter > 0 asks for a later look.
type scaleResult struct {
	want         int32
	apply        bool
	requeueAfter time.Duration
}

// decideScale applies the scale bounds to the decider's wish and then the scale-to-zero rules
// (§3.5.3): nothing happens while the decider has no data unless the PA is activating; min-scale
// is ignored while Unreachable; initial-scale raises min until ScaleTargetInitialized.
func decideScale(ctx context.Context, in scaleInput) scaleResult {
	st := &in.pa.Status
	if in.desired < 0 && !st.GetCondition(autoscalingv1alpha1.PodAutoscalerConditionActive).IsUnknown() {
		return scaleResult{want: in.desired}
	}
	as := in.cfg.Autoscaler
	minScale, maxScale := autoscaler.ScaleBounds(in.pa, as)
	initial := autoscaler.InitialScale(in.pa.Annotations, as)
	if initial > 1 && !st.GetCondition(autoscalingv1alpha1.PodAutoscalerConditionScaleTargetInitialized).IsTrue() &&
		in.pa.Spec.Reachability != autoscalingv1alpha1.ReachabilityUnreachable {
		minScale = max(minScale, initial)
	}
	return handleScaleToZero(ctx, in, applyBounds(minScale, maxScale, in.desired))
}

// applyBounds clamps x to [min, max], max 0 meaning unbounded.
func applyBounds(minScale, maxScale, x int32) int32 {
	if x < minScale {
		x = minScale
	}
	if maxScale != 0 && x > maxScale {
		x = maxScale
	}
	return x
}

// handleScaleToZero decides what a wish of 0 pods means (§3.5.4).
func handleScaleToZero(ctx context.Context, in scaleInput, want int32) scaleResult {
	if want != 0 {
		return scaleResult{want: want, apply: true}
	}
	as := in.cfg.Autoscaler
	if !as.EnableScaleToZero {
		return scaleResult{want: 1, apply: true}
	}
	logger := log.FromContext(ctx)
	active := in.pa.Status.GetCondition(autoscalingv1alpha1.PodAutoscalerConditionActive)
	var since time.Duration
	if active != nil {
		since = in.now.Sub(active.LastTransitionTime.Time)
	}
	switch {
	case active.IsUnknown(): // activating
		timeout := autoscaler.ProgressDeadline(in.pa.Annotations, in.cfg.Deployment) + ActivationTimeoutBuffer
		if since > timeout {
			logger.Info("Activation timed out", "podautoscaler", in.pa.Name, "timeout", timeout)
			return scaleResult{want: 0, apply: true}
		}
		return scaleResult{want: autoscaler.ScaleUnknown, requeueAfter: timeout - since + time.Second}
	case active.IsTrue():
		window := autoscaler.StableWindow(in.pa.Annotations, as)
		if since >= window {
			r := scaleResult{want: 0}
			if in.sks.Spec.Mode == netv1alpha1.SKSOperationModeProxy {
				r.requeueAfter = ProxyRecheckDelay
			}
			return r
		}
		return scaleResult{want: 1, apply: true, requeueAfter: window - since}
	default: // inactive
		inPath := true
		if autoscaler.TargetBurstCapacity(in.pa.Annotations, as) != -1 && in.probe != nil {
			ok, err := in.probe(ctx, in.pa)
			if err != nil {
				logger.Info("Activator probe failed", "podautoscaler", in.pa.Name, "error", err.Error())
			}
			inPath = ok && err == nil
		}
		if !inPath {
			return scaleResult{want: 0, requeueAfter: ActivatorProbeRetry}
		}
		retention := autoscaler.ScaleToZeroPodRetention(in.pa.Annotations, as)
		if since >= max(as.ScaleToZeroGracePeriod, retention) {
			return scaleResult{want: 0, apply: true}
		}
		if retention > 0 && since < retention {
			return scaleResult{want: 0, requeueAfter: retention - since}
		}
		if wait := as.ScaleToZeroGracePeriod - serverlessservice.ProxyFor(in.sks, in.now); wait > 0 {
			return scaleResult{want: 0, requeueAfter: wait}
		}
		return scaleResult{want: 0, apply: true}
	}
}
