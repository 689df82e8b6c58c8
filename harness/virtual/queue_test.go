package virtual

import (
	"testing"
	"time"

	"github.com/servingsim/servingsim/stack/rng"
)

// The queue pops events in time order and, at equal times, in the order they were pushed.
func TestEventQueue_TimeThenInsertionOrder(t *testing.T) {
	var q eventQueue
	r := rng.New(1).Stream("test")
	for i := range 2000 {
		q.push(event{at: time.Duration(r.IntN(50)), ref: int32(i)})
	}
	prev := event{at: -1}
	for q.len() > 0 {
		e := q.pop()
		if e.at < prev.at || (e.at == prev.at && e.ref < prev.ref) {
			t.Fatalf("popped (%s, #%d) after (%s, #%d)", e.at, e.ref, prev.at, prev.ref)
		}
		prev = e
		if r.IntN(3) == 0 { // interleave pushes with pops, never in the past
			q.push(event{at: e.at + time.Duration(r.IntN(5)), ref: 1 << 20})
		}
	}
}
