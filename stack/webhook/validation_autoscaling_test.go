package webhook

import (
	"testing"

	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
)

func templateAnns(kv ...string) func(*servingv1.Service) {
	return func(s *servingv1.Service) {
		s.Spec.Template.Annotations = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			s.Spec.Template.Annotations[kv[i]] = kv[i+1]
		}
	}
}

const annPath = "spec.template.metadata.annotations"

func TestValidate_AutoscalingAnnotationsOnServiceRejected(t *testing.T) { // §2.2
	runSvcCases(t, []svcCase{
		{name: "min-scale on the Service", mod: func(s *servingv1.Service) {
			s.Annotations = map[string]string{"autoscaling.knative.dev/min-scale": "1", "autoscaling.knative.dev/class": "kpa.autoscaling.knative.dev"}
		}, want: `autoscaling annotations must be put under "spec.template.metadata.annotations" to work: ` +
			"metadata.annotations[autoscaling.knative.dev/class], metadata.annotations[autoscaling.knative.dev/min-scale]"},
	})
}

func TestValidate_AutoscalingAnnotationBounds(t *testing.T) { // §2.2 autoscaling annotation table
	limit5 := cfgWith(t, config.AutoscalerConfigName, map[string]string{"max-scale-limit": "5", "max-scale": "5"})
	zeroOK := cfgWith(t, config.AutoscalerConfigName, map[string]string{"allow-zero-initial-scale": "true"})
	k := func(s string) string { return annPath + "[autoscaling.knative.dev/" + s + "]" }
	runSvcCases(t, []svcCase{
		{name: "valid set", mod: templateAnns("autoscaling.knative.dev/min-scale", "1", "autoscaling.knative.dev/max-scale", "10",
			"autoscaling.knative.dev/activation-scale", "3", "autoscaling.knative.dev/initial-scale", "2",
			"autoscaling.knative.dev/target", "0.01", "autoscaling.knative.dev/target-utilization-percentage", "70",
			"autoscaling.knative.dev/target-burst-capacity", "-1", "autoscaling.knative.dev/window", "6s",
			"autoscaling.knative.dev/panic-window-percentage", "100", "autoscaling.knative.dev/panic-threshold-percentage", "110",
			"autoscaling.knative.dev/scale-down-delay", "1h", "autoscaling.knative.dev/scale-to-zero-pod-retention-period", "1m5s",
			"autoscaling.knative.dev/metric", "rps", "autoscaling.knative.dev/metric-aggregation-algorithm", "weightedExponential",
			"serving.knative.dev/progress-deadline", "5m")},
		{name: "max below min", mod: templateAnns("autoscaling.knative.dev/min-scale", "3", "autoscaling.knative.dev/max-scale", "2"),
			want: "max-scale=2 is less than min-scale=3: " + k("max-scale") + ", " + k("min-scale")},
		{name: "legacy aliases", mod: templateAnns("autoscaling.knative.dev/minScale", "3", "autoscaling.knative.dev/maxScale", "2"),
			want: "max-scale=2 is less than min-scale=3: " + k("maxScale") + ", " + k("minScale")},
		{name: "both spellings", mod: templateAnns("autoscaling.knative.dev/minScale", "1", "autoscaling.knative.dev/min-scale", "1"),
			want: "expected exactly one, got both: " + k("min-scale") + ", " + k("minScale")},
		{name: "negative min", mod: templateAnns("autoscaling.knative.dev/min-scale", "-1"),
			want: "expected 0 <= -1 <= 2147483647: " + k("min-scale")},
		{name: "non-integer max", mod: templateAnns("autoscaling.knative.dev/max-scale", "two"),
			want: "invalid value: two: " + k("max-scale")},
		{name: "max above limit", mod: templateAnns("autoscaling.knative.dev/max-scale", "6"), cfg: limit5,
			want: "expected 1 <= 6 <= 5: " + k("max-scale")},
		{name: "unlimited max with limit", mod: templateAnns("autoscaling.knative.dev/max-scale", "0"), cfg: limit5,
			want: "max-scale=0 (unlimited), must be less than 5: " + k("max-scale")},
		{name: "activation 1", mod: templateAnns("autoscaling.knative.dev/activation-scale", "1"),
			want: "expected 2 <= 1 <= 2147483647: " + k("activation-scale")},
		{name: "activation legacy alias", mod: templateAnns("autoscaling.knative.dev/activationScale", "1"),
			want: "expected 2 <= 1 <= 2147483647: " + k("activationScale")},
		{name: "activation below min", mod: templateAnns("autoscaling.knative.dev/activation-scale", "2", "autoscaling.knative.dev/min-scale", "4"),
			want: "activation-scale=2 is less than min-scale=4: " + k("activation-scale")},
		{name: "activation above max", mod: templateAnns("autoscaling.knative.dev/activation-scale", "5", "autoscaling.knative.dev/max-scale", "4"),
			want: "max-scale=4 is less than activation-scale=5: " + k("activation-scale")},
		{name: "initial 0 not allowed", mod: templateAnns("autoscaling.knative.dev/initial-scale", "0"),
			want: "initial-scale=0 not allowed by cluster: " + k("initial-scale")},
		{name: "initial 0 allowed", mod: templateAnns("autoscaling.knative.dev/initialScale", "0"), cfg: zeroOK},
		{name: "initial negative", mod: templateAnns("autoscaling.knative.dev/initial-scale", "-2"),
			want: "invalid value: -2: " + k("initial-scale")},
		{name: "target too small", mod: templateAnns("autoscaling.knative.dev/target", "0.001"),
			want: "target 0.001 should be at least 0.01: " + k("target")},
		{name: "utilization 101", mod: templateAnns("autoscaling.knative.dev/targetUtilizationPercentage", "101"),
			want: "expected 1 <= 101 <= 100: " + k("targetUtilizationPercentage")},
		{name: "burst -2", mod: templateAnns("autoscaling.knative.dev/target-burst-capacity", "-2"),
			want: "invalid value: -2: " + k("target-burst-capacity")},
		{name: "window 5s", mod: templateAnns("autoscaling.knative.dev/window", "5s"),
			want: "expected 6s <= 5s <= 1h0m0s: " + k("window")},
		{name: "window sub-second", mod: templateAnns("autoscaling.knative.dev/window", "6500ms"),
			want: "must be specified with at most second precision: " + k("window")},
		{name: "panic window 0", mod: templateAnns("autoscaling.knative.dev/panic-window-percentage", "0"),
			want: "expected 1 <= 0 <= 100: " + k("panic-window-percentage")},
		{name: "panic threshold 100", mod: templateAnns("autoscaling.knative.dev/panicThresholdPercentage", "100"),
			want: "expected 110 <= 100 <= 1000: " + k("panicThresholdPercentage")},
		{name: "scale-down-delay 2h", mod: templateAnns("autoscaling.knative.dev/scale-down-delay", "2h"),
			want: "expected 0s <= 2h <= 1h0m0s: " + k("scale-down-delay")},
		{name: "retention negative", mod: templateAnns("autoscaling.knative.dev/scale-to-zero-pod-retention-period", "-1s"),
			want: "expected 0s <= -1s <= 1h0m0s: " + k("scale-to-zero-pod-retention-period")},
		{name: "KPA metric cpu", mod: templateAnns("autoscaling.knative.dev/metric", "cpu"),
			want: "invalid value: cpu: " + k("metric")},
		{name: "HPA metric cpu", mod: templateAnns("autoscaling.knative.dev/class", "hpa.autoscaling.knative.dev", "autoscaling.knative.dev/metric", "cpu")},
		{name: "HPA metric empty", mod: templateAnns("autoscaling.knative.dev/class", "hpa.autoscaling.knative.dev", "autoscaling.knative.dev/metric", ""),
			want: "invalid value: : " + k("metric")},
		{name: "custom class metric unchecked", mod: templateAnns("autoscaling.knative.dev/class", "custom.example.com", "autoscaling.knative.dev/metric", "anything")},
		{name: "unknown knative class", mod: templateAnns("autoscaling.knative.dev/class", "xpa.autoscaling.knative.dev"),
			want: "invalid value: xpa.autoscaling.knative.dev: " + k("class")},
		{name: "bad algorithm", mod: templateAnns("autoscaling.knative.dev/metric-aggregation-algorithm", "median"),
			want: "invalid value: median: " + k("metric-aggregation-algorithm")},
		{name: "progress-deadline sub-second", mod: templateAnns("serving.knative.dev/progress-deadline", "1.5s"),
			want: "must be specified with at most second precision: " + annPath + "[serving.knative.dev/progress-deadline]"},
		{name: "progress-deadline negative", mod: templateAnns("serving.knative.dev/progress-deadline", "-1s"),
			want: "progress-deadline=-1s must not be negative: " + annPath + "[serving.knative.dev/progress-deadline]"},
		{name: "queue sidecar percentage", mod: templateAnns("queue.sidecar.serving.knative.dev/resource-percentage", "200"),
			want: "expected 0.1 <= 200 <= 100: " + annPath + "[queue.sidecar.serving.knative.dev/resource-percentage]"},
	})
}
