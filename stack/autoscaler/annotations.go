package autoscaler

import (
	"strconv"
	"time"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/config"
)

// The annotation readers below take the first key present (the kebab-case key, then its legacy
// camelCase alias, §2.2) and fall back to config when a value is missing or does not parse: the
// admission webhook has already rejected invalid values, so a bad value here is a stale object.

func lookup(annos map[string]string, keys ...string) (string, bool) {
	for _, k := range keys {
		if v, ok := annos[k]; ok {
			return v, true
		}
	}
	return "", false
}

func annotationInt32(annos map[string]string, keys ...string) (int32, bool) {
	v, ok := lookup(annos, keys...)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, false
	}
	return int32(n), true
}

func annotationFloat(annos map[string]string, keys ...string) (float64, bool) {
	v, ok := lookup(annos, keys...)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

func annotationDuration(annos map[string]string, keys ...string) (time.Duration, bool) {
	v, ok := lookup(annos, keys...)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, false
	}
	return d, true
}

// Metric is the autoscaling metric of the PA: the metric annotation, default concurrency (§3.2).
func Metric(annos map[string]string) string {
	if v, ok := lookup(annos, serving.MetricAnnotationKey); ok && v != "" {
		return v
	}
	return serving.MetricConcurrency
}

// InitialScale is the initial-scale annotation, unless it is absent, unparsable, or 0 while the
// cluster does not allow zero initial scale; then config-autoscaler initial-scale (§1.5, §3.2).
func InitialScale(annos map[string]string, cfg *config.Autoscaler) int32 {
	v, ok := annotationInt32(annos, serving.InitialScaleAnnotationKey, serving.InitialScaleAnnotationKeyAlternative)
	if !ok || v < 0 || (v == 0 && !cfg.AllowZeroInitialScale) {
		return cfg.InitialScale
	}
	return v
}

// ScaleBounds returns min and max scale of pa (§3.5.3). Min comes from the min-scale annotation
// or config and is 0 while the PA is Unreachable; max 0 means unbounded.
func ScaleBounds(pa *autoscalingv1alpha1.PodAutoscaler, cfg *config.Autoscaler) (minScale, maxScale int32) {
	if pa.Spec.Reachability != autoscalingv1alpha1.ReachabilityUnreachable {
		minScale = cfg.MinScale
		if v, ok := annotationInt32(pa.Annotations, serving.MinScaleAnnotationKey, serving.MinScaleAnnotationKeyAlternative); ok {
			minScale = v
		}
	}
	maxScale = cfg.MaxScale
	if v, ok := annotationInt32(pa.Annotations, serving.MaxScaleAnnotationKey, serving.MaxScaleAnnotationKeyAlternative); ok {
		maxScale = v
	}
	return minScale, maxScale
}

// StableWindow is the window annotation or config stable-window.
func StableWindow(annos map[string]string, cfg *config.Autoscaler) time.Duration {
	if d, ok := annotationDuration(annos, serving.WindowAnnotationKey); ok {
		return d
	}
	return cfg.StableWindow
}

// TargetBurstCapacity is the target-burst-capacity annotation or config.
func TargetBurstCapacity(annos map[string]string, cfg *config.Autoscaler) float64 {
	if v, ok := annotationFloat(annos, serving.TargetBurstCapacityAnnotationKey, serving.TargetBurstCapacityAnnotationKeyAlternative); ok {
		return v
	}
	return cfg.TargetBurstCapacity
}

// ScaleToZeroPodRetention is the scale-to-zero-pod-retention-period annotation or config.
func ScaleToZeroPodRetention(annos map[string]string, cfg *config.Autoscaler) time.Duration {
	if d, ok := annotationDuration(annos, serving.ScaleToZeroPodRetentionAnnotationKey, serving.ScaleToZeroPodRetentionAnnotationKeyAlternative); ok {
		return d
	}
	return cfg.ScaleToZeroPodRetentionPeriod
}

// ProgressDeadline is the serving.knative.dev/progress-deadline annotation or config-deployment
// progress-deadline (§1.5).
func ProgressDeadline(annos map[string]string, cfg *config.Deployment) time.Duration {
	if d, ok := annotationDuration(annos, serving.ProgressDeadlineAnnotationKey); ok {
		return d
	}
	return cfg.ProgressDeadline
}
