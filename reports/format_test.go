package reports

import (
	"math"
	"testing"
	"time"
)

func TestDurationDecimal_RoundTripsExactly(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		unit time.Duration
		want string
	}{
		{0, time.Second, "0"},
		{1500 * time.Millisecond, time.Second, "1.5"},
		{time.Nanosecond, time.Second, "0.000000001"},
		{-2250 * time.Millisecond, time.Second, "-2.25"},
		{90 * time.Minute, time.Second, "5400"},
		{1507444030 * time.Nanosecond, time.Millisecond, "1507.44403"},
		{3 * time.Millisecond, time.Millisecond, "3"},
		{500 * time.Microsecond, time.Millisecond, "0.5"},
		{math.MaxInt64, time.Second, "9223372036.854775807"},
	} {
		if got := durationDecimal(tc.d, tc.unit); got != tc.want {
			t.Errorf("durationDecimal(%d, %s) = %q, want %q", tc.d, tc.unit, got, tc.want)
		}
		back, err := parseDurationDecimal(tc.want, tc.unit)
		if err != nil || back != tc.d {
			t.Errorf("parseDurationDecimal(%q, %s) = %d, %v, want %d", tc.want, tc.unit, back, err, tc.d)
		}
	}
}

func TestParseDurationDecimal_RejectsMalformed(t *testing.T) {
	for _, s := range []string{"", "x", "1.2.3", "1e3", ".5", "1.0000000001", "+1", "1.-5", "--1"} {
		if d, err := parseDurationDecimal(s, time.Second); err == nil {
			t.Errorf("parseDurationDecimal(%q) = %d, want an error", s, d)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{850 * time.Microsecond, "850µs"},
		{4250 * time.Microsecond, "4.25ms"},
		{123456 * time.Microsecond, "123.5ms"},
		{1420 * time.Millisecond, "1.42s"},
		{123 * time.Second, "2m3s"},
		{-12 * time.Millisecond, "-12.0ms"},
	} {
		if got := humanDuration(tc.d); got != tc.want {
			t.Errorf("humanDuration(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestDecimalAndPValue(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{decimal(12.50, 2), "12.5"},
		{decimal(3, 1), "3"},
		{decimal(-0.0001, 2), "0"},
		{decimal(274.04, 1), "274"},
		{pValue(0.0004), "<0.001"},
		{pValue(0.04213), "0.042"},
		{pValue(1), "1.000"},
		{percent(0.013), "1.30%"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestMdCell_EscapesTableSyntaxAndHTML(t *testing.T) {
	got := mdCell("p95 < 3s | cold\nstarts <b>")
	want := `p95 &lt; 3s \| cold<br>starts &lt;b&gt;`
	if got != want {
		t.Errorf("mdCell() = %q, want %q", got, want)
	}
}

func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		ticker niceTicks
		lo, hi float64
		want   []string
	}{
		{niceTicks{n: 12}, 0, 60, []string{"0", "5", "10", "15", "20", "25", "30", "35", "40", "45", "50", "55", "60"}},
		{niceTicks{n: 5, minStep: 1}, 0, 2.2, []string{"0", "1", "2"}},
		{niceTicks{n: 4}, 0, 0.9, []string{"0.0", "0.5"}},
		{niceTicks{n: 4}, -0.3, 0.3, []string{"-0.2", "0.0", "0.2"}},
		{niceTicks{n: 6}, 120, 2300, []string{"500", "1000", "1500", "2000"}},
	} {
		var got []string
		for _, tk := range tc.ticker.Ticks(tc.lo, tc.hi) {
			if !tk.IsMinor() {
				got = append(got, tk.Label)
			}
		}
		if !equalStrings(got, tc.want) {
			t.Errorf("%+v.Ticks(%g, %g) = %q, want %q", tc.ticker, tc.lo, tc.hi, got, tc.want)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
