package podruntime

import (
	"math"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/servingsim/servingsim/stack/rng"
)

func TestParseDist(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Dist
	}{
		{"2s", Const(2 * time.Second)},
		{"0", Const(0)},
		{"constant(150ms)", Const(150 * time.Millisecond)},
		{"uniform(1s, 3s)", UniformDist(time.Second, 3*time.Second)},
		{"exp(500ms)", ExpDist(500 * time.Millisecond)},
		{"exponential(1m)", ExpDist(time.Minute)},
		{"lognormal(1s,0.5)", LogNormalDist(time.Second, 0.5)},
	} {
		got, err := ParseDist(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDist(%q) = %+v, %v, want %+v", tc.in, got, err, tc.want)
		}
		back, err := ParseDist(got.String())
		if err != nil || back != got {
			t.Errorf("ParseDist(%q.String()=%q) = %+v, %v, want round trip", tc.in, got.String(), back, err)
		}
	}
	for _, bad := range []string{"", "soon", "uniform(3s,1s)", "uniform(1s)", "normal(1s)", "lognormal(1s,x)", "exp(-1s)", "uniform(1s,2s"} {
		if d, err := ParseDist(bad); err == nil {
			t.Errorf("ParseDist(%q) = %+v, want an error", bad, d)
		}
	}
}

func TestDist_DrawMatchesDistribution(t *testing.T) {
	const n = 20000
	mean := func(d Dist) (float64, time.Duration, time.Duration) {
		s := rng.New(1).Stream("test")
		var sum float64
		lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
		for range n {
			v := d.Draw(s)
			sum += float64(v)
			lo, hi = min(lo, v), max(hi, v)
		}
		return sum / n, lo, hi
	}
	if m, lo, hi := mean(Const(time.Second)); m != float64(time.Second) || lo != hi {
		t.Errorf("constant 1s: mean %v, range [%v,%v], want exactly 1s", time.Duration(m), lo, hi)
	}
	if m, lo, hi := mean(UniformDist(time.Second, 3*time.Second)); math.Abs(m-2e9) > 0.05e9 || lo < time.Second || hi >= 3*time.Second {
		t.Errorf("uniform(1s,3s): mean %v, range [%v,%v], want ≈2s within [1s,3s)", time.Duration(m), lo, hi)
	}
	if m, lo, _ := mean(ExpDist(time.Second)); math.Abs(m-1e9) > 0.05e9 || lo < 0 {
		t.Errorf("exp(1s): mean %v, min %v, want ≈1s, >= 0", time.Duration(m), lo)
	}
	// The median of a log-normal is its scale parameter.
	s := rng.New(1).Stream("median")
	below := 0
	for range n {
		if LogNormalDist(time.Second, 0.8).Draw(s) < time.Second {
			below++
		}
	}
	if f := float64(below) / n; math.Abs(f-0.5) > 0.02 {
		t.Errorf("lognormal(1s,0.8): %.3f of draws below 1s, want ≈0.5", f)
	}
}

func testPod(ns, name string, ann map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name), Annotations: ann}}
}

var randomModel = StartupModel{
	Schedule:       UniformDist(0, 100*time.Millisecond),
	ImagePull:      LogNormalDist(2*time.Second, 0.5),
	ContainerStart: ExpDist(300 * time.Millisecond),
	Startup:        UniformDist(time.Second, 5*time.Second),
	Drain:          ExpDist(time.Second),
}

func TestDrawPlan_SameSeedSameDurations(t *testing.T) {
	for _, name := range []string{"a-1", "a-2", "b-1"} {
		p1, err1 := drawPlan(rng.New(42), testPod("ns", name, nil), randomModel, Faults{})
		p2, err2 := drawPlan(rng.New(42), testPod("ns", name, nil), randomModel, Faults{})
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if p1 != p2 {
			t.Errorf("pod %s: seed 42 drew %+v then %+v, want identical", name, p1, p2)
		}
	}
}

func TestDrawPlan_DifferentSeedOrPodDifferentDurations(t *testing.T) {
	p1, _ := drawPlan(rng.New(42), testPod("ns", "a-1", nil), randomModel, Faults{})
	p2, _ := drawPlan(rng.New(43), testPod("ns", "a-1", nil), randomModel, Faults{})
	p3, _ := drawPlan(rng.New(42), testPod("ns", "a-2", nil), randomModel, Faults{})
	if p1.ImagePull == p2.ImagePull && p1.Startup == p2.Startup {
		t.Errorf("seeds 42 and 43 drew the same durations %+v", p1)
	}
	if p1.ImagePull == p3.ImagePull && p1.Startup == p3.Startup {
		t.Errorf("pods a-1 and a-2 drew the same durations %+v", p1)
	}
	// Every phase lies in its distribution's support.
	if p1.Schedule >= 100*time.Millisecond || p1.Startup < time.Second || p1.Startup >= 5*time.Second || p1.ImagePull <= 0 {
		t.Errorf("plan %+v outside the model's support", p1)
	}
}

func TestDrawPlan_ZeroModelIsInstant(t *testing.T) {
	p, err := drawPlan(rng.New(1), testPod("ns", "x", nil), StartupModel{}, Faults{})
	if err != nil || p.Schedule != 0 || p.ImagePull != 0 || p.ContainerStart != 0 || p.Startup != 0 || p.Drain != 0 || !p.healthy() {
		t.Errorf("zero model plan = %+v, %v, want all zero and healthy", p, err)
	}
}

func TestDrawPlan_AnnotationsOverrideOptions(t *testing.T) {
	ann := map[string]string{
		StartupDelayAnnotation:         "2s",
		ImagePullDelayAnnotation:       "uniform(1s,2s)",
		CrashAnnotation:                "3",
		CrashMessageAnnotation:         "boom",
		NeverReadyAnnotation:           "false",
		UnschedulableAnnotation:        "true",
		UnschedulableMessageAnnotation: "no room",
		ImagePullErrorAnnotation:       "1",
	}
	p, err := drawPlan(rng.New(1), testPod("ns", "x", ann), StartupModel{Startup: Const(time.Hour)}, Faults{NeverReady: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Startup != 2*time.Second || p.ImagePull < time.Second || p.ImagePull >= 2*time.Second {
		t.Errorf("delays = startup %v pull %v, want 2s and [1s,2s)", p.Startup, p.ImagePull)
	}
	f := p.Faults
	if !f.Crash || f.CrashExitCode != 3 || f.CrashMessage != "boom" || f.NeverReady || !f.Unschedulable ||
		f.UnschedulableMessage != "no room" || !f.ImagePullError {
		t.Errorf("faults = %+v, want crash 3 'boom', never-ready off, unschedulable 'no room', image-pull-error", f)
	}
	p, _ = drawPlan(rng.New(1), testPod("ns", "y", map[string]string{CrashAnnotation: "true"}), StartupModel{}, Faults{})
	if !p.Faults.Crash || p.Faults.CrashExitCode != 1 || p.Faults.UnschedulableMessage != DefaultUnschedulableMessage {
		t.Errorf("crash=true faults = %+v, want exit code 1 and the default unschedulable message", p.Faults)
	}
}

func TestDrawPlan_MalformedAnnotationReportedAndDefaultKept(t *testing.T) {
	p, err := drawPlan(rng.New(1), testPod("ns", "x", map[string]string{StartupDelayAnnotation: "later", CrashAnnotation: "maybe"}),
		StartupModel{Startup: Const(time.Second)}, Faults{})
	if err == nil {
		t.Fatal("drawPlan with malformed annotations returned no error")
	}
	if p.Startup != time.Second || p.Faults.Crash {
		t.Errorf("plan = %+v, want the defaults (startup 1s, no crash)", p)
	}
}

func TestPlan_TimeToReady(t *testing.T) {
	p := Plan{Schedule: time.Second, ImagePull: 2 * time.Second, ContainerStart: 3 * time.Second, Startup: 4 * time.Second, Drain: time.Hour}
	if d, ok := p.TimeToReady(); !ok || d != 10*time.Second {
		t.Errorf("TimeToReady() = %v, %v, want 10s, true", d, ok)
	}
	for name, f := range map[string]Faults{"never-ready": {NeverReady: true}, "crash": {Crash: true}, "unschedulable": {Unschedulable: true},
		"image-pull-error": {ImagePullError: true}} {
		p.Faults = f
		if _, ok := p.TimeToReady(); ok {
			t.Errorf("%s: TimeToReady() ok = true, want false", name)
		}
	}
	a, _ := DrawPlan(rng.New(3), testPod("ns", "x", nil), randomModel, Faults{})
	b, _ := drawPlan(rng.New(3), testPod("ns", "x", nil), randomModel, Faults{})
	if a != b {
		t.Errorf("DrawPlan = %+v, the runtime draws %+v", a, b)
	}
}
