package autoscaler

import (
	"math"
	"testing"
	"time"

	"github.com/servingsim/servingsim/stack/apis/serving"
)

func TestBuckets_RecordsInOneBucketAreSummed_Section3_3_4(t *testing.T) {
	b := NewBuckets(60 * time.Second)
	b.Record(at(10.2), 3)
	b.Record(at(10.7), 4)
	// One bucket since the first write, holding 3+4.
	if got := b.WindowAverage(at(10.9)); got != 7 {
		t.Errorf("WindowAverage(10.9) after 3@10.2, 4@10.7 = %v, want 7", got)
	}
}

func TestBuckets_AverageCoversOnlyBucketsSinceFirstWrite_Section3_3_5(t *testing.T) {
	b := NewBuckets(10 * time.Second)
	for sec := 0; sec <= 4; sec++ {
		b.Record(at(float64(sec)), float64(sec+1)) // 1..5
	}
	// (1+2+3+4+5)/5 buckets since the first write, not /10.
	if got := b.WindowAverage(at(4)); got != 3 {
		t.Errorf("WindowAverage(4) = %v, want 15/5 = 3", got)
	}
}

func TestBuckets_GapsBetweenWritesReadAsZero_Section3_3_5(t *testing.T) {
	b := NewBuckets(10 * time.Second)
	b.Record(at(0), 10)
	b.Record(at(3), 10)
	// Buckets 0..3 = 10, 0, 0, 10.
	if got := b.WindowAverage(at(3)); got != 5 {
		t.Errorf("WindowAverage(3) = %v, want 20/4 = 5", got)
	}
}

func TestBuckets_FullWindowSlides_Section3_3_5(t *testing.T) {
	b := NewBuckets(5 * time.Second)
	for sec := 0; sec <= 9; sec++ {
		b.Record(at(float64(sec)), float64(sec))
	}
	if got := b.WindowAverage(at(9)); got != 7 {
		t.Errorf("WindowAverage(9) = %v, want (5+6+7+8+9)/5 = 7", got)
	}
}

func TestBuckets_StaleTailLeavesTheAverage_Section3_3_5(t *testing.T) {
	b := NewBuckets(10 * time.Second)
	for sec := 0; sec <= 9; sec++ {
		b.Record(at(float64(sec)), float64(sec+1)) // 1..10
	}
	// Three seconds without writes: the window (2, 12] holds data for buckets 3..9 only, and the
	// average is over those 7 buckets: (4+...+10)/7 = 49/7.
	if got := b.WindowAverage(at(12)); got != 7 {
		t.Errorf("WindowAverage(12) = %v, want 49/7 = 7", got)
	}
	// A whole window after the last write the average is 0, though the window is not yet empty
	// (empty means strictly older than the window).
	if got := b.WindowAverage(at(19)); got != 0 {
		t.Errorf("WindowAverage(19) = %v, want 0", got)
	}
	if b.IsEmpty(at(19)) {
		t.Errorf("IsEmpty(19) = true, want false (last write exactly one window ago)")
	}
	if !b.IsEmpty(at(20)) {
		t.Errorf("IsEmpty(20) = false, want true")
	}
}

func TestBuckets_ResetAfterAWindowWithoutWrites_Section3_3_5(t *testing.T) {
	b := NewBuckets(10 * time.Second)
	b.Record(at(0), 100)
	b.Record(at(10), 5)
	if got := b.WindowAverage(at(10)); got != 5 {
		t.Errorf("WindowAverage(10) after 100@0, 5@10 = %v, want 5 (ring reset, one bucket)", got)
	}
	b = NewBuckets(10 * time.Second)
	b.Record(at(0), 100)
	b.Record(at(9), 5)
	if got := b.WindowAverage(at(9)); got != 10.5 {
		t.Errorf("WindowAverage(9) after 100@0, 5@9 = %v, want 105/10 = 10.5", got)
	}
}

func TestBuckets_LateWrites_Section3_3_5(t *testing.T) {
	b := NewBuckets(10 * time.Second)
	b.Record(at(5), 1)
	b.Record(at(3), 2) // late but inside the window: counts, and moves the first write back
	if got := b.WindowAverage(at(5)); got != 1 {
		t.Errorf("WindowAverage(5) after 1@5, 2@3 = %v, want 3/3 = 1", got)
	}
	b = NewBuckets(10 * time.Second)
	b.Record(at(20), 1)
	b.Record(at(5), 100) // a window older than the last write: dropped
	if got := b.WindowAverage(at(20)); got != 1 {
		t.Errorf("WindowAverage(20) after 1@20, 100@5 = %v, want 1", got)
	}
}

func TestBuckets_EmptyAndFlooredToSixDigits_Section3_3_5(t *testing.T) {
	b := NewBuckets(3 * time.Second)
	if !b.IsEmpty(at(0)) || b.WindowAverage(at(0)) != 0 {
		t.Errorf("new Buckets: IsEmpty = %v, WindowAverage = %v, want true, 0", b.IsEmpty(at(0)), b.WindowAverage(at(0)))
	}
	b.Record(at(0), 1)
	b.Record(at(1), 1)
	b.Record(at(2), 0)
	if got := b.WindowAverage(at(2)); got != 0.666666 {
		t.Errorf("WindowAverage of 1,1,0 = %v, want 0.666666 (2/3 floored)", got)
	}
}

func TestBuckets_ResizeKeepsNewestBuckets(t *testing.T) {
	b := NewBuckets(10 * time.Second)
	for sec := 0; sec <= 9; sec++ {
		b.Record(at(float64(sec)), float64(sec+1))
	}
	b.Resize(5 * time.Second)
	if got := b.WindowAverage(at(9)); got != 8 {
		t.Errorf("after Resize(5s): WindowAverage(9) = %v, want (6+7+8+9+10)/5 = 8", got)
	}
	b.Resize(20 * time.Second)
	if got := b.WindowAverage(at(9)); got != 8 {
		t.Errorf("after Resize(20s): WindowAverage(9) = %v, want 40/5 = 8 (only 5 buckets kept)", got)
	}
}

func TestSmoothingCoefficient_Section3_3_5(t *testing.T) {
	cases := []struct {
		n    int
		want float64
	}{
		{1, 0.9999},                   // 1 − 0.0001
		{2, 0.99},                     // 1 − 0.0001^(1/2)
		{6, 1 - math.Pow(10, -4.0/6)}, // 1 − 10^(−2/3) ≈ 0.7846
		{60, 0.2},                     // 1 − 10^(−1/15) ≈ 0.142 is below the 0.2 floor
	}
	for _, c := range cases {
		if got := SmoothingCoefficient(c.n); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("SmoothingCoefficient(%d) = %v, want %v", c.n, got, c.want)
		}
	}
}

func TestWeightedBuckets_NewestWeighsMost_Section3_3_5(t *testing.T) {
	w := NewWeightedBuckets(60 * time.Second) // alpha 0.2
	for i, v := range []float64{10, 10, 5, 5} {
		w.Record(at(float64(i)), v)
	}
	// 5·0.2 + 5·0.2·0.8 + 10·0.2·0.8² + 10·0.2·0.8³ = 1 + 0.8 + 1.28 + 1.024
	if got := w.WindowAverage(at(3)); math.Abs(got-4.104) > 1e-9 {
		t.Errorf("WindowAverage(3) of [10 10 5 5] = %v, want 4.104", got)
	}
	// Two empty buckets since the last write shift every weight by 0.8²:
	// 5·0.128 + 5·0.1024 + 10·0.08192 + 10·0.065536
	if got := w.WindowAverage(at(5)); math.Abs(got-2.62656) > 1e-9 {
		t.Errorf("WindowAverage(5) of [10 10 5 5] = %v, want 2.62656", got)
	}
	// The reverse order weighs the 10s most: 10·0.2 + 10·0.16 + 5·0.128 + 5·0.1024.
	r := NewWindow(serving.MetricAggregationWeightedExponential, 60*time.Second)
	for i, v := range []float64{5, 5, 10, 10} {
		r.Record(at(float64(i)), v)
	}
	if got := r.WindowAverage(at(3)); math.Abs(got-4.752) > 1e-9 {
		t.Errorf("WindowAverage(3) of [5 5 10 10] = %v, want 4.752", got)
	}
}

func TestWeightedBuckets_FullWindowWeighsToPrecision_Section3_3_5(t *testing.T) {
	w := NewWeightedBuckets(6 * time.Second)
	for sec := 0; sec <= 5; sec++ {
		w.Record(at(float64(sec)), 6)
	}
	// Σ_{k<6} 6·a·(1−a)^k = 6·(1 − (1−a)^6) and (1−a)^6 = 1 − 0.9999 by the choice of a.
	if got := w.WindowAverage(at(5)); math.Abs(got-5.9994) > 1e-9 {
		t.Errorf("WindowAverage(5) of six 6s = %v, want 6·0.9999 = 5.9994", got)
	}
	if got := w.WindowAverage(at(12)); got != 0 {
		t.Errorf("WindowAverage(12) (empty) = %v, want 0", got)
	}
}

func TestNewWindow_PicksAlgorithm(t *testing.T) {
	for _, c := range []struct {
		algo     string
		weighted bool
	}{
		{"", false}, {serving.MetricAggregationLinear, false},
		{serving.MetricAggregationWeightedExponential, true}, {serving.MetricAggregationWeightedExponentialAlt, true},
	} {
		_, got := NewWindow(c.algo, time.Minute).(*WeightedBuckets)
		if got != c.weighted {
			t.Errorf("NewWindow(%q) weighted = %v, want %v", c.algo, got, c.weighted)
		}
	}
}

func TestMaxWindow_KeepsMaxOfLastBuckets_Section3_4(t *testing.T) {
	w := newMaxWindow(10*time.Second, TickInterval) // 5 two-second buckets
	steps := []struct {
		sec  float64
		v    int32
		want int32
	}{
		{0, 5, 5}, {2, 3, 5}, {4, 7, 7}, {5, 1, 7}, // 5 is bucket 2 too: 7 stays
		{6, 2, 7}, {12, 2, 7}, {14, 2, 2}, // bucket 2 (t=4,5) expires at bucket 7 (t=14)
	}
	for _, s := range steps {
		w.record(at(s.sec), s.v)
		if got := w.current(); got != s.want {
			t.Errorf("after record(%v, %d): current = %d, want %d", s.sec, s.v, got, s.want)
		}
	}
}
