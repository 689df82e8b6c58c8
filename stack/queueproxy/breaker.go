package queueproxy

import (
	"container/list"
	"context"
	"errors"
	"sync"
)

// ErrRequestQueueFull is the breaker's refusal when every slot is taken (§5 Breaker).
var ErrRequestQueueFull = errors.New("pending request queue full")

// QueueDepthFactor is the breaker's queue depth per unit of container concurrency (§5 Breaker).
const QueueDepthFactor = 10

// Breaker admits at most Capacity requests at once and queues up to QueueDepth more in arrival
// order; beyond that it refuses at once with ErrRequestQueueFull. Knative builds one only for
// containerConcurrency ≥ 1 (NewBreaker returns nil otherwise, and a nil *Breaker admits
// everything). It holds no goroutines and reads no clock: waiting is the caller's select.
type Breaker struct {
	capacity, queueDepth int

	mu       sync.Mutex
	inFlight int
	queue    list.List // of *ticket, oldest first
}

// ticket is one queued request. ready is closed when it is handed a slot.
type ticket struct {
	ready   chan struct{}
	granted bool
	elem    *list.Element
}

// NewBreaker returns the breaker for containerConcurrency cc: capacity cc, queue depth 10·cc;
// nil when cc ≤ 0 (no breaker, no limit).
func NewBreaker(cc int) *Breaker {
	if cc <= 0 {
		return nil
	}
	return &Breaker{capacity: cc, queueDepth: QueueDepthFactor * cc}
}

// Capacity is the number of requests admitted at once.
func (b *Breaker) Capacity() int {
	if b == nil {
		return 0
	}
	return b.capacity
}

// InFlight is the number of admitted requests.
func (b *Breaker) InFlight() int {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inFlight
}

// Pending is admitted plus queued requests (Knative's pending count).
func (b *Breaker) Pending() int {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inFlight + b.queue.Len()
}

// enter admits a request (nil ticket), queues it (a ticket to wait on) or refuses it.
func (b *Breaker) enter() (*ticket, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.inFlight < b.capacity {
		b.inFlight++
		return nil, nil
	}
	if b.queue.Len() >= b.queueDepth {
		return nil, ErrRequestQueueFull
	}
	t := &ticket{ready: make(chan struct{})}
	t.elem = b.queue.PushBack(t)
	return t, nil
}

// leave ends an admitted request; its slot passes straight to the oldest queued one.
func (b *Breaker) leave() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if front := b.queue.Front(); front != nil {
		t := b.queue.Remove(front).(*ticket)
		t.granted = true
		close(t.ready)
		return
	}
	b.inFlight--
}

// abandon takes a queued request out of the queue; false if it was granted a slot meanwhile
// (the caller then owns the slot and must leave).
func (b *Breaker) abandon(t *ticket) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.granted {
		return false
	}
	b.queue.Remove(t.elem)
	return true
}

// Maybe runs thunk once the breaker admits the request. It returns ErrRequestQueueFull at once
// when every slot is taken, or ctx's error if ctx ends while queued; thunk does not run then.
// A nil Breaker runs thunk at once.
func (b *Breaker) Maybe(ctx context.Context, thunk func()) error {
	if b == nil {
		thunk()
		return nil
	}
	t, err := b.enter()
	if err != nil {
		return err
	}
	if t != nil {
		select {
		case <-t.ready:
		case <-ctx.Done():
			if !b.abandon(t) {
				b.leave()
			}
			return ctx.Err()
		}
	}
	defer b.leave()
	thunk()
	return nil
}
