package autoscaler

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/config"
)

func pa(cc int64, reach autoscalingv1alpha1.ReachabilityType, annos map[string]string) *autoscalingv1alpha1.PodAutoscaler {
	return &autoscalingv1alpha1.PodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "hello-00001", Namespace: "ns", Annotations: annos},
		Spec:       autoscalingv1alpha1.PodAutoscalerSpec{ContainerConcurrency: cc, Reachability: reach},
	}
}

func TestMetricTarget_Section3_2(t *testing.T) {
	cases := []struct {
		name               string
		cc                 int64
		annos              map[string]string
		cfg                func(*config.Autoscaler)
		wantTarget, wantTo float64
	}{
		{name: "CC=0 uses container-concurrency-target-default", cc: 0, wantTarget: 70, wantTo: 100},
		{name: "CC=10 uses CC", cc: 10, wantTarget: 7, wantTo: 10},
		{name: "rps uses requests-per-second-target-default", annos: map[string]string{serving.MetricAnnotationKey: "rps"}, wantTarget: 140, wantTo: 200},
		{name: "target annotation replaces total", annos: map[string]string{serving.TargetAnnotationKey: "50"}, wantTarget: 35, wantTo: 50},
		{name: "target annotation capped at CC", cc: 10, annos: map[string]string{serving.TargetAnnotationKey: "50"}, wantTarget: 7, wantTo: 10},
		{name: "rps target annotation not capped by CC", cc: 10, annos: map[string]string{serving.MetricAnnotationKey: "rps", serving.TargetAnnotationKey: "50"}, wantTarget: 35, wantTo: 50},
		{name: "target-utilization-percentage annotation", cc: 10, annos: map[string]string{serving.TargetUtilizationAnnotationKey: "50"}, wantTarget: 5, wantTo: 10},
		{name: "legacy targetUtilizationPercentage", annos: map[string]string{serving.TargetUtilizationAnnotationKeyAlternative: "100"}, wantTarget: 100, wantTo: 100},
		{name: "target floored at 0.01", annos: map[string]string{serving.TargetAnnotationKey: "0.01"}, wantTarget: 0.01, wantTo: 0.01},
		{name: "config percentage", cfg: func(c *config.Autoscaler) { c.ContainerConcurrencyTargetFraction = 0.5 }, wantTarget: 50, wantTo: 100},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := config.DefaultAutoscaler()
			if c.cfg != nil {
				c.cfg(cfg)
			}
			target, total := MetricTarget(pa(c.cc, "", c.annos), cfg)
			if !near(target, c.wantTarget) || !near(total, c.wantTo) {
				t.Errorf("MetricTarget(cc=%d, %v) = %v/%v, want %v/%v", c.cc, c.annos, target, total, c.wantTarget, c.wantTo)
			}
		})
	}
}

func near(a, b float64) bool { d := a - b; return d < 1e-9 && d > -1e-9 }

func TestMakeDeciderSpec_Section3_2_Defaults(t *testing.T) {
	got := MakeDeciderSpec(pa(0, autoscalingv1alpha1.ReachabilityReachable, nil), config.DefaultAutoscaler())
	want := DeciderSpec{
		ScalingMetric: "concurrency", TargetValue: 70, TotalValue: 100, TargetBurstCapacity: 211,
		ActivatorCapacity: 100, PanicThreshold: 2, StableWindow: 60 * time.Second, PanicWindow: 6 * time.Second,
		MaxScaleUpRate: 1000, MaxScaleDownRate: 2, ActivationScale: 1, InitialScale: 1, Reachable: true,
	}
	if got != want {
		t.Errorf("MakeDeciderSpec(defaults) = %+v, want %+v", got, want)
	}
}

func TestMakeDeciderSpec_Section3_2_Annotations(t *testing.T) {
	annos := map[string]string{
		serving.WindowAnnotationKey:                   "20s",
		serving.PanicWindowPercentageAnnotationKey:    "25",
		serving.PanicThresholdPercentageAnnotationKey: "150",
		serving.TargetBurstCapacityAnnotationKey:      "-1",
		serving.ScaleDownDelayAnnotationKey:           "5m",
		serving.ActivationScaleAnnotationKey:          "3",
		serving.InitialScaleAnnotationKey:             "4",
		serving.MinScaleAnnotationKey:                 "2",
		serving.MaxScaleAnnotationKey:                 "9",
	}
	got := MakeDeciderSpec(pa(10, "", annos), config.DefaultAutoscaler())
	checks := []struct {
		name      string
		got, want any
	}{
		{"StableWindow", got.StableWindow, 20 * time.Second},
		{"PanicWindow", got.PanicWindow, 5 * time.Second},
		{"PanicThreshold", got.PanicThreshold, 1.5},
		{"TargetBurstCapacity", got.TargetBurstCapacity, -1.0},
		{"ScaleDownDelay", got.ScaleDownDelay, 5 * time.Minute},
		{"ActivationScale", got.ActivationScale, int32(3)},
		{"InitialScale", got.InitialScale, int32(4)},
		{"MinScale", got.MinScale, int32(2)},
		{"MaxScale", got.MaxScale, int32(9)},
		{"Reachable (unknown reachability counts as reachable)", got.Reachable, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("MakeDeciderSpec(%v).%s = %v, want %v", annos, c.name, c.got, c.want)
		}
	}
}

func TestPanicWindowRoundsToWholeSecondsAtLeastOne_Section3_2(t *testing.T) {
	cases := []struct {
		window string
		pct    string
		want   time.Duration
	}{
		{"60s", "10", 6 * time.Second},
		{"6s", "10", time.Second}, // 0.6s rounds to 1s
		{"6s", "1", time.Second},  // 0.06s is lifted to the 1s minimum
		{"15s", "10", 2 * time.Second},
	}
	for _, c := range cases {
		annos := map[string]string{serving.WindowAnnotationKey: c.window, serving.PanicWindowPercentageAnnotationKey: c.pct}
		if got := MakeDeciderSpec(pa(0, "", annos), config.DefaultAutoscaler()).PanicWindow; got != c.want {
			t.Errorf("PanicWindow(window=%s, pct=%s) = %v, want %v", c.window, c.pct, got, c.want)
		}
	}
}

func TestScaleBounds_MinIgnoredWhenUnreachable_Section3_5(t *testing.T) {
	annos := map[string]string{serving.MinScaleAnnotationKey: "3", serving.MaxScaleAnnotationKey: "5"}
	cases := []struct {
		reach            autoscalingv1alpha1.ReachabilityType
		wantMin, wantMax int32
	}{
		{autoscalingv1alpha1.ReachabilityReachable, 3, 5},
		{autoscalingv1alpha1.ReachabilityUnknown, 3, 5},
		{autoscalingv1alpha1.ReachabilityUnreachable, 0, 5},
	}
	for _, c := range cases {
		minS, maxS := ScaleBounds(pa(0, c.reach, annos), config.DefaultAutoscaler())
		if minS != c.wantMin || maxS != c.wantMax {
			t.Errorf("ScaleBounds(reachability=%q) = %d,%d, want %d,%d", c.reach, minS, maxS, c.wantMin, c.wantMax)
		}
	}
	cfg := config.DefaultAutoscaler()
	cfg.MinScale, cfg.MaxScale = 1, 7
	if minS, maxS := ScaleBounds(pa(0, "", map[string]string{serving.MinScaleAnnotationKeyAlternative: "2"}), cfg); minS != 2 || maxS != 7 {
		t.Errorf("ScaleBounds(minScale=2 legacy, config 1..7) = %d,%d, want 2,7", minS, maxS)
	}
}

func TestInitialScale_ZeroNeedsAllowZero_Section1_5(t *testing.T) {
	cfg := config.DefaultAutoscaler()
	zero := map[string]string{serving.InitialScaleAnnotationKey: "0"}
	if got := InitialScale(zero, cfg); got != 1 {
		t.Errorf("InitialScale(0, allow-zero=false) = %d, want 1", got)
	}
	cfg.AllowZeroInitialScale = true
	if got := InitialScale(zero, cfg); got != 0 {
		t.Errorf("InitialScale(0, allow-zero=true) = %d, want 0", got)
	}
	if got := InitialScale(map[string]string{serving.InitialScaleAnnotationKey: "3"}, cfg); got != 3 {
		t.Errorf("InitialScale(3) = %d, want 3", got)
	}
	cfg.InitialScale = 2
	if got := InitialScale(nil, cfg); got != 2 {
		t.Errorf("InitialScale(none, config 2) = %d, want 2", got)
	}
}

func TestInitialDecision_Section3_4(t *testing.T) {
	cases := []struct {
		name    string
		cc      int64
		annos   map[string]string
		wantEBC int32
	}{
		{name: "defaults give 1×100−211 = −111", wantEBC: -111},
		{name: "CC=10 gives 1×10−211 = −201", cc: 10, wantEBC: -201},
		{name: "TBC=-1 stays -1", annos: map[string]string{serving.TargetBurstCapacityAnnotationKey: "-1"}, wantEBC: -1},
		{name: "TBC=0 stays 0", annos: map[string]string{serving.TargetBurstCapacityAnnotationKey: "0"}, wantEBC: 0},
		{name: "initial-scale 3 gives 3×100−211 = 89", annos: map[string]string{serving.InitialScaleAnnotationKey: "3"}, wantEBC: 89},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := InitialDecision(MakeDeciderSpec(pa(c.cc, "", c.annos), config.DefaultAutoscaler()))
			if got.DesiredScale != -1 || got.ExcessBurstCapacity != c.wantEBC {
				t.Errorf("InitialDecision = %+v, want {DesiredScale:-1 ExcessBurstCapacity:%d}", got, c.wantEBC)
			}
		})
	}
}

func TestProgressDeadlineAnnotation_Section1_5(t *testing.T) {
	d := config.DefaultDeployment()
	if got := ProgressDeadline(nil, d); got != 600*time.Second {
		t.Errorf("ProgressDeadline(none) = %v, want 10m", got)
	}
	if got := ProgressDeadline(map[string]string{serving.ProgressDeadlineAnnotationKey: "30s"}, d); got != 30*time.Second {
		t.Errorf("ProgressDeadline(30s) = %v, want 30s", got)
	}
}
