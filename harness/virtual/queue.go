package virtual

import (
	"math/bits"
	"time"
)

// eventKind says what an event does when it fires.
type eventKind uint8

const (
	evArrival      eventKind = iota // a stream's next open-model request is due (ref: stream)
	evClientSend                    // a closed-model client sends (ref: stream, aux: client)
	evActivatorIn                   // a request reaches its activator (ref: request)
	evQueueProxyIn                  // a request reaches a pod's queue-proxy (ref: request)
	evServiceDone                   // the app finished a request (ref: request)
	evSecond                        // the 1s stat tick of activators and queue-proxies
	evSample                        // one per-second sample of every revision (aux: second index)
	evPoke                          // an immediate decider tick after an activator stat (ref: revision)
	evReconcile                     // the PodAutoscaler reconciler runs (ref: revision)
	evSKS                           // an SKS spec change reaches the public endpoints (ref: revision, aux: mode)
	evPodRunning                    // a pod's containers run (ref: pod)
	evPodReady                      // a pod passes readiness (ref: pod)
	evPodEndpoints                  // a pod's endpoint change reaches the private Endpoints (ref: pod, aux: add)
	evPodActivator                  // ... the activators' probed backends (ref: pod, aux: add)
	evPodGateway                    // ... the public Endpoints the gateway routes by (ref: pod, aux: add)
	evPodDrain                      // a terminating pod checks whether its drain is over (ref: pod)
	evPodRestart                    // a failed container restarts (ref: pod)
	evAction                        // a timed action runs (ref: action)
	evConditions                    // pending when-actions are checked
	evTimeZero                      // every initial object is Ready: the run's clock starts
	evCreate                        // an initial configuration is created (ref: its index)
	evRevisionTick                  // a revision's 1s scrape and 2s decider tick (ref: revision, aux: tick)
)

// event is one entry of the event queue. ref indexes the table its kind names; gen guards
// against acting on a request slot that was freed and reused since the event was scheduled.
type event struct {
	at   time.Duration
	seq  uint64
	ref  int32
	aux  int32
	gen  uint32
	kind eventKind
}

// before orders events by (at, seq).
func (a *event) before(b *event) bool { return lessBit(a, b) != 0 }

// lessBit is 1 when a is before b, else 0, without a branch: the borrow out of the 128-bit
// subtraction (at, seq) − (b.at, b.seq), with at offset to unsigned order. A heap's
// comparisons are a coin toss to the branch predictor; sift-down adds the bit to an index
// instead of branching on it.
func lessBit(a, b *event) int {
	_, borrow := bits.Sub64(a.seq, b.seq, 0)
	_, borrow = bits.Sub64(uint64(a.at)^signBit, uint64(b.at)^signBit, borrow)
	return int(borrow)
}

// signBit maps int64 order onto uint64 order.
const signBit = 1 << 63

// eventQueue orders events by (time, insertion order): events due at the same instant fire in
// the order they were scheduled, which makes every run deterministic. Events scheduled a fixed
// delay after now (a hop, a 1s tick, a reconcile) arrive in time order, so each such delay has
// a lane, a FIFO that costs O(1) per event. The others sit in 4-ary min-heaps (four children
// per node halve a binary heap's depth), one per class of event, so the per-request ones
// (arrivals, service completions) are not sifted through the timers of every revision (a
// requeued reconcile each). pop takes the earliest of the heaps' tops and the lanes' fronts;
// where an event waits never changes the order. The queue is the engine's hot path.
type eventQueue struct {
	heaps [numHeaps][]event
	seq   uint64
	n     int
	lanes [numLanes]ring[event]
	// peeked is one more than where peek found the next event (a lane's index, or numLanes
	// plus a heap's); 0 when unknown (a push may have changed it).
	peeked int
}

// Lanes: one per fixed delay after now. A push that would break a lane's time order (a caller
// scheduling at another offset) goes to a heap instead, so lanes never change the order.
const (
	laneGateway   = iota // now + Timing.GatewayHop
	laneActivator        // now + Timing.ActivatorHop
	laneSecond           // now + 1s: stat periods, scrapes and decider ticks, samples
	laneReconcile        // now + Timing.Reconcile
	numLanes
)

// Heaps: one per class of event at a varying delay.
const (
	heapArrivals = iota // evArrival, evClientSend: one per stream or client
	heapService         // evServiceDone: one per request in an app
	heapOther           // timers: requeued reconciles, pod lifecycle, actions
	numHeaps
)

func heapOf(k eventKind) int {
	switch k {
	case evArrival, evClientSend:
		return heapArrivals
	case evServiceDone:
		return heapService
	}
	return heapOther
}

func (q *eventQueue) len() int { return q.n }

func (q *eventQueue) push(e event) {
	q.peeked = 0
	q.seq++
	e.seq = q.seq
	q.n++
	q.pushHeap(heapOf(e.kind), e)
}

// pushLane queues e, due a lane's fixed delay after now, on that lane.
func (q *eventQueue) pushLane(lane int, e event) {
	l := &q.lanes[lane]
	if l.size > 0 && e.at < l.back().at {
		q.push(e)
		return
	}
	q.peeked = 0
	q.seq++
	e.seq = q.seq
	q.n++
	l.push(e)
}

func (q *eventQueue) pushHeap(k int, e event) {
	q.heaps[k] = append(q.heaps[k], e)
	h := q.heaps[k]
	i := len(h) - 1
	for i > 0 {
		parent := (i - 1) / 4
		if !e.before(&h[parent]) {
			break
		}
		h[i] = h[parent]
		i = parent
	}
	h[i] = e
}

// source is where the next event is: a lane's index, or numLanes plus a heap's. The queue must
// not be empty.
func (q *eventQueue) source() int {
	src := -1
	var best *event
	for i := range q.heaps {
		if h := q.heaps[i]; len(h) > 0 && (best == nil || h[0].before(best)) {
			best, src = &h[0], numLanes+i
		}
	}
	for i := range q.lanes {
		l := &q.lanes[i]
		if l.size == 0 {
			continue
		}
		if f := l.frontPtr(); best == nil || f.before(best) {
			best, src = f, i
		}
	}
	return src
}

// peek returns the next event; the queue must not be empty.
func (q *eventQueue) peek() *event {
	src := q.source()
	q.peeked = src + 1
	if src < numLanes {
		return q.lanes[src].frontPtr()
	}
	return &q.heaps[src-numLanes][0]
}

func (q *eventQueue) pop() event {
	q.n--
	src := q.peeked - 1
	if src < 0 {
		src = q.source()
	}
	q.peeked = 0
	if src < numLanes {
		return q.lanes[src].pop()
	}
	return q.popHeap(src - numLanes)
}

func (q *eventQueue) popHeap(k int) event {
	h := q.heaps[k]
	top := h[0]
	last := len(h) - 1
	e := h[last]
	h = h[:last]
	q.heaps[k] = h
	if last > 0 {
		siftDown(h, e)
	}
	return top
}

// siftDown refills the hole at the root of h with e, bottom-up (Floyd): the hole sinks along
// the lesser children to a leaf, then e rises from there. e is the heap's last element, late
// as a rule, so it rises little, and the way down needs no comparison with it.
func siftDown(h []event, e event) {
	i, n := 0, len(h)
	for {
		first := 4*i + 1
		m := first
		switch {
		case first+3 < n:
			// Four children: two pairs, then their winners, by index arithmetic.
			a := first + lessBit(&h[first+1], &h[first])
			b := first + 2 + lessBit(&h[first+3], &h[first+2])
			m = a + (b-a)*lessBit(&h[b], &h[a])
		case first < n:
			for c := first + 1; c < n; c++ {
				if h[c].before(&h[m]) {
					m = c
				}
			}
		default:
			for i > 0 {
				parent := (i - 1) / 4
				if !e.before(&h[parent]) {
					break
				}
				h[i] = h[parent]
				i = parent
			}
			h[i] = e
			return
		}
		h[i] = h[m]
		i = m
	}
}

// ticket names one request slot at one generation; a ticket whose generation is stale refers
// to a request that has already ended.
type ticket struct {
	id  int32
	gen uint32
}

// fifo is the activator's and queue-proxy's wait queues. Cancelled requests stay in it until
// they reach the front, where they are skipped; callers keep exact counts apart.
type fifo = ring[ticket]

// ring is a growable FIFO ring buffer with a power-of-two capacity.
type ring[T any] struct {
	buf        []T
	head, size int
}

func (f *ring[T]) push(t T) {
	if f.size == len(f.buf) {
		n := max(8, 2*len(f.buf))
		buf := make([]T, n)
		for i := range f.size {
			buf[i] = f.buf[(f.head+i)&(len(f.buf)-1)]
		}
		f.buf, f.head = buf, 0
	}
	f.buf[(f.head+f.size)&(len(f.buf)-1)] = t
	f.size++
}

func (f *ring[T]) empty() bool { return f.size == 0 }

func (f *ring[T]) front() T { return f.buf[f.head] }

func (f *ring[T]) frontPtr() *T { return &f.buf[f.head] }

func (f *ring[T]) back() *T { return &f.buf[(f.head+f.size-1)&(len(f.buf)-1)] }

func (f *ring[T]) pop() T {
	t := f.buf[f.head]
	f.head = (f.head + 1) & (len(f.buf) - 1)
	f.size--
	return t
}
