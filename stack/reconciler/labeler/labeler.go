package labeler

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/reconciler"
)

// Reconciler keeps the routes annotation and routing state of every Configuration and Revision
// of a namespace in line with the namespace's Routes. Its requests are keyed by namespace
// only: each reconcile recomputes the whole namespace from what exists.
type Reconciler struct {
	Client client.Client
	// Config is unused by the labeler; it is kept for the shared reconciler shape.
	Config   *config.Store
	Clock    clock.PassiveClock
	Recorder record.EventRecorder
}

var _ reconcile.Reconciler = (*Reconciler)(nil)

// SetupWithManager registers the labeler, re-run for a namespace whenever a Route changes, or a
// Configuration or Revision appears, disappears, or changes what the labeler reads.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.Clock == nil {
		return errors.New("labeler: Clock is required")
	}
	byNamespace := coalescedByNamespace(CoalesceDelay)
	return ctrl.NewControllerManagedBy(mgr).
		Named("labeler").
		Watches(&servingv1.Route{}, byNamespace).
		Watches(&servingv1.Configuration{}, byNamespace, updatesWhen(configurationChanged)).
		Watches(&servingv1.Revision{}, byNamespace, updatesWhen(metadataChanged)).
		Complete(r)
}

// CoalesceDelay is how long the labeler lets events of one namespace gather before it
// recomputes the namespace. Every recompute scans all Routes, Configurations and Revisions of
// the namespace, so a burst (a thousand Services created at once) must not cost one scan per
// event. Revisions are created already labelled for their Configuration's routes (§1.2), so
// the delay does not hold up a new Revision.
const CoalesceDelay = 100 * time.Millisecond

// coalescedByNamespace enqueues an object's namespace request after delay; requests for the
// same namespace waiting together are processed once.
func coalescedByNamespace(delay time.Duration) handler.EventHandler {
	add := func(q workqueue.TypedRateLimitingInterface[reconcile.Request], o client.Object) {
		q.AddAfter(NamespaceRequest(o.GetNamespace()), delay)
	}
	return handler.Funcs{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q, e.Object)
		},
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q, e.ObjectNew)
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q, e.Object)
		},
		GenericFunc: func(_ context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q, e.Object)
		},
	}
}

// NamespaceRequest is the request the labeler uses for a namespace.
func NamespaceRequest(ns string) reconcile.Request {
	return reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns}}
}

// Reconcile recomputes the routes annotation and routing state for req.Namespace.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	logger := log.FromContext(ctx)
	ns := req.Namespace
	routes := &servingv1.RouteList{}
	if err := r.Client.List(ctx, routes, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil {
		return ctrl.Result{}, fmt.Errorf("list routes in %s: %w", ns, err)
	}
	configs := &servingv1.ConfigurationList{}
	if err := r.Client.List(ctx, configs, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil {
		return ctrl.Result{}, fmt.Errorf("list configurations in %s: %w", ns, err)
	}
	revs := &servingv1.RevisionList{}
	if err := r.Client.List(ctx, revs, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil {
		return ctrl.Result{}, fmt.Errorf("list revisions in %s: %w", ns, err)
	}
	want := ComputeDesired(routes.Items, configs.Items, revs.Items)
	now := r.Clock.Now()

	// Only metadata changes, so only metadata is copied and compared: a recompute looks at every
	// object of the namespace, and deep-copying whole Revisions there dominated its cost.
	type patch struct {
		orig, next client.Object
		log        func()
	}
	var patches []patch
	for i := range configs.Items {
		cfg := &configs.Items[i]
		if !cfg.DeletionTimestamp.IsZero() {
			continue
		}
		next := &servingv1.Configuration{ObjectMeta: metaOf(cfg.ObjectMeta)}
		if !ApplyToConfiguration(next, want.Configurations[cfg.Name]) {
			continue
		}
		patches = append(patches, patch{orig: &servingv1.Configuration{ObjectMeta: metaOf(cfg.ObjectMeta)}, next: next, log: func() {
			logger.Info("Updated routes of Configuration", "configuration", next.Name,
				"routes", next.Annotations[serving.RoutesAnnotationKey])
		}})
	}
	for i := range revs.Items {
		rev := &revs.Items[i]
		if !rev.DeletionTimestamp.IsZero() {
			continue
		}
		next := &servingv1.Revision{ObjectMeta: metaOf(rev.ObjectMeta)}
		if !ApplyToRevision(next, want.Revisions[rev.Name], now) {
			continue
		}
		patches = append(patches, patch{orig: &servingv1.Revision{ObjectMeta: metaOf(rev.ObjectMeta)}, next: next, log: func() {
			logger.Info("Updated routing state of Revision", "revision", next.Name,
				"routingState", next.Labels[serving.RoutingStateLabelKey],
				"routes", next.Annotations[serving.RoutesAnnotationKey])
		}})
	}
	// The patches are independent: a namespace with many changes should not pay one round trip
	// (two admission webhook calls included) per object in sequence. A few at a time, though.
	var errs []error
	for start := 0; start < len(patches); start += maxConcurrentPatches {
		batch := patches[start:min(start+maxConcurrentPatches, len(patches))]
		writes := make([]func() error, len(batch))
		for i, p := range batch {
			writes[i] = func() error {
				// The merge patch of two metadata-only objects carries only the metadata change.
				if err := r.Client.Patch(ctx, p.next, client.MergeFrom(p.orig)); client.IgnoreNotFound(err) != nil {
					return fmt.Errorf("label %s/%s: %w", ns, p.next.GetName(), err)
				}
				p.log()
				return nil
			}
		}
		errs = append(errs, reconciler.Concurrently(writes...))
	}
	return ctrl.Result{}, errors.Join(errs...)
}

// maxConcurrentPatches bounds the labeler's patches in flight.
const maxConcurrentPatches = 8

// metaOf copies the parts of an object's metadata a merge patch needs: identity, labels and
// annotations.
func metaOf(m metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: m.Namespace, Name: m.Name, UID: m.UID,
		Labels: maps.Clone(m.Labels), Annotations: maps.Clone(m.Annotations)}
}

// configurationChanged passes Configuration events that can change the labeler's answer:
// create, delete, and updates of generation, metadata or latestCreatedRevisionName.
func configurationChanged(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(*servingv1.Configuration)
	n, ok2 := e.ObjectNew.(*servingv1.Configuration)
	if !ok1 || !ok2 {
		return true
	}
	return o.Generation != n.Generation || o.Status.LatestCreatedRevisionName != n.Status.LatestCreatedRevisionName ||
		metadataChanged(e)
}

// metadataChanged passes updates whose labels, annotations or owners changed.
func metadataChanged(e event.UpdateEvent) bool {
	o, n := e.ObjectOld, e.ObjectNew
	return !maps.Equal(o.GetLabels(), n.GetLabels()) || !maps.Equal(o.GetAnnotations(), n.GetAnnotations()) ||
		len(o.GetOwnerReferences()) != len(n.GetOwnerReferences()) || !o.GetDeletionTimestamp().Equal(n.GetDeletionTimestamp())
}

// updatesWhen passes every create and delete, and the updates f accepts.
func updatesWhen(f func(event.UpdateEvent) bool) builder.WatchesOption {
	return builder.WithPredicates(predicate.Funcs{UpdateFunc: f})
}
