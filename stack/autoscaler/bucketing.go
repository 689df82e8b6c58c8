package autoscaler

import (
	"math"
	"time"

	"github.com/servingsim/servingsim/stack/apis/serving"
)

// BucketSize is the granularity of every metric window (§3.1: BucketSize = 1s).
const BucketSize = time.Second

// averageDigits is how many decimal digits a linear window average keeps: Knative floors the
// average to 6 digits so float noise in a sum never moves ceil(average/target) by a pod.
const averageDigits = 6

// Window is a time-bucketed average of recorded values (§3.3.5). Every method takes the time it
// acts at; nothing reads a clock.
type Window interface {
	// Record adds value to the bucket of now.
	Record(now time.Time, value float64)
	// WindowAverage is the average over the window ending at now.
	WindowAverage(now time.Time) float64
	// IsEmpty reports that nothing was written within the window ending at now.
	IsEmpty(now time.Time) bool
}

var (
	_ Window = (*Buckets)(nil)
	_ Window = (*WeightedBuckets)(nil)
)

// NewWindow returns the window of the metric-aggregation-algorithm named by algorithm:
// weighted-exponential (or weightedExponential) gives WeightedBuckets, anything else the linear
// Buckets (§3.3.5).
func NewWindow(algorithm string, window time.Duration) Window {
	if isWeighted(algorithm) {
		return NewWeightedBuckets(window)
	}
	return NewBuckets(window)
}

func isWeighted(algorithm string) bool {
	return algorithm == serving.MetricAggregationWeightedExponential || algorithm == serving.MetricAggregationWeightedExponentialAlt
}

// Buckets is Knative's linear window (§3.3.5): a ring of ceil(window/1s) one-second buckets.
// Records in one bucket are summed, buckets skipped between two writes read as 0, and a write
// after at least a whole window without writes starts afresh. The average covers only the part
// of the window that has data: it divides by the buckets from the first write (or the window
// start, whichever is later) to the last write.
type Buckets struct {
	buckets []float64
	window  time.Duration
	// first and last are the bucket indexes (Unix seconds) of the first write since the last
	// reset and of the newest write; written is false until the first Record.
	first, last int64
	written     bool
}

// NewBuckets returns an empty linear window of the given length (at least one bucket).
func NewBuckets(window time.Duration) *Buckets {
	return &Buckets{buckets: make([]float64, numBuckets(window)), window: window}
}

func numBuckets(window time.Duration) int {
	return max(1, int(math.Ceil(float64(window)/float64(BucketSize))))
}

// bucketIndex is the index of the one-second bucket holding t.
func bucketIndex(t time.Time) int64 { return t.Unix() }

func (b *Buckets) slot(i int64) int {
	n := int64(len(b.buckets))
	return int((i%n + n) % n)
}

// span is the duration of k buckets, saturating instead of overflowing.
func span(k int64) time.Duration {
	if k > math.MaxInt64/int64(BucketSize) {
		return math.MaxInt64
	}
	return time.Duration(k) * BucketSize
}

// Window is the window length.
func (b *Buckets) Window() time.Duration { return b.window }

// Len is the number of buckets in the ring.
func (b *Buckets) Len() int { return len(b.buckets) }

// Record adds value to the bucket of now. A write into a newer bucket zeroes the buckets skipped
// since the last write, or resets the whole ring when the last write is a window or more old. A
// late write (older than the last) still inside the window is added to its bucket; an older one
// is dropped.
func (b *Buckets) Record(now time.Time, value float64) {
	i := bucketIndex(now)
	switch {
	case b.written && i == b.last:
	case b.written && i < b.last:
		if span(b.last-i) >= b.window {
			return
		}
		b.first = min(b.first, i)
	default:
		if !b.written || span(i-b.last) >= b.window {
			clear(b.buckets)
			b.first = i
		} else {
			for j := b.last + 1; j <= i; j++ {
				b.buckets[b.slot(j)] = 0
			}
		}
		b.last, b.written = i, true
	}
	b.buckets[b.slot(i)] += value
}

// IsEmpty reports that the last write is more than a window older than now (or that nothing
// was ever written). The decider then has no data (ErrNoData, §3.3.5).
func (b *Buckets) IsEmpty(now time.Time) bool {
	return !b.written || span(bucketIndex(now)-b.last) > b.window
}

// WindowAverage is the sum of the buckets with data in the window ending at now, divided by
// their number: min(buckets since the first write, buckets of the window not yet past the last
// write). It is 0 when the last write is a window or more older than now. The result is floored
// to 6 decimal digits, as in Knative.
func (b *Buckets) WindowAverage(now time.Time) float64 {
	if !b.written {
		return 0
	}
	i := bucketIndex(now)
	d := i - b.last
	if d > 0 && span(d) >= b.window {
		return 0
	}
	n := int64(len(b.buckets))
	from := max(b.first, b.last-n+1)
	if d > 0 {
		from = max(from, i-n+1)
	}
	// Sum buckets from..last in that order, walking the ring rather than dividing per bucket.
	var sum float64
	for k, s := b.last-from+1, b.slot(from); k > 0; k-- {
		sum += b.buckets[s]
		if s++; s == len(b.buckets) {
			s = 0
		}
	}
	return floorDigits(sum/float64(b.last-from+1), averageDigits)
}

func floorDigits(f float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Floor(f*p) / p
}

// Resize changes the window length, keeping the newest buckets that fit in the new ring.
func (b *Buckets) Resize(window time.Duration) {
	if window == b.window {
		return
	}
	nb := NewBuckets(window)
	if b.written {
		keep := int64(min(len(nb.buckets), len(b.buckets)))
		from := max(b.first, b.last-keep+1)
		for j := from; j <= b.last; j++ {
			nb.buckets[nb.slot(j)] = b.buckets[b.slot(j)]
		}
		nb.first, nb.last, nb.written = from, b.last, true
	}
	*b = *nb
}

// Weighted-exponential constants (Knative aggregation/bucketing.go): the weights of a full window
// sum to at least weightPrecision, and the smoothing coefficient never drops below minAlpha.
const (
	weightPrecision = 0.9999
	minAlpha        = 0.2
)

// SmoothingCoefficient is the alpha of a weighted-exponential window of nbuckets buckets:
// max(1 − (1 − 0.9999)^(1/nbuckets), 0.2) (§3.3.5).
func SmoothingCoefficient(nbuckets int) float64 {
	return math.Max(1-math.Pow(1-weightPrecision, 1/float64(nbuckets)), minAlpha)
}

// WeightedBuckets is the weighted-exponential window (metric-aggregation-algorithm
// weighted-exponential, §3.3.5). It records like Buckets; its average weighs the newest bucket by
// alpha and each older one by a further factor (1 − alpha):
//
//	avg = Σ_k bucket[last−k] · alpha · (1 − alpha)^(k + gap)
//
// over the buckets of the window, gap being the number of empty buckets between the last write
// and now. As in Knative the weights are not renormalised, so a window that has only just
// started reads low.
type WeightedBuckets struct {
	*Buckets
	alpha float64
}

// NewWeightedBuckets returns an empty weighted-exponential window of the given length.
func NewWeightedBuckets(window time.Duration) *WeightedBuckets {
	b := NewBuckets(window)
	return &WeightedBuckets{Buckets: b, alpha: SmoothingCoefficient(b.Len())}
}

// Alpha is the smoothing coefficient of the window.
func (w *WeightedBuckets) Alpha() float64 { return w.alpha }

// Resize changes the window length and recomputes alpha.
func (w *WeightedBuckets) Resize(window time.Duration) {
	w.Buckets.Resize(window)
	w.alpha = SmoothingCoefficient(w.Len())
}

// WindowAverage is the exponentially weighted average of the window ending at now; 0 when the
// window is empty.
func (w *WeightedBuckets) WindowAverage(now time.Time) float64 {
	return weightedAverage(w.Buckets, w.alpha, now)
}

func weightedAverage(b *Buckets, alpha float64, now time.Time) float64 {
	if b.IsEmpty(now) {
		return 0
	}
	n := int64(len(b.buckets))
	m := alpha
	if gap := bucketIndex(now) - b.last; gap > 0 {
		m *= math.Pow(1-alpha, float64(gap))
		n -= gap
	}
	var sum float64
	for k := int64(0); k < n; k++ {
		sum += b.buckets[b.slot(b.last-k)] * m
		m *= 1 - alpha
	}
	return sum
}
