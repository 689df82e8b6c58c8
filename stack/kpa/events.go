package kpa

import (
	"sync"
	"sync/atomic"
	"time"

	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
)

// DecisionEvent is one decision tick of one revision (§3.4), for scenario recorders.
type DecisionEvent struct {
	// Time is the KPA clock's time of the tick.
	Time      time.Time
	Namespace string
	Revision  string
	// ReadyPods is the count of Ready, Running, non-terminating pods the tick used.
	ReadyPods int32
	// StableValue and PanicValue are the window averages of Metric (revision totals); 0 when
	// there was no data.
	StableValue float64
	PanicValue  float64
	// Target is the per-pod target of Metric.
	Target float64
	// DesiredPods is the scaler's desired pod count before min/max-scale bounds; -1 when the tick
	// made no decision (no data in the stable window).
	DesiredPods int32
	// ExcessBurstCapacity is the tick's EBC, or the standing one when there was no decision.
	ExcessBurstCapacity int32
	// Panicking says whether the scaler is in panic mode after the tick.
	Panicking bool
	// Mode is the SKS mode the PA reconciler derives from the decision standing after the tick:
	// Serve iff its desired scale, within min/max-scale, is > 0 and EBC >= 0 (§3.5.5).
	Mode netv1alpha1.ServerlessServiceOperationMode
	// Metric is the scaling metric: concurrency or rps.
	Metric string
}

// subscribers fan DecisionEvents out without ever blocking the publisher: each subscriber has
// a bounded queue and a goroutine draining it into its callback, in publication order.
type subscribers struct {
	buffer  int
	dropped atomic.Uint64

	mu   sync.RWMutex
	next int
	subs map[int]*subscriber
}

type subscriber struct {
	ch   chan DecisionEvent
	done chan struct{}
}

func newSubscribers(buffer int) *subscribers {
	return &subscribers{buffer: buffer, subs: map[int]*subscriber{}}
}

// Subscribe calls fn with every DecisionEvent published from now on.
//
// Delivery: asynchronous, on a goroutine of this subscription, in the order the events were
// published (per revision that is tick order), one call at a time. The ticker never waits for
// fn: when more than Options.EventBuffer events are waiting for this subscriber, new ones are
// dropped for it and counted in DroppedEvents. cancel stops the subscription; it returns once
// every event queued before it has been delivered, so a recorder that cancels has seen all it
// will see. fn must not call cancel.
func (k *KPA) Subscribe(fn func(DecisionEvent)) (cancel func()) {
	s := &subscriber{ch: make(chan DecisionEvent, k.events.buffer), done: make(chan struct{})}
	k.events.mu.Lock()
	id := k.events.next
	k.events.next++
	k.events.subs[id] = s
	k.events.mu.Unlock()
	go func() {
		defer close(s.done)
		for ev := range s.ch {
			fn(ev)
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			k.events.mu.Lock()
			delete(k.events.subs, id)
			close(s.ch)
			k.events.mu.Unlock()
			<-s.done
		})
	}
}

// DroppedEvents counts events dropped for subscribers that fell behind.
func (k *KPA) DroppedEvents() uint64 { return k.events.dropped.Load() }

// publish queues ev for every subscriber without blocking.
func (s *subscribers) publish(ev DecisionEvent) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, sub := range s.subs {
		select {
		case sub.ch <- ev:
		default:
			s.dropped.Add(1)
		}
	}
}
