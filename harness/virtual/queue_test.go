package virtual

import (
	"testing"
	"time"

	"github.com/servingsim/servingsim/stack/rng"
)

// kinds are events of each heap.
var kinds = []eventKind{evArrival, evClientSend, evServiceDone, evReconcile, evPodReady}

// The queue pops events in time order and, at equal times, in the order they were pushed.
func TestEventQueue_TimeThenInsertionOrder(t *testing.T) {
	var q eventQueue
	r := rng.New(1).Stream("test")
	for i := range 2000 {
		q.push(event{at: time.Duration(r.IntN(50)), ref: int32(i), kind: kinds[r.IntN(len(kinds))]})
	}
	prev := event{at: -1}
	for q.len() > 0 {
		e := q.pop()
		if e.at < prev.at || (e.at == prev.at && e.ref < prev.ref) {
			t.Fatalf("popped (%s, #%d) after (%s, #%d)", e.at, e.ref, prev.at, prev.ref)
		}
		prev = e
		if r.IntN(3) == 0 { // interleave pushes with pops, never in the past
			q.push(event{at: e.at + time.Duration(r.IntN(5)), ref: 1 << 20, kind: kinds[r.IntN(len(kinds))]})
		}
	}
}

// Lanes keep the order: events pushed on lanes (in or out of a lane's time order, which sends
// them to a heap) and on the heaps pop by time, then by push order.
func TestEventQueue_LanesKeepTimeThenInsertionOrder(t *testing.T) {
	var q eventQueue
	r := rng.New(2).Stream("test")
	now := time.Duration(0)
	pushed := int32(0)
	// Offsets from nanoseconds (many ties) to seconds.
	scales := []time.Duration{1, time.Millisecond, 97 * time.Millisecond}
	push := func() {
		e := event{at: now + time.Duration(r.IntN(40))*scales[r.IntN(len(scales))], ref: pushed, kind: kinds[r.IntN(len(kinds))]}
		pushed++
		if l := r.IntN(numLanes + 1); l < numLanes {
			q.pushLane(l, e)
			return
		}
		q.push(e)
	}
	for range 500 {
		push()
	}
	prev := event{at: -1, ref: -1}
	popped := 0
	order := map[int32]int{} // ref → push order equals ref
	for q.len() > 0 {
		if p := q.peek(); p.at > now && pushed < 5000 && r.IntN(2) == 0 {
			// An event due before the one peeked at, on another lane or a heap.
			e := event{at: now, ref: pushed, kind: kinds[r.IntN(len(kinds))]}
			pushed++
			if l := r.IntN(numLanes + 1); l < numLanes {
				q.pushLane(l, e)
			} else {
				q.push(e)
			}
		}
		e := q.pop()
		popped++
		if e.at < prev.at || (e.at == prev.at && e.ref < prev.ref) {
			t.Fatalf("popped (%s, #%d) after (%s, #%d)", e.at, e.ref, prev.at, prev.ref)
		}
		order[e.ref]++
		prev, now = e, e.at
		if pushed < 5000 && r.IntN(4) != 0 {
			push()
			if r.IntN(2) == 0 {
				push()
			}
		}
	}
	if popped != int(pushed) || len(order) != int(pushed) {
		t.Fatalf("popped %d events (%d distinct) of %d pushed", popped, len(order), pushed)
	}
}
