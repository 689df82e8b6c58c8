package podruntime

import (
	"context"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/event"
)

// waker re-enqueues objects at instants of the injected clock (controller-runtime's RequeueAfter
// runs on the wall clock, so a fake clock could never fire it). One pending timer per key: an
// earlier instant replaces a later one.
type waker struct {
	clk clock.WithTicker
	ch  chan event.GenericEvent

	mu      sync.Mutex
	ctx     context.Context
	pending map[types.NamespacedName]*wakeTimer
}

type wakeTimer struct {
	at   time.Time
	stop chan struct{}
}

func newWaker(ctx context.Context, clk clock.WithTicker) *waker {
	return &waker{clk: clk, ch: make(chan event.GenericEvent, 1024), ctx: ctx, pending: map[types.NamespacedName]*wakeTimer{}}
}

// Now enqueues key at once.
func (w *waker) Now(key types.NamespacedName) {
	go w.send(key)
}

// At enqueues key when the clock reaches at (at once if it has).
func (w *waker) At(key types.NamespacedName, at time.Time) {
	if at.IsZero() {
		return
	}
	d := at.Sub(w.clk.Now())
	if d <= 0 {
		w.Now(key)
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if p, ok := w.pending[key]; ok {
		if !at.Before(p.at) {
			return
		}
		close(p.stop)
	}
	t := &wakeTimer{at: at, stop: make(chan struct{})}
	w.pending[key] = t
	timer := w.clk.NewTimer(d)
	go func() {
		select {
		case <-timer.C():
		case <-t.stop:
			timer.Stop()
			return
		case <-w.ctx.Done():
			timer.Stop()
			return
		}
		w.mu.Lock()
		if w.pending[key] == t {
			delete(w.pending, key)
		}
		w.mu.Unlock()
		w.send(key)
	}()
}

func (w *waker) send(key types.NamespacedName) {
	ev := event.GenericEvent{Object: &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}}
	select {
	case w.ch <- ev:
	case <-w.ctx.Done():
	}
}
