package virtual

import "time"

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

func (a *event) before(b *event) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

// eventQueue is a 4-ary min-heap of events by (time, insertion order): events due at the same
// instant fire in the order they were scheduled, which makes every run deterministic. Four
// children per node halve the depth of a binary heap; the queue is the engine's hot path.
type eventQueue struct {
	heap []event
	seq  uint64
}

func (q *eventQueue) len() int { return len(q.heap) }

func (q *eventQueue) push(e event) {
	q.seq++
	e.seq = q.seq
	q.heap = append(q.heap, e)
	h := q.heap
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

// peek returns the next event; the queue must not be empty.
func (q *eventQueue) peek() *event { return &q.heap[0] }

func (q *eventQueue) pop() event {
	h := q.heap
	top := h[0]
	last := len(h) - 1
	e := h[last]
	h = h[:last]
	q.heap = h
	if last == 0 {
		return top
	}
	i := 0
	for {
		first := 4*i + 1
		if first >= last {
			break
		}
		m := first
		for c := first + 1; c < first+4 && c < last; c++ {
			if h[c].before(&h[m]) {
				m = c
			}
		}
		if !h[m].before(&e) {
			break
		}
		h[i] = h[m]
		i = m
	}
	h[i] = e
	return top
}

// ticket names one request slot at one generation; a ticket whose generation is stale refers
// to a request that has already ended.
type ticket struct {
	id  int32
	gen uint32
}

// fifo is a growable ring buffer of tickets: the activator's and queue-proxy's wait queues.
// Cancelled requests stay in it until they reach the front, where they are skipped; callers
// keep exact counts apart.
type fifo struct {
	buf        []ticket
	head, size int
}

func (f *fifo) push(t ticket) {
	if f.size == len(f.buf) {
		n := max(8, 2*len(f.buf))
		buf := make([]ticket, n)
		for i := range f.size {
			buf[i] = f.buf[(f.head+i)%len(f.buf)]
		}
		f.buf, f.head = buf, 0
	}
	f.buf[(f.head+f.size)%len(f.buf)] = t
	f.size++
}

func (f *fifo) empty() bool { return f.size == 0 }

func (f *fifo) front() ticket { return f.buf[f.head] }

func (f *fifo) pop() ticket {
	t := f.buf[f.head]
	f.head = (f.head + 1) % len(f.buf)
	f.size--
	return t
}
