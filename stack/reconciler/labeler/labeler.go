package labeler

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
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
	byNamespace := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		return []reconcile.Request{NamespaceRequest(o.GetNamespace())}
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("labeler").
		Watches(&servingv1.Route{}, byNamespace).
		Watches(&servingv1.Configuration{}, byNamespace, updatesWhen(configurationChanged)).
		Watches(&servingv1.Revision{}, byNamespace, updatesWhen(metadataChanged)).
		Complete(r)
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

	var errs []error
	for i := range configs.Items {
		cfg := &configs.Items[i]
		if !cfg.DeletionTimestamp.IsZero() {
			continue
		}
		next := cfg.DeepCopy()
		if !ApplyToConfiguration(next, want.Configurations[cfg.Name]) {
			continue
		}
		if err := r.Client.Patch(ctx, next, client.MergeFrom(cfg)); client.IgnoreNotFound(err) != nil {
			errs = append(errs, fmt.Errorf("label configuration %s/%s: %w", ns, cfg.Name, err))
			continue
		}
		logger.Info("Updated routes of Configuration", "configuration", cfg.Name,
			"routes", next.Annotations[serving.RoutesAnnotationKey])
	}
	for i := range revs.Items {
		rev := &revs.Items[i]
		if !rev.DeletionTimestamp.IsZero() {
			continue
		}
		next := rev.DeepCopy()
		if !ApplyToRevision(next, want.Revisions[rev.Name], now) {
			continue
		}
		if err := r.Client.Patch(ctx, next, client.MergeFrom(rev)); client.IgnoreNotFound(err) != nil {
			errs = append(errs, fmt.Errorf("label revision %s/%s: %w", ns, rev.Name, err))
			continue
		}
		logger.Info("Updated routing state of Revision", "revision", rev.Name,
			"routingState", next.Labels[serving.RoutingStateLabelKey],
			"routes", next.Annotations[serving.RoutesAnnotationKey])
	}
	return ctrl.Result{}, errors.Join(errs...)
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
