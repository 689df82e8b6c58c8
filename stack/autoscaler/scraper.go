package autoscaler

import "math"

// ScraperPodName is the PodName of the revision-wide Stat the scraper makes from its sample.
const ScraperPodName = "service-scraper"

// sampleSizeX is X = z²·σ²/E² of the scraper's sample-size rule (§3.3.2): z = 1.96 (95%
// confidence), σ = 10 (σ² = 100) and a margin of error E = 5, so X ≈ 15.37.
const sampleSizeX = 1.96 * 1.96 * 100 / (5 * 5)

// SampleSize is how many of population ready pods the scraper samples each second (§3.3.2):
// all of them up to 3, otherwise ceil(N·X/(N+X−1)), e.g. 10 → 7 and 100 → 14. It never exceeds
// 16 however large the revision.
func SampleSize(population int) int {
	if population <= 3 {
		return max(population, 0)
	}
	n := float64(population)
	return int(math.Ceil(n * sampleSizeX / (n + sampleSizeX - 1)))
}

// Extrapolate turns the stats scraped from a sample of pods into the revision-wide estimate the
// collector records (§3.3.2): each field is sum(sampled)/len(sampled) × population. It reports
// false, and nothing is to be recorded, when the population or the sample is empty.
func Extrapolate(sampled []Stat, population int) (Stat, bool) {
	if population <= 0 || len(sampled) == 0 {
		return Stat{}, false
	}
	s := Stat{PodName: ScraperPodName}
	for _, p := range sampled {
		s.AverageConcurrency += p.AverageConcurrency
		s.AverageProxiedConcurrency += p.AverageProxiedConcurrency
		s.RequestCount += p.RequestCount
		s.ProxiedRequestCount += p.ProxiedRequestCount
	}
	f := float64(population) / float64(len(sampled))
	s.AverageConcurrency *= f
	s.AverageProxiedConcurrency *= f
	s.RequestCount *= f
	s.ProxiedRequestCount *= f
	return s, true
}
