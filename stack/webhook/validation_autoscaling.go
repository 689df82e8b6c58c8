package webhook

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/servingsim/servingsim/stack/apis/serving"
)

// Bounds of the autoscaling annotations (§2.2 table).
const (
	windowMin                   = 6 * time.Second
	windowMax                   = time.Hour
	targetMin                   = 0.01
	panicWindowPercentageMin    = 1.0
	panicWindowPercentageMax    = 100.0
	panicThresholdPercentageMin = 110.0
	panicThresholdPercentageMax = 1000.0
	activationScaleMin          = 2
)

// annotationAliases lists each autoscaling annotation with its legacy camelCase spelling; the
// first present wins.
var annotationAliases = map[string][]string{
	serving.MinScaleAnnotationKey:                 {serving.MinScaleAnnotationKey, serving.MinScaleAnnotationKeyAlternative},
	serving.MaxScaleAnnotationKey:                 {serving.MaxScaleAnnotationKey, serving.MaxScaleAnnotationKeyAlternative},
	serving.InitialScaleAnnotationKey:             {serving.InitialScaleAnnotationKey, serving.InitialScaleAnnotationKeyAlternative},
	serving.TargetUtilizationAnnotationKey:        {serving.TargetUtilizationAnnotationKey, serving.TargetUtilizationAnnotationKeyAlternative},
	serving.TargetBurstCapacityAnnotationKey:      {serving.TargetBurstCapacityAnnotationKey, serving.TargetBurstCapacityAnnotationKeyAlternative},
	serving.PanicWindowPercentageAnnotationKey:    {serving.PanicWindowPercentageAnnotationKey, serving.PanicWindowPercentageAnnotationKeyAlternative},
	serving.PanicThresholdPercentageAnnotationKey: {serving.PanicThresholdPercentageAnnotationKey, serving.PanicThresholdPercentageAnnotationKeyAlternative},
	serving.ScaleDownDelayAnnotationKey:           {serving.ScaleDownDelayAnnotationKey, serving.ScaleDownDelayAnnotationKeyAlternative},
	serving.ScaleToZeroPodRetentionAnnotationKey:  {serving.ScaleToZeroPodRetentionAnnotationKey, serving.ScaleToZeroPodRetentionAnnotationKeyAlternative},
	serving.MetricAggregationAnnotationKey:        {serving.MetricAggregationAnnotationKey, serving.MetricAggregationAnnotationKeyAlternative},
	serving.ActivationScaleAnnotationKey:          {serving.ActivationScaleAnnotationKey, serving.ActivationScaleAnnotationKeyAlternative},
}

// ann looks key up under its aliases.
func ann(m map[string]string, key string) (string, string, bool) {
	if keys, ok := annotationAliases[key]; ok {
		return lookup(m, keys...)
	}
	return lookup(m, key)
}

// validateRevisionAnnotations checks the annotations of a revision template or Revision: the
// autoscaling table, progress-deadline and the queue sidecar resource percentage (§2.2).
// Paths are "[key]", to be rooted under metadata.annotations.
func validateRevisionAnnotations(c reqCtx, m map[string]string) *FieldError {
	var errs *FieldError
	for _, keys := range annotationAliases {
		if _, _, both := lookup(m, keys[1]); both {
			if _, _, first := lookup(m, keys[0]); first {
				errs = errs.Also(errMultipleOneOf(keyPath(keys[0]), keyPath(keys[1])))
			}
		}
	}
	class := c.cfg.Autoscaler.PodAutoscalerClass
	if k, v, ok := ann(m, serving.ClassAnnotationKey); ok {
		class = v
		if strings.HasSuffix(v, ".knative.dev") && v != serving.KPAClass && v != serving.HPAClass {
			errs = errs.Also(errInvalidValue(v, keyPath(k)))
		}
	}
	errs = errs.Also(validateScaleBounds(c, m))
	errs = errs.Also(validateFloatAnnotations(m))
	errs = errs.Also(durationAnnotation(m, serving.WindowAnnotationKey, windowMin, windowMax, true))
	errs = errs.Also(durationAnnotation(m, serving.ScaleDownDelayAnnotationKey, 0, windowMax, true))
	errs = errs.Also(durationAnnotation(m, serving.ScaleToZeroPodRetentionAnnotationKey, 0, windowMax, false))
	if k, v, ok := ann(m, serving.ProgressDeadlineAnnotationKey); ok {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			errs = errs.Also(errInvalidValue(v, keyPath(k)))
		case d < 0:
			errs = errs.Also(errGeneric(fmt.Sprintf("progress-deadline=%s must not be negative", v), keyPath(k)))
		case d.Truncate(time.Second) != d:
			errs = errs.Also(errGeneric("must be specified with at most second precision", keyPath(k)))
		}
	}

	if k, v, ok := ann(m, serving.MetricAnnotationKey); ok {
		switch class {
		case serving.KPAClass:
			if v != serving.MetricConcurrency && v != serving.MetricRPS {
				errs = errs.Also(errInvalidValue(v, keyPath(k)))
			}
		case serving.HPAClass:
			if v == "" {
				errs = errs.Also(errInvalidValue(v, keyPath(k)))
			}
		}
	}
	if k, v, ok := ann(m, serving.MetricAggregationAnnotationKey); ok && class == serving.KPAClass {
		switch v {
		case serving.MetricAggregationLinear, serving.MetricAggregationWeightedExponential, serving.MetricAggregationWeightedExponentialAlt:
		default:
			errs = errs.Also(errInvalidValue(v, keyPath(k)))
		}
	}
	if k, v, ok := ann(m, serving.QueueSidecarResourcePercentageKey); ok {
		f, err := strconv.ParseFloat(v, 64)
		switch {
		case err != nil:
			errs = errs.Also(errInvalidValue(v, keyPath(k)))
		case f < 0.1 || f > 100:
			errs = errs.Also(errOutOfBounds(v, 0.1, 100.0, keyPath(k)))
		}
	}
	return errs
}

// nonNegInt32 parses an int32 ≥ 0 annotation; absent gives 0.
func nonNegInt32(m map[string]string, key string) (int32, string, *FieldError) {
	k, v, ok := ann(m, key)
	if !ok {
		return 0, "", nil
	}
	i, err := strconv.ParseInt(v, 10, 32)
	switch {
	case errors.Is(err, strconv.ErrRange) || (err == nil && i < 0):
		return 0, k, errOutOfBounds(v, 0, math.MaxInt32, keyPath(k))
	case err != nil:
		return 0, k, errInvalidValue(v, keyPath(k))
	}
	return int32(i), k, nil
}

// validateScaleBounds checks min-, max-, initial- and activation-scale (§2.2 table).
func validateScaleBounds(c reqCtx, m map[string]string) *FieldError {
	lo, minKey, errs := nonNegInt32(m, serving.MinScaleAnnotationKey)
	hi, maxKey, err := nonNegInt32(m, serving.MaxScaleAnnotationKey)
	errs = errs.Also(err)
	if err == nil && hi != 0 && hi < lo {
		errs = errs.Also(errGeneric(fmt.Sprintf("max-scale=%d is less than min-scale=%d", hi, lo), keyPath(maxKey), keyPath(minKey)))
	}
	if limit := c.cfg.Autoscaler.MaxScaleLimit; maxKey != "" && err == nil && limit > 0 {
		switch {
		case hi == 0:
			errs = errs.Also(errGeneric(fmt.Sprint("max-scale=0 (unlimited), must be less than ", limit), keyPath(maxKey)))
		case hi > limit:
			errs = errs.Also(errOutOfBounds(hi, 1, limit, keyPath(maxKey)))
		}
	}
	if k, v, ok := ann(m, serving.ActivationScaleAnnotationKey); ok {
		a, perr := strconv.ParseInt(v, 10, 32)
		switch {
		case perr != nil:
			errs = errs.Also(errInvalidValue(v, keyPath(k)))
		case a < activationScaleMin:
			errs = errs.Also(errOutOfBounds(v, activationScaleMin, math.MaxInt32, keyPath(k)))
		case int32(a) < lo:
			errs = errs.Also(errGeneric(fmt.Sprintf("activation-scale=%d is less than min-scale=%d", a, lo), keyPath(k)))
		case hi != 0 && int32(a) > hi:
			errs = errs.Also(errGeneric(fmt.Sprintf("max-scale=%d is less than activation-scale=%d", hi, a), keyPath(k)))
		}
	}
	if k, v, ok := ann(m, serving.InitialScaleAnnotationKey); ok {
		i, perr := strconv.ParseInt(v, 10, 32)
		switch {
		case perr != nil || i < 0:
			errs = errs.Also(errInvalidValue(v, keyPath(k)))
		case i == 0 && !c.cfg.Autoscaler.AllowZeroInitialScale:
			errs = errs.Also(errGeneric("initial-scale=0 not allowed by cluster", keyPath(k)))
		}
	}
	return errs
}

// validateFloatAnnotations checks target, target-utilization-percentage, target-burst-capacity
// and the panic percentages.
func validateFloatAnnotations(m map[string]string) *FieldError {
	var errs *FieldError
	bounded := func(key string, lo, hi float64) {
		if k, v, ok := ann(m, key); ok {
			f, err := strconv.ParseFloat(v, 64)
			switch {
			case err != nil:
				errs = errs.Also(errInvalidValue(v, keyPath(k)))
			case f < lo || f > hi:
				errs = errs.Also(errOutOfBounds(v, lo, hi, keyPath(k)))
			}
		}
	}
	bounded(serving.TargetUtilizationAnnotationKey, 1, 100)
	bounded(serving.PanicWindowPercentageAnnotationKey, panicWindowPercentageMin, panicWindowPercentageMax)
	bounded(serving.PanicThresholdPercentageAnnotationKey, panicThresholdPercentageMin, panicThresholdPercentageMax)
	if k, v, ok := ann(m, serving.TargetAnnotationKey); ok {
		if f, err := strconv.ParseFloat(v, 64); err != nil || f < targetMin {
			errs = errs.Also(errGeneric(fmt.Sprintf("target %s should be at least %g", v, targetMin), keyPath(k)))
		}
	}
	if k, v, ok := ann(m, serving.TargetBurstCapacityAnnotationKey); ok {
		if f, err := strconv.ParseFloat(v, 64); err != nil || (f < 0 && f != -1) {
			errs = errs.Also(errInvalidValue(v, keyPath(k)))
		}
	}
	return errs
}

// durationAnnotation checks a duration annotation against [lo, hi] and, if wholeSeconds, that
// it has at most second precision.
func durationAnnotation(m map[string]string, key string, lo, hi time.Duration, wholeSeconds bool) *FieldError {
	k, v, ok := ann(m, key)
	if !ok {
		return nil
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		return errInvalidValue(v, keyPath(k))
	case d < lo || d > hi:
		return errOutOfBounds(v, lo, hi, keyPath(k))
	case wholeSeconds && d.Truncate(time.Second) != d:
		return errGeneric("must be specified with at most second precision", keyPath(k))
	}
	return nil
}
