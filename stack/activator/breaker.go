package activator

import (
	"container/list"
	"context"
	"math"
	"sync"

	"github.com/servingsim/servingsim/stack/queueproxy"
)

// ErrRequestQueueFull is the refusal of a breaker whose queue is full (§4 Try loop); the
// activator answers it with 503 "pending request queue full", as queue-proxy does.
var ErrRequestQueueFull = queueproxy.ErrRequestQueueFull

// Breaker sizes of the revision breaker (§4 Per-revision throttler).
const (
	// RevisionQueueDepth is how many requests may wait in one revision's breaker.
	RevisionQueueDepth = 10000
	// UnlimitedCapacity is the revision breaker's capacity when nothing limits it: Knative's
	// revisionMaxConcurrency (MaxInt32), used for CC=0 with at least one backend.
	UnlimitedCapacity = math.MaxInt32
)

// Breaker admits up to Capacity requests at once and queues up to its queue depth more, in
// arrival order; beyond that Acquire fails at once with ErrRequestQueueFull. Unlike
// queue-proxy's breaker its capacity changes at run time (SetCapacity), as backends come and
// go: capacity 0 holds every request (buffering at zero), a raise admits queued requests
// oldest first, a cut lets in-flight requests finish. It holds no goroutines and reads no
// clock; waiting is the caller's select.
//
// Simplification: Knative bounds pending (admitted + queued) by queueDepth + maxConcurrency,
// which for the revision breaker (MaxInt32) never bites; here the queue itself is bounded.
type Breaker struct {
	queueDepth int

	mu       sync.Mutex
	capacity int
	inFlight int
	waiting  list.List // of *ticket, oldest first
}

// ticket is one queued request; ready is closed when it is handed a slot.
type ticket struct {
	ready   chan struct{}
	granted bool
	elem    *list.Element
}

// NewBreaker returns a breaker with queueDepth waiting places and the given initial capacity.
func NewBreaker(queueDepth, capacity int) *Breaker {
	return &Breaker{queueDepth: queueDepth, capacity: max(capacity, 0)}
}

// TryAcquire takes a slot if one is free and nobody is queued ahead.
func (b *Breaker) TryAcquire() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.inFlight < b.capacity && b.waiting.Len() == 0 {
		b.inFlight++
		return true
	}
	return false
}

// Acquire takes a slot, waiting in the queue until one is handed over or ctx ends. It fails
// at once with ErrRequestQueueFull when the queue is full, and with ctx's error if ctx ends
// first (then no slot is held).
func (b *Breaker) Acquire(ctx context.Context) error {
	b.mu.Lock()
	if b.inFlight < b.capacity && b.waiting.Len() == 0 {
		b.inFlight++
		b.mu.Unlock()
		return nil
	}
	if b.waiting.Len() >= b.queueDepth {
		b.mu.Unlock()
		return ErrRequestQueueFull
	}
	t := &ticket{ready: make(chan struct{})}
	t.elem = b.waiting.PushBack(t)
	b.mu.Unlock()

	select {
	case <-t.ready:
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		granted := t.granted
		if !granted {
			b.waiting.Remove(t.elem)
		}
		b.mu.Unlock()
		if granted { // handed a slot as ctx ended: pass it on
			b.Release()
		}
		return ctx.Err()
	}
}

// Release returns a slot; it goes to the oldest queued request if capacity allows.
func (b *Breaker) Release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inFlight--
	b.grantLocked()
}

// SetCapacity changes the number of requests admitted at once (never below 0).
func (b *Breaker) SetCapacity(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.capacity = max(n, 0)
	b.grantLocked()
}

// grantLocked hands free slots to queued requests, oldest first.
func (b *Breaker) grantLocked() {
	for b.inFlight < b.capacity {
		front := b.waiting.Front()
		if front == nil {
			return
		}
		t := b.waiting.Remove(front).(*ticket)
		t.granted = true
		b.inFlight++
		close(t.ready)
	}
}

// BreakerState is a breaker's counts at one instant.
type BreakerState struct {
	Capacity, InFlight, Waiting int
}

// State returns the breaker's capacity, admitted and queued requests.
func (b *Breaker) State() BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return BreakerState{Capacity: b.capacity, InFlight: b.inFlight, Waiting: b.waiting.Len()}
}
