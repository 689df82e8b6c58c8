package kpa

import (
	"context"
	"errors"
	"maps"
	"math"
	"slices"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/rng"
)

func TestDefaultScrapeURL_DialsTheLoopbackPodAddress(t *testing.T) {
	if got, want := DefaultScrapeURL("10.1.2.3"), "http://127.1.2.3:9090/metrics"; got != want {
		t.Errorf("DefaultScrapeURL(10.1.2.3) = %q, want %q", got, want)
	}
}

// scrapeEnv is a scraped revision (default spec, Metric-less) with the given pods; pod i
// reports concurrency i+1.
func scrapeEnv(t *testing.T, pods ...client.Object) *env {
	t.Helper()
	e := newEnv(t, pods...)
	for i := range 20 {
		e.stats.set(podIP(i), float64(i+1), false)
	}
	e.update(t, defaultSpec(nil))
	return e
}

func hitSet(hits map[string]int) []string { return slices.Sorted(maps.Keys(hits)) }

// extrapolated is sum(conc of the successful hits)/n × population, the expected record.
func extrapolated(e *env, hits map[string]int, n, population int) float64 {
	sum := 0.0
	for ip := range hits {
		e.stats.mu.Lock()
		c, fail := e.stats.conc[ip], e.stats.failing[ip]
		e.stats.mu.Unlock()
		if !fail {
			sum += c
		}
	}
	return sum / float64(n) * float64(population)
}

func TestScrape_SamplesOldPodsAndExtrapolates_Section3_3_2(t *testing.T) {
	old, young := t0.Add(-2*time.Minute), t0.Add(-10*time.Second)
	objs := readyPods(8, old) // 0..7: up longer than the 60s stable window
	objs = append(objs,
		testPod(key.Name, 8, podReady, young), testPod(key.Name, 9, podReady, young),
		// Not in the population: not ready, terminating, pending, another revision's.
		testPod(key.Name, 10, podNotReady, old), testPod(key.Name, 11, podTerminating, old),
		testPod(key.Name, 12, podPending, old), testPod("other-00001", 13, podReady, old))
	e := scrapeEnv(t, objs...)

	e.k.scrape(context.Background(), e.rev(t))

	hits := e.stats.hitCounts()
	if got, want := len(hits), autoscaler.SampleSize(10); got != want || want != 7 {
		t.Fatalf("scraped %d pods %v, want SampleSize(10) = 7", got, hitSet(hits))
	}
	for ip, n := range hits {
		if n != 1 {
			t.Errorf("pod %s scraped %d times, want once", ip, n)
		}
		if !slices.Contains([]string{podIP(0), podIP(1), podIP(2), podIP(3), podIP(4), podIP(5), podIP(6), podIP(7)}, ip) {
			t.Errorf("scraped %s, want only old ready pods of the revision (8 old ones fill the sample of 7)", ip)
		}
	}
	stable, panicAvg, err := e.averages(t)
	want := extrapolated(e, hits, 7, 10)
	if err != nil || math.Abs(stable-want) > 1e-6 || math.Abs(panicAvg-want) > 1e-6 {
		t.Errorf("averages after one scrape = %v, %v, %v, want %v (sum of sample / 7 × 10) in both", stable, panicAvg, err, want)
	}
}

func TestScrape_YoungPodsFillTheSample_Section3_3_2(t *testing.T) {
	objs := readyPods(2, t0.Add(-time.Hour))
	for i := 2; i < 7; i++ {
		objs = append(objs, testPod(key.Name, i, podReady, t0.Add(-time.Second)))
	}
	e := scrapeEnv(t, objs...)

	e.k.scrape(context.Background(), e.rev(t))

	hits := e.stats.hitCounts()
	if got, want := len(hits), autoscaler.SampleSize(7); got != want || want != 6 {
		t.Fatalf("scraped %d pods, want SampleSize(7) = 6", got)
	}
	for _, ip := range []string{podIP(0), podIP(1)} {
		if hits[ip] != 1 {
			t.Errorf("old pod %s scraped %d times, want once (old pods are preferred)", ip, hits[ip])
		}
	}
	stable, _, _ := e.averages(t)
	if want := extrapolated(e, hits, 6, 7); math.Abs(stable-want) > 1e-6 {
		t.Errorf("stable average = %v, want %v", stable, want)
	}
}

func TestScrape_SampleIsSeeded(t *testing.T) {
	sample := func() []string {
		e := scrapeEnv(t, readyPods(30, t0.Add(-time.Hour))...)
		e.k.scrape(context.Background(), e.rev(t))
		return hitSet(e.stats.hitCounts())
	}
	a, b := sample(), sample()
	if !slices.Equal(a, b) {
		t.Errorf("two runs with seed 7 sampled %v and %v, want the same pods", a, b)
	}
	if len(a) != autoscaler.SampleSize(30) {
		t.Errorf("sampled %d of 30, want %d", len(a), autoscaler.SampleSize(30))
	}
}

func TestScrapeOrder_KnativeShuffles(t *testing.T) {
	r := rng.New(1).Stream("t")
	// Enough old pods: old ones shuffled first, young ones after in their order.
	got := scrapeOrder([]string{"o1", "o2", "o3", "o4"}, []string{"y1", "y2"}, 3, r)
	if !slices.Equal(got[4:], []string{"y1", "y2"}) || !sameElems(got[:4], []string{"o1", "o2", "o3", "o4"}) {
		t.Errorf("scrapeOrder(4 old, 2 young, n=3) = %v, want the 4 old pods then y1 y2", got)
	}
	// Too few old pods: old ones first in their order, young ones shuffled after.
	got = scrapeOrder([]string{"o1"}, []string{"y1", "y2", "y3"}, 3, r)
	if got[0] != "o1" || !sameElems(got[1:], []string{"y1", "y2", "y3"}) {
		t.Errorf("scrapeOrder(1 old, 3 young, n=3) = %v, want o1 then the young pods", got)
	}
}

func sameElems(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

func TestScrape_FailedPodsAreReplacedBySpares_Section3_3_2(t *testing.T) {
	e := scrapeEnv(t, readyPods(10, t0.Add(-time.Hour))...)
	e.stats.set(podIP(0), 1000, true)
	e.stats.set(podIP(1), 1000, true)

	e.k.scrape(context.Background(), e.rev(t))

	hits := e.stats.hitCounts()
	ok := 0
	for ip := range hits {
		if ip != podIP(0) && ip != podIP(1) {
			ok++
		}
	}
	if ok != 7 {
		t.Fatalf("%d healthy pods scraped (%v), want a full sample of 7", ok, hitSet(hits))
	}
	stable, _, err := e.averages(t)
	if want := extrapolated(e, hits, 7, 10); err != nil || math.Abs(stable-want) > 1e-6 {
		t.Errorf("stable average = %v, %v, want %v from the 7 healthy pods", stable, err, want)
	}
}

func TestScrape_NothingRecorded(t *testing.T) {
	cases := []struct {
		name    string
		pods    int
		failing []int
		wantHit bool
	}{
		{"no ready pods (N = 0)", 0, nil, false},
		{"one of 3 fails: the sample of 3 cannot be filled", 3, []int{1}, true},
		{"every pod fails", 5, []int{0, 1, 2, 3, 4}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := scrapeEnv(t, readyPods(c.pods, t0.Add(-time.Hour))...)
			for _, i := range c.failing {
				e.stats.set(podIP(i), 1, true)
			}
			e.k.scrape(context.Background(), e.rev(t))
			if _, _, err := e.averages(t); !errors.Is(err, autoscaler.ErrNoData) {
				t.Errorf("averages error = %v, want ErrNoData (nothing recorded)", err)
			}
			if hit := len(e.stats.hitCounts()) > 0; hit != c.wantHit {
				t.Errorf("pods scraped = %v, want %v", hit, c.wantHit)
			}
		})
	}
}

func TestScrape_TBCMinusOneNeverScrapes_Section3_3_2(t *testing.T) {
	t.Run("decider spec, no Metric yet", func(t *testing.T) {
		e := newEnv(t, readyPods(3, t0.Add(-time.Hour))...)
		e.update(t, defaultSpec(func(s *autoscaler.DeciderSpec) { s.TargetBurstCapacity = -1 }))
		e.k.scrape(context.Background(), e.rev(t))
		if hits := e.stats.hitCounts(); len(hits) != 0 {
			t.Errorf("scraped %v, want no scrape with TBC -1", hits)
		}
		// Activator-only: an empty window reads 0, not ErrNoData.
		if s, p, err := e.averages(t); s != 0 || p != 0 || err != nil {
			t.Errorf("averages = %v, %v, %v, want 0, 0, nil", s, p, err)
		}
	})
	t.Run("Metric without scrape target", func(t *testing.T) {
		e := newEnv(t, append(readyPods(3, t0.Add(-time.Hour)), metricObject("", nil))...)
		reconcileMetric(t, e)
		e.k.scrape(context.Background(), e.rev(t))
		if hits := e.stats.hitCounts(); len(hits) != 0 {
			t.Errorf("scraped %v, want no scrape without a scrape target", hits)
		}
	})
}
