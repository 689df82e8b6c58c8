package autoscaler

import (
	"math"
	"time"
)

// maxWindow is the scale-down-delay window (§3.4): the maximum of the values recorded in the
// last ceil(delay/granularity) granularity-sized buckets. It keeps a queue of candidates with
// ascending bucket indexes and strictly descending values (the front is the maximum); a value
// that is both older and not larger than a newer one can never be the maximum again.
type maxWindow struct {
	size        int64
	granularity time.Duration
	entries     []maxEntry
}

type maxEntry struct {
	index int64
	value int32
}

func newMaxWindow(length, granularity time.Duration) *maxWindow {
	return &maxWindow{size: maxWindowSize(length, granularity), granularity: granularity}
}

func maxWindowSize(length, granularity time.Duration) int64 {
	return max(1, int64(math.Ceil(float64(length)/float64(granularity))))
}

// resize changes the window length; the candidates stay and expire by the new length.
func (w *maxWindow) resize(length time.Duration) { w.size = maxWindowSize(length, w.granularity) }

// record adds v in the bucket of now; now must not go backwards.
func (w *maxWindow) record(now time.Time, v int32) {
	idx := floorDiv(now.UnixNano(), int64(w.granularity))
	e := w.entries
	for len(e) > 0 && e[len(e)-1].value <= v {
		e = e[:len(e)-1]
	}
	for len(e) > 0 && idx-e[0].index >= w.size {
		e = e[1:]
	}
	// A larger value in the same bucket stays as it is.
	if len(e) == 0 || e[len(e)-1].index != idx {
		e = append(e, maxEntry{index: idx, value: v})
	}
	w.entries = e
}

// current is the maximum of the window as of the last record (0 before any).
func (w *maxWindow) current() int32 {
	if len(w.entries) == 0 {
		return 0
	}
	return w.entries[0].value
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
