package load

import (
	"math"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// segment is a stretch of time over which the rate moves linearly from `from` to `to`
// (requests per second); from == to is a step.
type segment struct {
	length   time.Duration
	from, to float64
}

// hits is the number of requests due within the first tau of the segment: ∫ rate.
func (s segment) hits(tau time.Duration) float64 {
	t := tau.Seconds()
	return s.from*t + (s.to-s.from)/s.length.Seconds()*t*t/2
}

// timeFor inverts hits: the offset at which n (≤ hits(length)) requests are due. It solves
// a/2·t² + b·t = n in the form 2n/(b + √(b² + 2an)), stable for a ≈ 0 and a < 0.
func (s segment) timeFor(n float64) time.Duration {
	a := (s.to - s.from) / s.length.Seconds()
	b := s.from
	den := b + math.Sqrt(math.Max(b*b+2*a*n, 0))
	if den <= 0 {
		return s.length
	}
	return min(time.Duration(2*n/den*float64(time.Second)), s.length)
}

// segmentPacer is a vegeta.Pacer over piecewise-linear rates. Like vegeta's own pacers it
// sends the k-th request when k are due (the integral of the rate reaches k), sends at once
// when behind, and stops when every request of the profile has been sent.
type segmentPacer struct {
	segs  []segment
	total float64 // requests due over the whole profile
}

var _ vegeta.Pacer = (*segmentPacer)(nil)

func newSegmentPacer(segs []segment) *segmentPacer {
	p := &segmentPacer{segs: segs}
	for _, s := range segs {
		p.total += s.hits(s.length)
	}
	return p
}

// planned is the number of requests the pacer sends.
func (p *segmentPacer) planned() uint64 { return uint64(math.Floor(p.total + 1e-9)) }

// due is the number of requests due by elapsed.
func (p *segmentPacer) due(elapsed time.Duration) float64 {
	var n float64
	for _, s := range p.segs {
		if elapsed <= s.length {
			return n + s.hits(max(elapsed, 0))
		}
		n += s.hits(s.length)
		elapsed -= s.length
	}
	return n
}

// at is when n requests are due.
func (p *segmentPacer) at(n float64) time.Duration {
	var start time.Duration
	for _, s := range p.segs {
		h := s.hits(s.length)
		if n <= h {
			return start + s.timeFor(n)
		}
		n -= h
		start += s.length
	}
	return start
}

// Pace implements vegeta.Pacer.
func (p *segmentPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= p.planned() {
		return 0, true
	}
	if hits < uint64(p.due(elapsed)) {
		return 0, false // running behind: send now
	}
	return p.at(float64(hits+1)) - elapsed, false
}

// Rate implements vegeta.Pacer: the instantaneous rate at elapsed (0 after the profile).
func (p *segmentPacer) Rate(elapsed time.Duration) float64 {
	for _, s := range p.segs {
		if elapsed < s.length {
			return s.from + (s.to-s.from)*elapsed.Seconds()/s.length.Seconds()
		}
		elapsed -= s.length
	}
	return 0
}
