package app

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/servingsim/servingsim/stack/podruntime"
	"github.com/servingsim/servingsim/stack/rng"
)

func TestParseSampler(t *testing.T) {
	cases := []struct {
		in      string
		want    Sampler
		wantErr string
	}{
		{in: "100ms", want: podruntime.Const(100 * time.Millisecond)},
		{in: "exponential(50ms)", want: podruntime.ExpDist(50 * time.Millisecond)},
		{in: "lognormal(100ms,0.5)", want: podruntime.LogNormalDist(100*time.Millisecond, 0.5)},
		{in: "empirical(10ms:50, 100ms:30, 1s:20)", want: Empirical{
			Bounds:  []time.Duration{10 * time.Millisecond, 100 * time.Millisecond, time.Second},
			Weights: []float64{50, 30, 20}}},
		{in: "Histogram(1s:1)", want: Empirical{Bounds: []time.Duration{time.Second}, Weights: []float64{1}}},
		{in: "empirical(100ms:1,10ms:1)", wantErr: "ascending"},
		{in: "empirical(10ms:0)", wantErr: "sum to 0"},
		{in: "empirical(10ms:-1)", wantErr: ">= 0"},
		{in: "empirical(10ms)", wantErr: "<bound>:<weight>"},
		{in: "empirical(10ms:1", wantErr: "missing ')'"},
		{in: "gamma(1s)", wantErr: "unknown kind"},
	}
	for _, tc := range cases {
		got, err := ParseSampler(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseSampler(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSampler(%q) error = %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseSampler(%q) (-want +got):\n%s", tc.in, diff)
		}
		if again, err := ParseSampler(got.String()); err != nil || !cmp.Equal(again, got) {
			t.Errorf("ParseSampler(%q.String() = %q) = %v, %v; want a round trip", tc.in, got.String(), again, err)
		}
	}
}

func TestEmpiricalDrawFollowsTheHistogram(t *testing.T) {
	e := Empirical{Bounds: []time.Duration{10 * time.Millisecond, 100 * time.Millisecond}, Weights: []float64{3, 1}}
	s := rng.New(1).Stream("test")
	const n = 20000
	low := 0
	for range n {
		d := e.Draw(s)
		if d < 0 || d > 100*time.Millisecond {
			t.Fatalf("Draw() = %s, want in [0, 100ms]", d)
		}
		if d <= 10*time.Millisecond {
			low++
		}
	}
	if frac := float64(low) / n; frac < 0.73 || frac > 0.77 {
		t.Errorf("fraction of draws in the first bucket = %.3f, want ≈ 0.75 (weights 3:1)", frac)
	}
}
