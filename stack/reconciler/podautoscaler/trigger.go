package podautoscaler

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// Trigger is a controller source through which code outside the API server — the autoscaler's
// ticker — asks for a PA reconcile. Poke never blocks; pokes before the controller starts are
// kept and delivered at start, and repeated pokes of one key collapse in the work queue.
//
// Wire it as Reconciler.Trigger and hand Poke to the decider:
//
//	t := podautoscaler.NewTrigger()
//	kpa := kpa.New(..., t.Poke) // func(types.NamespacedName)
//	r := &podautoscaler.Reconciler{..., Decider: kpa, Trigger: t}
type Trigger struct {
	mu      sync.Mutex
	queue   workqueue.TypedRateLimitingInterface[reconcile.Request]
	pending map[types.NamespacedName]struct{}
}

var _ source.Source = (*Trigger)(nil)

// NewTrigger returns a Trigger not yet attached to a controller.
func NewTrigger() *Trigger { return &Trigger{pending: map[types.NamespacedName]struct{}{}} }

// Poke enqueues a reconcile of the PA key.
func (t *Trigger) Poke(key types.NamespacedName) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.queue == nil {
		t.pending[key] = struct{}{}
		return
	}
	t.queue.Add(reconcile.Request{NamespacedName: key})
}

// Start attaches the controller's queue; it is called by the controller and does not block.
func (t *Trigger) Start(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.queue = q
	for key := range t.pending {
		q.Add(reconcile.Request{NamespacedName: key})
	}
	clear(t.pending)
	return nil
}

// String names the source in controller logs.
func (t *Trigger) String() string { return "podautoscaler decider trigger" }
