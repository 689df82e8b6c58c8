package autoscaler

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/config"
)

var linear60 = MetricSpec{StableWindow: 60 * time.Second, PanicWindow: 6 * time.Second, Scraped: true}

func TestCollector_RecordSubtractsProxied_Section3_3_4(t *testing.T) {
	c := NewCollector(linear60)
	c.Record(at(0), Stat{PodName: ScraperPodName, AverageConcurrency: 10, AverageProxiedConcurrency: 4, RequestCount: 20, ProxiedRequestCount: 5})
	if s, p, err := c.StableAndPanic(serving.MetricConcurrency, at(0)); err != nil || s != 6 || p != 6 {
		t.Errorf("StableAndPanic(concurrency) = %v, %v, %v, want 10−4 = 6, 6, nil", s, p, err)
	}
	if s, p, err := c.StableAndPanic(serving.MetricRPS, at(0)); err != nil || s != 15 || p != 15 {
		t.Errorf("StableAndPanic(rps) = %v, %v, %v, want 20−5 = 15, 15, nil", s, p, err)
	}
}

func TestCollector_ScraperAndActivatorInOneBucketAreSummed_Section3_3_4(t *testing.T) {
	c := NewCollector(linear60)
	c.Record(at(0.1), Stat{PodName: ScraperPodName, AverageConcurrency: 30, AverageProxiedConcurrency: 10})
	c.Record(at(0.6), Stat{PodName: "activator", AverageConcurrency: 15})
	if s, _, _ := c.StableAndPanic(serving.MetricConcurrency, at(1)); s != 35 {
		t.Errorf("stable after scraper 30−10 and activator 15 in bucket 0 = %v, want 35", s)
	}
}

func TestCollector_StableAndPanicWindows_Section3_3_5(t *testing.T) {
	c := NewCollector(linear60)
	for sec := 0; sec <= 59; sec++ {
		v := 10.0
		if sec >= 54 {
			v = 100
		}
		c.Record(at(float64(sec)), Stat{AverageConcurrency: v})
	}
	s, p, err := c.StableAndPanic(serving.MetricConcurrency, at(59))
	if err != nil || s != 19 || p != 100 {
		t.Errorf("StableAndPanic(59) = %v, %v, %v, want (54·10+6·100)/60 = 19, 100, nil", s, p, err)
	}
}

func TestCollector_NoDataOnlyWithScrapeTarget_Section3_3_5(t *testing.T) {
	c := NewCollector(linear60)
	if _, _, err := c.StableAndPanic(serving.MetricConcurrency, at(0)); !errors.Is(err, ErrNoData) {
		t.Errorf("StableAndPanic of an empty scraped collector: err = %v, want ErrNoData", err)
	}
	c.Record(at(0), Stat{AverageConcurrency: 5})
	if s, p, err := c.StableAndPanic(serving.MetricConcurrency, at(60)); err != nil || s != 0 || p != 0 {
		t.Errorf("StableAndPanic(60) after a write at 0 = %v, %v, %v, want 0, 0, nil (stale, not yet empty)", s, p, err)
	}
	if _, _, err := c.StableAndPanic(serving.MetricConcurrency, at(61)); !errors.Is(err, ErrNoData) {
		t.Errorf("StableAndPanic(61) after a write at 0: err = %v, want ErrNoData", err)
	}

	// TBC = -1: no scrape target, the activator alone reports; silence reads as zero load.
	noScrape := linear60
	noScrape.Scraped = false
	c = NewCollector(noScrape)
	if s, p, err := c.StableAndPanic(serving.MetricConcurrency, at(0)); err != nil || s != 0 || p != 0 {
		t.Errorf("StableAndPanic of an empty unscraped collector = %v, %v, %v, want 0, 0, nil", s, p, err)
	}
}

func TestCollector_WeightedExponentialAggregation_Section3_3_5(t *testing.T) {
	spec := linear60
	spec.Aggregation = serving.MetricAggregationWeightedExponentialAlt
	c := NewCollector(spec)
	c.Record(at(0), Stat{AverageConcurrency: 10})
	s, p, err := c.StableAndPanic(serving.MetricConcurrency, at(0))
	// Stable: 60 buckets, alpha 0.2 → 10·0.2. Panic: 6 buckets, alpha 1 − 10^(−2/3).
	wantP := 10 * (1 - math.Pow(10, -4.0/6))
	if err != nil || math.Abs(s-2) > 1e-12 || math.Abs(p-wantP) > 1e-12 {
		t.Errorf("weighted StableAndPanic = %v, %v, %v, want 2, %v, nil", s, p, err, wantP)
	}
}

func TestCollector_UpdateResizesWindows(t *testing.T) {
	c := NewCollector(linear60)
	for sec := 0; sec <= 9; sec++ {
		c.Record(at(float64(sec)), Stat{AverageConcurrency: float64(sec + 1)})
	}
	spec := linear60
	spec.StableWindow, spec.PanicWindow = 20*time.Second, 2*time.Second
	c.Update(spec)
	s, p, err := c.StableAndPanic(serving.MetricConcurrency, at(9))
	if err != nil || s != 5.5 || p != 9.5 {
		t.Errorf("after Update(20s/2s): StableAndPanic(9) = %v, %v, %v, want 55/10 = 5.5, (9+10)/2 = 9.5, nil", s, p, err)
	}
	if c.Spec() != spec {
		t.Errorf("Spec() = %+v, want %+v", c.Spec(), spec)
	}
}

func TestMakeMetricSpec_Section3_3(t *testing.T) {
	cfg := config.DefaultAutoscaler()
	if got := MakeMetricSpec(pa(0, "", nil), cfg); got != linear60.withAggregation(serving.MetricAggregationLinear) {
		t.Errorf("MakeMetricSpec(defaults) = %+v, want 60s/6s linear scraped", got)
	}
	annos := map[string]string{
		serving.TargetBurstCapacityAnnotationKey:          "-1",
		serving.MetricAggregationAnnotationKeyAlternative: serving.MetricAggregationWeightedExponentialAlt,
		serving.WindowAnnotationKey:                       "20s",
	}
	want := MetricSpec{StableWindow: 20 * time.Second, PanicWindow: 2 * time.Second, Aggregation: serving.MetricAggregationWeightedExponentialAlt}
	if got := MakeMetricSpec(pa(0, "", annos), cfg); got != want {
		t.Errorf("MakeMetricSpec(%v) = %+v, want %+v", annos, got, want)
	}
}

func (m MetricSpec) withAggregation(a string) MetricSpec { m.Aggregation = a; return m }

func TestSampleSize_Section3_3_2(t *testing.T) {
	cases := []struct{ n, want int }{
		{-1, 0}, {0, 0}, {1, 1}, {3, 3},
		{4, 4},     // ceil(4·15.3664/18.3664) = ceil(3.35)
		{10, 7},    // ceil(153.664/24.3664) = ceil(6.31)
		{100, 14},  // ceil(1536.64/114.3664) = ceil(13.44)
		{1000, 16}, // ceil(15366.4/1014.3664) = ceil(15.15)
	}
	for _, c := range cases {
		if got := SampleSize(c.n); got != c.want {
			t.Errorf("SampleSize(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

func TestExtrapolate_Section3_3_2(t *testing.T) {
	sampled := []Stat{
		{PodName: "a", AverageConcurrency: 10, AverageProxiedConcurrency: 2, RequestCount: 100, ProxiedRequestCount: 20},
		{PodName: "b", AverageConcurrency: 20, AverageProxiedConcurrency: 0, RequestCount: 200, ProxiedRequestCount: 0},
	}
	got, ok := Extrapolate(sampled, 10)
	// sum/2 × 10 = sum × 5.
	want := Stat{PodName: ScraperPodName, AverageConcurrency: 150, AverageProxiedConcurrency: 10, RequestCount: 1500, ProxiedRequestCount: 100}
	if !ok || got != want {
		t.Errorf("Extrapolate(2 of 10) = %+v, %v, want %+v, true", got, ok, want)
	}
	if _, ok := Extrapolate(nil, 10); ok {
		t.Errorf("Extrapolate(no sample) ok = true, want false")
	}
	if _, ok := Extrapolate(sampled, 0); ok {
		t.Errorf("Extrapolate(population 0) ok = true, want false (nothing is recorded)")
	}
}
