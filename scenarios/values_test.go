package scenarios

import (
	"strings"
	"testing"
	"time"
)

func TestRate_ParsesNumbersAndCountsPerInterval(t *testing.T) {
	cases := []struct {
		value, tag string
		want       float64
		ok         bool
	}{
		{"50", tagInt, 50, true},
		{"0.5", tagFloat, 0.5, true},
		{"50/s", tagStr, 50, true},
		{"3000/m", tagStr, 50, true},
		{"1/ms", tagStr, 1000, true},
		{"10/5s", tagStr, 2, true},
		{" 7 / h ", tagStr, 7.0 / 3600, true},
		{"50", tagStr, 50, true},
		{"fast", tagStr, 0, false},
		{"50/fortnight", tagStr, 0, false},
		{"50/0s", tagStr, 0, false},
		{"true", tagBool, 0, false},
		{".nan", tagFloat, 0, false},
	}
	for _, c := range cases {
		var r Rate
		err := r.setScalar(c.value, c.tag)
		if (err == nil) != c.ok || (c.ok && float64(r) != c.want) {
			t.Errorf("Rate.setScalar(%q, %s) = %v, %v; want %v, ok %v", c.value, c.tag, float64(r), err, c.want, c.ok)
		}
	}
}

func TestCount_ParsesExactRangesAndBounds(t *testing.T) {
	cases := []struct {
		value, tag string
		want       Count
		ok         bool
	}{
		{"3", tagInt, Exactly(3), true},
		{"2..5", tagStr, Between(2, 5), true},
		{">=3", tagStr, AtLeast(3), true},
		{"<= 2", tagStr, AtMost(2), true},
		{"-1", tagInt, Count{}, false},
		{"3.5", tagFloat, Count{}, false},
		{"many", tagStr, Count{}, false},
		{"99999999999999999999", tagInt, Count{}, false},
	}
	for _, c := range cases {
		var got Count
		err := got.setScalar(c.value, c.tag)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("Count.setScalar(%q) = %+v, %v; want %+v, ok %v", c.value, got, err, c.want, c.ok)
		}
		if c.ok {
			var back Count
			if err := back.setScalar(got.String(), tagStr); err != nil || back != got {
				t.Errorf("Count %+v: String() = %q does not parse back (%+v, %v)", got, got.String(), back, err)
			}
		}
	}
	if !AtLeast(3).Contains(1000) || AtLeast(3).Contains(2) || !Between(2, 5).Contains(5) || AtMost(2).Contains(3) {
		t.Error("Count.Contains is wrong at the edges")
	}
}

func TestBound_ParsesAtMostRangesAndAtLeast(t *testing.T) {
	cases := []struct {
		value string
		want  Bound
		ok    bool
	}{
		{"1s", Bound{Max: time.Second}, true},
		{"<=1s", Bound{Max: time.Second}, true},
		{">=100ms", Bound{Min: 100 * time.Millisecond}, true},
		{"100ms..110ms", Bound{Min: 100 * time.Millisecond, Max: 110 * time.Millisecond}, true},
		{"fast", Bound{}, false},
		{"-1s", Bound{}, false},
		{"1s..", Bound{}, false},
	}
	for _, c := range cases {
		var got Bound
		err := got.setScalar(c.value, tagStr)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("Bound.setScalar(%q) = %+v, %v; want %+v, ok %v", c.value, got, err, c.want, c.ok)
		}
	}
	b := Bound{Min: 100 * time.Millisecond, Max: 110 * time.Millisecond}
	if !b.Contains(105*time.Millisecond) || b.Contains(111*time.Millisecond) || b.Contains(99*time.Millisecond) {
		t.Errorf("%s.Contains is wrong", b)
	}
}

func TestFraction_ParsesNumbersAndPercentages(t *testing.T) {
	cases := []struct {
		value, tag string
		want       float64
		ok         bool
	}{
		{"0.001", tagFloat, 0.001, true},
		{"0", tagInt, 0, true},
		{"0.1%", tagStr, 0.001, true},
		{"99.9%", tagStr, 0.999, true},
		{"0.1", tagStr, 0, false}, // quoted number: ambiguous, refused
		{"%", tagStr, 0, false},
	}
	for _, c := range cases {
		var f Fraction
		err := f.setScalar(c.value, c.tag)
		if (err == nil) != c.ok || (c.ok && float64(f) != c.want) {
			t.Errorf("Fraction.setScalar(%q, %s) = %v, %v; want %v, ok %v", c.value, c.tag, float64(f), err, c.want, c.ok)
		}
	}
}

func TestDuration_WantsUnits(t *testing.T) {
	var d Duration
	if err := d.setScalar("1m30s", tagStr); err != nil || d.D() != 90*time.Second {
		t.Errorf("Duration.setScalar(1m30s) = %s, %v", d, err)
	}
	if err := d.setScalar("0", tagInt); err != nil || d != 0 {
		t.Errorf("Duration.setScalar(0) = %s, %v; want 0 (no unit needed)", d, err)
	}
	if err := d.setScalar("30", tagInt); err == nil {
		t.Error("Duration.setScalar(30) = nil error, want one: 30 of what?")
	}
}

func TestPercentile_Quantiles(t *testing.T) {
	cases := []struct {
		p     Percentile
		q     float64
		valid bool
	}{
		{"p50", 0.5, true}, {"p99.9", 0.999, true}, {"max", 1, true}, {"min", 0, true}, {"mean", 0, true},
		{"p100", 0, false}, {"p0", 0, false}, {"P95", 0, false}, {"median", 0, false},
	}
	for _, c := range cases {
		q, _ := c.p.Quantile()
		if c.p.valid() != c.valid || (c.valid && q != c.q) {
			t.Errorf("%s: Quantile() = %v, valid %v; want %v, %v", c.p, q, c.p.valid(), c.q, c.valid)
		}
	}
}

func TestStepPhase_LevelsAreEvenlySpaced(t *testing.T) {
	s := StepPhase{From: 1000, To: 3000, Steps: 3, Duration: Duration(6 * time.Minute)}
	got := s.Levels()
	if len(got) != 3 || got[0] != 1000 || got[1] != 2000 || got[2] != 3000 {
		t.Errorf("Levels() = %v, want [1000 2000 3000] (Knative's load-test steps)", got)
	}
	if d := s.Describe(); d != "steps 1000/s → 2000/s → 3000/s, 2m0s each" {
		t.Errorf("Describe() = %q", d)
	}
}

// TestDescribe_ReadsAsASentence pins the one-line descriptions reports print.
func TestDescribe_ReadsAsASentence(t *testing.T) {
	entered := true
	to := Duration(15 * time.Second)
	at := Duration(30 * time.Second)
	cases := []struct {
		got, want string
	}{
		{(&ColdStartExpect{Service: "hello", Count: new(Exactly(1)), Percentiles: Percentiles{"p95": AtMostD(2 * time.Second), "p50": AtMostD(time.Second)}}).Describe(),
			"cold starts of hello: count exactly 1; latency p50 ≤ 1s, p95 ≤ 2s"},
		{(&PodsExpect{Service: "hello", At: &at, Count: Between(2, 5)}).Describe(), "ready pods of hello at 30s: between 2 and 5"},
		{(&ReachesExpect{Service: "b", Measure: MeasureDesired, Pods: 4, Within: Duration(5 * time.Second), After: Duration(10 * time.Second)}).Describe(),
			"desired pods of b reach 4 within 5s after 10s"},
		{(&ScalesToZeroExpect{Service: "fades", Within: Duration(25 * time.Second)}).Describe(), "fades scales to zero within 25s after its load ends"},
		{(&PanicExpect{Service: "b", Entered: &entered, From: Duration(10 * time.Second), To: &to}).Describe(),
			"autoscaler enters panic mode for b from 10s to 15s"},
		{(&SKSModeSwitchesExpect{Service: "tbc-211", Count: Exactly(0)}).Describe(), "SKS of tbc-211 switches mode exactly 0 times"},
		{(&TrafficSplitExpect{Service: "bg", Shares: []Share{{Tag: "blue", Percent: 50}, {Revision: "bg-00002", Percent: 50}}}).Describe(),
			"requests to bg split 50% tag blue, 50% bg-00002 (99.9% confidence)"},
		{(&ErrorRateExpect{Max: 0}).Describe(), "no errors in all requests"},
		{(&ThroughputExpect{Scope: Scope{Stream: "probe"}, MinOfOffered: 0.999}).Describe(),
			"throughput of requests of stream probe: at least 99.9% of the offered requests"},
		{(&StatusCodesExpect{Scope: Scope{Service: "s"}, Codes: map[string]Count{"5xx": Exactly(0), "200": AtLeast(100)}}).Describe(),
			"status codes of requests to s: 200 at least 100, 5xx exactly 0"},
		{Action{At: &at, UpdateService: &UpdateService{Name: "hello", Patch: map[string]any{"spec": nil}}}.Describe(),
			"at 30s: update service hello (patch spec)"},
		{(&ConstantPhase{Rate: 50, Duration: Duration(30 * time.Second)}).Describe(), "constant 50/s for 30s"},
		{(&BurstPhase{Requests: 5}).Describe(), "burst of 5 requests at once"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("Describe() = %q, want %q", c.got, c.want)
		}
	}
}

func TestStreamName_DefaultsToTheTarget(t *testing.T) {
	s := &Scenario{Spec: Spec{Workload: []Stream{
		{Target: Target{Service: "hello"}},
		{Target: Target{Service: "hello", Tag: "blue"}},
		{Target: Target{Service: "hello"}},
		{Name: "probe", Target: Target{Service: "hello"}},
	}}}
	var got []string
	for i := range s.Spec.Workload {
		got = append(got, s.StreamName(i))
	}
	if want := "hello hello/blue hello#2 probe"; strings.Join(got, " ") != want {
		t.Errorf("StreamName() = %v, want %s", got, want)
	}
}
