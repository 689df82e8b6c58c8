package reports

import (
	"math"
	"testing"
	"time"
)

func TestMannWhitney(t *testing.T) {
	for _, tc := range []struct {
		name            string
		a, b            []float64
		wantP, wantSupB float64
	}{
		// U_A = 0, σ = √(25·11/12): z = (12.5 − 0.5)/4.787 = 2.507, p = 0.0122.
		{"B entirely larger", []float64{1, 2, 3, 4, 5}, []float64{6, 7, 8, 9, 10}, 0.01219, 1},
		{"B entirely smaller", []float64{6, 7, 8, 9, 10}, []float64{1, 2, 3, 4, 5}, 0.01219, 0},
		{"the same sample", []float64{1, 2, 3, 4}, []float64{1, 2, 3, 4}, 1, 0.5},
		{"every value tied", []float64{7, 7, 7}, []float64{7, 7}, 1, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, sup := mannWhitney(tc.a, tc.b)
			if math.Abs(p-tc.wantP) > 5e-5 || math.Abs(sup-tc.wantSupB) > 1e-12 {
				t.Errorf("mannWhitney() = p %.5f, P(B>A) %.3f; want p %.5f, P(B>A) %.3f", p, sup, tc.wantP, tc.wantSupB)
			}
		})
	}
}

func TestTwoProportionP(t *testing.T) {
	// 10/100 vs 20/100: pooled 0.15, se = √(0.15·0.85·0.02) = 0.0505, z = 1.980, p = 0.0477.
	if p := twoProportionP(10, 100, 20, 100); math.Abs(p-0.0477) > 5e-4 {
		t.Errorf("twoProportionP(10/100, 20/100) = %.4f, want 0.0477", p)
	}
	if p := twoProportionP(0, 100, 0, 50); p != 1 {
		t.Errorf("twoProportionP(0/100, 0/50) = %v, want 1 (no variance, no evidence)", p)
	}
}

func TestDivergence_FirstTickWhereDesiredDiffers(t *testing.T) {
	dec := func(rev string, sec float64, desired int32) Decision {
		return Decision{Revision: rev, Time: time.Duration(sec * float64(time.Second)), DesiredPods: desired}
	}
	a := []Decision{dec("r1", 2, 1), dec("r2", 2, 1), dec("r1", 4, 2), dec("r2", 4, 1), dec("r1", 6, 3), dec("r2", 6, 2)}
	for _, tc := range []struct {
		name      string
		b         []Decision
		want      string
		wantTicks int
	}{
		{"identical, ticks a little later", []Decision{dec("r1", 2.01, 1), dec("r2", 2.01, 1), dec("r1", 4.01, 2), dec("r2", 4.01, 1), dec("r1", 6.01, 3), dec("r2", 6.01, 2)}, "", 6},
		{"earliest of the revisions' divergences", []Decision{dec("r1", 2, 1), dec("r2", 2, 1), dec("r1", 4, 2), dec("r2", 4, 2), dec("r1", 6, 4), dec("r2", 6, 2)}, "r2 tick 2 (4s): desired 1 vs 2", 5},
		{"B stops deciding", []Decision{dec("r1", 2, 1), dec("r2", 2, 1), dec("r1", 4, 2), dec("r2", 4, 1), dec("r1", 6, 3)}, "r2 tick 3 (6s): only A decided (desired 2)", 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, ticks := divergence(a, tc.b)
			got := ""
			if d != nil {
				got = d.String()
			}
			if got != tc.want || ticks != tc.wantTicks {
				t.Errorf("divergence() = %q over %d ticks, want %q over %d", got, ticks, tc.want, tc.wantTicks)
			}
		})
	}
}
