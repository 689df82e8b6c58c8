package scenarios

import (
	"math"
	"slices"
	"sort"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// statistic returns p of durations (sorted ascending, not empty): the nearest-rank percentile
// (the smallest value with at least q·n values at or below it), min, max or mean.
func statistic(sorted []time.Duration, p Percentile) time.Duration {
	if q, ok := p.Quantile(); ok {
		switch q {
		case 0:
			return sorted[0]
		case 1:
			return sorted[len(sorted)-1]
		}
		rank := int(math.Ceil(q*float64(len(sorted)) - 1e-9))
		return sorted[min(max(rank, 1), len(sorted))-1]
	}
	var sum time.Duration
	for _, d := range sorted {
		sum += d
	}
	return sum / time.Duration(len(sorted))
}

// sortedPercentiles returns ps's statistics in Describe's order (by quantile, mean last).
func sortedPercentiles(ps Percentiles) []Percentile {
	keys := make([]Percentile, 0, len(ps))
	for k := range ps {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b Percentile) int {
		qa, okA := a.Quantile()
		qb, okB := b.Quantile()
		if !okA {
			qa = 2
		}
		if !okB {
			qb = 2
		}
		switch {
		case qa < qb:
			return -1
		case qa > qb:
			return 1
		}
		return 0
	})
	return keys
}

// BinomialInterval is the central interval [lo, hi] holding at least conf of Binomial(n, p)'s
// mass: lo is the largest k with P(X < k) ≤ (1−conf)/2, hi the smallest with P(X > hi) ≤ (1−conf)/2.
func BinomialInterval(n int, p, conf float64) (lo, hi int) {
	switch {
	case n == 0:
		return 0, 0
	case p <= 0:
		return 0, 0
	case p >= 1:
		return n, n
	}
	b := distuv.Binomial{N: float64(n), P: p}
	tail := (1 - conf) / 2
	// P(X < k) = CDF(k−1) grows with k: the first k whose CDF(k−1) exceeds the tail, minus one.
	lo = sort.Search(n+1, func(k int) bool { return k > 0 && b.CDF(float64(k-1)) > tail }) - 1
	// P(X > k) = 1 − CDF(k) falls with k: the first k where it is within the tail.
	hi = sort.Search(n+1, func(k int) bool { return b.Survival(float64(k)) <= tail })
	return max(lo, 0), min(hi, n)
}

// chiSquarePValue is the p-value of Pearson's goodness-of-fit test of observed counts against
// expected proportions (summing to 1). A count where the expected proportion is 0 makes the
// p-value 0; with one category it is 1 when every count falls in it.
func chiSquarePValue(observed []int, expected []float64) float64 {
	n := 0
	for _, o := range observed {
		n += o
	}
	if n == 0 {
		return 1
	}
	stat, categories := 0.0, 0
	for i, o := range observed {
		e := expected[i] * float64(n)
		if e == 0 {
			if o > 0 {
				return 0
			}
			continue
		}
		categories++
		d := float64(o) - e
		stat += d * d / e
	}
	if categories < 2 {
		return 1
	}
	return distuv.ChiSquared{K: float64(categories - 1)}.Survival(stat)
}

// offered is how many requests stream st's phases plan within [from, to) of the scenario's
// clock (fractional; the caller rounds). closed reports a closed-model (concurrent) phase
// overlapping the window, whose requests are not planned: the caller counts them as sent.
func (st Stream) offered(from, to time.Duration) (n float64, closed bool) {
	start := st.Start.D()
	for _, ph := range st.Phases {
		l := ph.Pacing()
		if l == nil {
			continue
		}
		c, isClosed := phaseOffered(l, from-start, to-start)
		n += c
		closed = closed || isClosed
		start += l.Length()
	}
	return n, closed
}

// phaseOffered is how many requests phase l plans within [lo, hi) of its own clock.
func phaseOffered(l Pacing, lo, hi time.Duration) (n float64, closed bool) {
	if b, ok := l.(*BurstPhase); ok && b.Within == 0 { // every request leaves at 0
		if lo <= 0 && hi > 0 {
			return float64(b.Requests), false
		}
		return 0, false
	}
	if t, ok := l.(*TracePhase); ok { // the last arrival is at the phase's end
		for _, at := range t.Arrivals {
			if at.D() >= lo && at.D() < hi {
				n++
			}
		}
		return n, false
	}
	a, b := max(lo, 0), min(hi, l.Length())
	if b <= a {
		return 0, false
	}
	sa, sb := a.Seconds(), b.Seconds()
	switch p := l.(type) {
	case *ConstantPhase:
		return p.Rate.PerSecond() * (sb - sa), false
	case *RampPhase:
		d := p.Duration.D().Seconds()
		rate := func(t float64) float64 { return p.From.PerSecond() + (p.To.PerSecond()-p.From.PerSecond())*t/d }
		return (rate(sa) + rate(sb)) / 2 * (sb - sa), false
	case *StepPhase:
		levels := p.Levels()
		each := p.Duration.D().Seconds() / float64(len(levels))
		for i, lvl := range levels {
			from, to := math.Max(sa, float64(i)*each), math.Min(sb, float64(i+1)*each)
			if to > from {
				n += lvl.PerSecond() * (to - from)
			}
		}
		return n, false
	case *SinePhase:
		w := 2 * math.Pi / p.Period.D().Seconds()
		return p.Mean.PerSecond()*(sb-sa) + p.Amplitude.PerSecond()/w*(math.Cos(w*sa)-math.Cos(w*sb)), false
	case *BurstPhase:
		for k := range p.Requests {
			if t := time.Duration(k) * p.Within.D() / time.Duration(p.Requests); t >= a && t < b {
				n++
			}
		}
		return n, false
	case *ConcurrentPhase:
		return 0, true
	}
	return 0, false
}
