package podautoscaler

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func TestTriggerDeliversPokesBeforeAndAfterStart(t *testing.T) {
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	tr := NewTrigger()
	a := types.NamespacedName{Namespace: "ns", Name: "a"}
	b := types.NamespacedName{Namespace: "ns", Name: "b"}
	tr.Poke(a)
	tr.Poke(a)
	if err := tr.Start(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	if q.Len() != 1 {
		t.Errorf("queue length after two early pokes of one key = %d, want 1", q.Len())
	}
	tr.Poke(b)
	if q.Len() != 2 {
		t.Errorf("queue length after a poke of a second key = %d, want 2", q.Len())
	}
	got := map[types.NamespacedName]bool{}
	for q.Len() > 0 {
		item, _ := q.Get()
		got[item.NamespacedName] = true
		q.Done(item)
	}
	if !got[a] || !got[b] {
		t.Errorf("queued = %v, want %v and %v", got, a, b)
	}
}
