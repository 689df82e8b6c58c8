package config

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// SystemNamespace is where the config-* ConfigMaps live.
const SystemNamespace = "knative-serving"

// ApplyConfigMap updates the store from cm (nil data for a deleted map). An invalid map is
// logged with the key and value at fault and the last good config stays in force.
func (s *Store) ApplyConfigMap(ctx context.Context, cm *corev1.ConfigMap, deleted bool) {
	data := cm.Data
	if deleted {
		data = nil
	}
	if err := s.Update(cm.Name, data); err != nil {
		log.FromContext(ctx).Error(err, "invalid config, keeping the last good values", "configmap", cm.Namespace+"/"+cm.Name)
	}
}

// WatchOption returns the builder pieces a reconciler adds to re-run when any of the named
// config-* ConfigMaps changes: the store is updated first, then requeue returns the requests to
// enqueue (typically every object of the reconciler's kind).
//
//	bldr.Watches(&corev1.ConfigMap{}, h, p)
func (s *Store) WatchOption(names []string, requeue func(context.Context) []reconcile.Request) (handler.EventHandler, builder.WatchesOption) {
	h := handler.Funcs{
		CreateFunc: func(ctx context.Context, e handlerCreateEvent, q workQueue) {
			s.ApplyConfigMap(ctx, asConfigMap(e.Object), false)
			addAll(q, requeue(ctx))
		},
		UpdateFunc: func(ctx context.Context, e handlerUpdateEvent, q workQueue) {
			s.ApplyConfigMap(ctx, asConfigMap(e.ObjectNew), false)
			addAll(q, requeue(ctx))
		},
		DeleteFunc: func(ctx context.Context, e handlerDeleteEvent, q workQueue) {
			s.ApplyConfigMap(ctx, asConfigMap(e.Object), true)
			addAll(q, requeue(ctx))
		},
	}
	p := builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetNamespace() == SystemNamespace && slices.Contains(names, o.GetName())
	}))
	return h, p
}

func asConfigMap(o client.Object) *corev1.ConfigMap {
	if cm, ok := o.(*corev1.ConfigMap); ok {
		return cm
	}
	return &corev1.ConfigMap{}
}

func addAll(q workQueue, reqs []reconcile.Request) {
	for _, r := range reqs {
		q.Add(r)
	}
}

type (
	handlerCreateEvent = event.CreateEvent
	handlerUpdateEvent = event.UpdateEvent
	handlerDeleteEvent = event.DeleteEvent
	workQueue          = workqueue.TypedRateLimitingInterface[reconcile.Request]
)
