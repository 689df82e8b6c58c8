package autoscaler

import (
	"math"
	"time"
)

// TickInterval is how often the KPA decides for each revision (§3.1 tickInterval = 2s). It is
// also the bucket size of the scale-down-delay window.
const TickInterval = 2 * time.Second

// ScaleResult is the outcome of one Scale call (§3.4).
type ScaleResult struct {
	// DesiredPodCount is the wanted number of pods before the min/max-scale bounds; ScaleUnknown
	// (-1) when ScaleValid is false.
	DesiredPodCount int32
	// ExcessBurstCapacity is floor(ready × total − TBC − panic average), 0 for TBC 0, -1 for
	// TBC -1. When ScaleValid is false it is the EBC of the standing decision.
	ExcessBurstCapacity int32
	// Panicking says whether the scaler is in panic mode after this call.
	Panicking bool
	// Stable and Panic are the window averages of the scaling metric the decision used.
	Stable, Panic float64
	// ScaleValid is false when there was no decision, e.g. no data (ErrNoData).
	ScaleValid bool
}

// Scaler is the decision core of one revision's KPA decider (Knative's scaling.autoscaler, §3.4).
// It is deterministic: time comes in as an argument and metrics from a MetricSource. It is not
// safe for concurrent use; a live shell serialises calls.
type Scaler struct {
	spec DeciderSpec

	// panicking, panicTime and maxPanicPods are the panic-mode state: when panic mode was last
	// entered or extended, and the largest desired count while panicking.
	panicking    bool
	panicTime    time.Time
	maxPanicPods int32

	// delay is the scale-down-delay max window; nil without a delay.
	delay *maxWindow

	// decision is the last valid decision, InitialDecision until the first.
	decision Decision
	decided  bool
}

// NewScaler returns the scaler of a revision with readyPods ready pods at now. With more than
// one ready pod it starts in panic mode holding readyPods, so an autoscaler restart, which loses
// the metric history, does not scale the revision down (§3.4).
func NewScaler(spec DeciderSpec, readyPods int32, now time.Time) *Scaler {
	s := &Scaler{spec: spec, maxPanicPods: max(readyPods, 0), decision: InitialDecision(spec)}
	if spec.ScaleDownDelay > 0 {
		s.delay = newMaxWindow(spec.ScaleDownDelay, TickInterval)
	}
	if readyPods > 1 {
		s.panicking, s.panicTime = true, now
	}
	return s
}

// Spec is the current decider spec.
func (s *Scaler) Spec() DeciderSpec { return s.spec }

// Update changes the spec live. The panic state is kept; a changed scale-down delay resizes the
// delay window, keeping the values already in it.
func (s *Scaler) Update(spec DeciderSpec) {
	switch {
	case spec.ScaleDownDelay <= 0:
		s.delay = nil
	case s.delay == nil:
		s.delay = newMaxWindow(spec.ScaleDownDelay, TickInterval)
	default:
		s.delay.resize(spec.ScaleDownDelay)
	}
	s.spec = spec
	if !s.decided {
		s.decision = InitialDecision(spec)
	}
}

// Decision is the last valid decision, or InitialDecision(spec) before the first.
func (s *Scaler) Decision() Decision { return s.decision }

// Panicking says whether the scaler is in panic mode.
func (s *Scaler) Panicking() bool { return s.panicking }

// Scale decides at now for readyPods ready pods from the window averages in metrics, following
// Knative's Scale() (§3.4):
//
//	readyF = max(1, ready); maxUp = ceil(MaxScaleUpRate·readyF)
//	maxDown = Reachable ? floor(readyF/MaxScaleDownRate) : 0
//	dspc = ceil(stable/target); dppc = ceil(panic/target)
//	stablePods, panicPods = dspc, dppc clamped to [maxDown, maxUp], lifted to ActivationScale
//	  when it is > 1 and the unclamped count is > 0
//	dppc/readyF ≥ PanicThreshold enters or extends panic mode; panic ends once a whole
//	  StableWindow has passed since it was last extended
//	desired = stablePods, or in panic max(stablePods, panicPods) and never below the most it
//	  has been during this panic
//	with a scale-down delay (and reachable): desired = max of desired over the delay window
//	EBC = TBC==0 ? 0 : TBC>0 ? floor(ready·total − TBC − panic) : -1
//
// Without data (any error from metrics) there is no decision: ScaleValid is false and the state
// does not change.
func (s *Scaler) Scale(now time.Time, readyPods int32, metrics MetricSource) ScaleResult {
	spec := s.spec
	stable, panicAvg, err := metrics.StableAndPanic(spec.ScalingMetric, now)
	if err != nil {
		return ScaleResult{DesiredPodCount: ScaleUnknown, ExcessBurstCapacity: s.decision.ExcessBurstCapacity, Panicking: s.panicking}
	}
	readyPods = max(readyPods, 0)
	readyF := math.Max(1, float64(readyPods))
	maxUp := math.Ceil(spec.MaxScaleUpRate * readyF)
	maxDown := 0.0
	if spec.Reachable {
		maxDown = math.Floor(readyF / spec.MaxScaleDownRate)
	}
	target := spec.TargetValue
	if !(target >= TargetMin) {
		target = TargetMin
	}
	dspc := math.Ceil(stable / target)
	dppc := math.Ceil(panicAvg / target)
	stablePods := podCount(math.Min(math.Max(dspc, maxDown), maxUp))
	panicPods := podCount(math.Min(math.Max(dppc, maxDown), maxUp))
	if as := spec.ActivationScale; as > 1 {
		if dspc > 0 && as > stablePods {
			stablePods = as
		}
		if dppc > 0 && as > panicPods {
			panicPods = as
		}
	}

	overPanic := dppc/readyF >= spec.PanicThreshold
	switch {
	case overPanic:
		// Enter panic mode, or extend it.
		s.panicking, s.panicTime = true, now
	case s.panicking && s.panicTime.Add(spec.StableWindow).Before(now):
		// The surge has made its way into the stable window.
		s.panicking, s.panicTime, s.maxPanicPods = false, time.Time{}, 0
	}

	desired := stablePods
	if s.panicking {
		desired = max(desired, panicPods)
		// Never scale down while panicking.
		s.maxPanicPods = max(s.maxPanicPods, desired)
		desired = s.maxPanicPods
	}
	if spec.Reachable && s.delay != nil {
		s.delay.record(now, desired)
		desired = s.delay.current()
	}

	ebc := -1.0
	switch {
	case spec.TargetBurstCapacity == 0:
		ebc = 0
	case spec.TargetBurstCapacity > 0:
		ebc = math.Floor(float64(readyPods)*spec.TotalValue - spec.TargetBurstCapacity - panicAvg)
	}
	s.decision = Decision{DesiredScale: desired, ExcessBurstCapacity: clampInt32(ebc)}
	s.decided = true
	return ScaleResult{
		DesiredPodCount:     desired,
		ExcessBurstCapacity: s.decision.ExcessBurstCapacity,
		Panicking:           s.panicking,
		Stable:              stable,
		Panic:               panicAvg,
		ScaleValid:          true,
	}
}

// podCount converts a pod count to int32: NaN and negatives give 0, huge values MaxInt32.
func podCount(f float64) int32 {
	if !(f > 0) {
		return 0
	}
	return clampInt32(f)
}

func clampInt32(f float64) int32 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt32:
		return math.MaxInt32
	case f <= math.MinInt32:
		return math.MinInt32
	}
	return int32(f)
}
