package config

import (
	"math"
	"time"
)

// AutoscalerConfigName is the ConfigMap holding Autoscaler.
const AutoscalerConfigName = "config-autoscaler"

// Autoscaler is config-autoscaler (knative-semantics.md §3.1). Each field names its key.
type Autoscaler struct {
	ContainerConcurrencyTargetFraction float64       // container-concurrency-target-percentage (70 → 0.7)
	ContainerConcurrencyTargetDefault  float64       // container-concurrency-target-default
	RPSTargetDefault                   float64       // requests-per-second-target-default
	TargetBurstCapacity                float64       // target-burst-capacity
	StableWindow                       time.Duration // stable-window
	PanicWindowPercentage              float64       // panic-window-percentage
	PanicThresholdPercentage           float64       // panic-threshold-percentage
	MaxScaleUpRate                     float64       // max-scale-up-rate
	MaxScaleDownRate                   float64       // max-scale-down-rate
	EnableScaleToZero                  bool          // enable-scale-to-zero
	ScaleToZeroGracePeriod             time.Duration // scale-to-zero-grace-period
	ScaleToZeroPodRetentionPeriod      time.Duration // scale-to-zero-pod-retention-period
	PodAutoscalerClass                 string        // pod-autoscaler-class
	ActivatorCapacity                  float64       // activator-capacity
	InitialScale                       int32         // initial-scale
	AllowZeroInitialScale              bool          // allow-zero-initial-scale
	MinScale                           int32         // min-scale
	MaxScale                           int32         // max-scale
	ScaleDownDelay                     time.Duration // scale-down-delay
	MaxScaleLimit                      int32         // max-scale-limit
}

// DefaultAutoscaler returns Knative's defaults.
func DefaultAutoscaler() *Autoscaler {
	return &Autoscaler{
		ContainerConcurrencyTargetFraction: 0.7,
		ContainerConcurrencyTargetDefault:  100,
		RPSTargetDefault:                   200,
		TargetBurstCapacity:                211,
		StableWindow:                       60 * time.Second,
		PanicWindowPercentage:              10,
		PanicThresholdPercentage:           200,
		MaxScaleUpRate:                     1000,
		MaxScaleDownRate:                   2,
		EnableScaleToZero:                  true,
		ScaleToZeroGracePeriod:             30 * time.Second,
		PodAutoscalerClass:                 "kpa.autoscaling.knative.dev",
		ActivatorCapacity:                  100,
		InitialScale:                       1,
	}
}

// NewAutoscalerFromMap parses config-autoscaler data over the defaults.
func NewAutoscalerFromMap(data map[string]string) (*Autoscaler, error) {
	c := DefaultAutoscaler()
	p := newParser(AutoscalerConfigName, data)
	pct := c.ContainerConcurrencyTargetFraction * 100
	p.float("container-concurrency-target-percentage", &pct)
	p.float("container-concurrency-target-default", &c.ContainerConcurrencyTargetDefault)
	p.float("requests-per-second-target-default", &c.RPSTargetDefault)
	p.float("target-burst-capacity", &c.TargetBurstCapacity)
	p.duration("stable-window", &c.StableWindow)
	p.float("panic-window-percentage", &c.PanicWindowPercentage)
	p.float("panic-threshold-percentage", &c.PanicThresholdPercentage)
	p.float("max-scale-up-rate", &c.MaxScaleUpRate)
	p.float("max-scale-down-rate", &c.MaxScaleDownRate)
	p.boolean("enable-scale-to-zero", &c.EnableScaleToZero)
	p.duration("scale-to-zero-grace-period", &c.ScaleToZeroGracePeriod)
	p.duration("scale-to-zero-pod-retention-period", &c.ScaleToZeroPodRetentionPeriod)
	p.str("pod-autoscaler-class", &c.PodAutoscalerClass)
	p.float("activator-capacity", &c.ActivatorCapacity)
	p.int32("initial-scale", &c.InitialScale)
	p.boolean("allow-zero-initial-scale", &c.AllowZeroInitialScale)
	p.int32("min-scale", &c.MinScale)
	p.int32("max-scale", &c.MaxScale)
	p.duration("scale-down-delay", &c.ScaleDownDelay)
	p.int32("max-scale-limit", &c.MaxScaleLimit)

	// Values above 1 are percentages; values in (0,1] are already fractions.
	if pct > 1 {
		pct /= 100
	}
	c.ContainerConcurrencyTargetFraction = pct
	p.check(pct > 0 && pct <= 1, "container-concurrency-target-percentage", "want a value in (0, 100]")
	p.check(c.ContainerConcurrencyTargetDefault*c.ContainerConcurrencyTargetFraction >= 0.01,
		"container-concurrency-target-default", "want default × target percentage ≥ 0.01")
	p.check(c.RPSTargetDefault >= 0.01, "requests-per-second-target-default", "want ≥ 0.01")
	p.check(c.TargetBurstCapacity >= 0 || c.TargetBurstCapacity == -1, "target-burst-capacity", "want ≥ 0 or exactly -1")
	p.check(validWindow(c.StableWindow), "stable-window", "want a whole-second duration in [6s, 1h]")
	p.check(c.PanicWindowPercentage >= 1 && c.PanicWindowPercentage <= 100, "panic-window-percentage", "want a value in [1, 100]")
	p.check(c.PanicThresholdPercentage > 0, "panic-threshold-percentage", "want a value > 0")
	p.check(c.MaxScaleUpRate > 1, "max-scale-up-rate", "want a value > 1")
	p.check(c.MaxScaleDownRate > 1, "max-scale-down-rate", "want a value > 1")
	p.check(c.ScaleToZeroGracePeriod > 0, "scale-to-zero-grace-period", "want a duration > 0")
	p.check(c.ScaleToZeroPodRetentionPeriod >= 0, "scale-to-zero-pod-retention-period", "want a duration ≥ 0")
	p.check(c.ActivatorCapacity >= 1, "activator-capacity", "want a value ≥ 1")
	p.check(c.InitialScale >= 1 || (c.AllowZeroInitialScale && c.InitialScale == 0), "initial-scale",
		"want ≥ 1 (0 needs allow-zero-initial-scale: true)")
	p.check(c.MinScale >= 0, "min-scale", "want ≥ 0")
	p.check(c.MaxScale >= 0, "max-scale", "want ≥ 0 (0 means unbounded)")
	p.check(c.MaxScale == 0 || c.MaxScale >= c.MinScale || c.MinScale == 0, "max-scale", "want ≥ min-scale")
	p.check(c.MaxScaleLimit >= 0, "max-scale-limit", "want ≥ 0 (0 means no limit)")
	p.check(c.MaxScaleLimit == 0 || (c.MaxScale > 0 && c.MaxScale <= c.MaxScaleLimit), "max-scale",
		"want a value in [1, max-scale-limit] when max-scale-limit is set")
	p.check(c.ScaleDownDelay >= 0 && c.ScaleDownDelay.Truncate(time.Second) == c.ScaleDownDelay, "scale-down-delay",
		"want a whole-second duration ≥ 0")
	return c, p.err()
}

func validWindow(d time.Duration) bool {
	return d >= 6*time.Second && d <= time.Hour && d.Truncate(time.Second) == d
}

// PanicWindow is round(stable × pct/100) to a whole second, at least 1s (§3.2).
func PanicWindow(stable time.Duration, pct float64) time.Duration {
	w := time.Duration(math.Round(float64(stable)*pct/100/float64(time.Second))) * time.Second
	return max(w, time.Second)
}
