package gc

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
)

// ControllerName is the unique name of the GC controller.
const ControllerName = "gc"

// Reconciler collects stale Revisions per Configuration (§1.9).
type Reconciler struct {
	Client   client.Client
	Config   *config.Store
	Clock    clock.PassiveClock
	Recorder record.EventRecorder
}

var _ reconcile.Reconciler = (*Reconciler)(nil)

// SetupWithManager registers the reconciler: Configurations, their Revisions (a routing-state
// change can make a Revision collectable) and config-gc.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	h, p := r.Config.WatchOption([]string{config.GCConfigName}, r.allConfigurations)
	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&servingv1.Configuration{}).
		Watches(&servingv1.Revision{}, handler.EnqueueRequestsFromMapFunc(revisionToConfiguration)).
		Watches(&corev1.ConfigMap{}, h, p).
		Complete(r)
}

func revisionToConfiguration(_ context.Context, o client.Object) []reconcile.Request {
	cfg := o.GetLabels()[serving.ConfigurationLabelKey]
	if cfg == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: cfg}}}
}

func (r *Reconciler) allConfigurations(ctx context.Context) []reconcile.Request {
	var list servingv1.ConfigurationList
	if err := r.Client.List(ctx, &list); err != nil {
		log.FromContext(ctx).Error(err, "list configurations for a config-gc change")
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return reqs
}

// Reconcile runs one GC pass over a Configuration's Revisions and asks to be run again when the
// next kept Revision turns stale.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	cfg := &servingv1.Configuration{}
	if err := r.Client.Get(ctx, req.NamespacedName, cfg); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !cfg.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil
	}
	var list servingv1.RevisionList
	if err := r.Client.List(ctx, &list, client.InNamespace(cfg.Namespace), client.MatchingLabels{serving.ConfigurationLabelKey: cfg.Name}); err != nil {
		return reconcile.Result{}, fmt.Errorf("list revisions of %s: %w", cfg.Name, err)
	}
	revs := make([]*servingv1.Revision, 0, len(list.Items))
	for i := range list.Items {
		if list.Items[i].DeletionTimestamp.IsZero() {
			revs = append(revs, &list.Items[i])
		}
	}
	sel := Select(revs, cfg.Status.LatestReadyRevisionName, r.Config.Load().GC, r.Clock.Now())
	for _, rev := range sel.Delete {
		if err := r.Client.Delete(ctx, rev); client.IgnoreNotFound(err) != nil {
			return reconcile.Result{}, fmt.Errorf("delete revision %s: %w", rev.Name, err)
		}
		log.FromContext(ctx).Info("Deleted Revision", "revision", rev.Name, "configuration", cfg.Name)
		if r.Recorder != nil {
			r.Recorder.Eventf(cfg, corev1.EventTypeNormal, "RevisionDeleted", "Garbage collected revision %q", rev.Name)
		}
	}
	return reconcile.Result{RequeueAfter: sel.RecheckAfter}, nil
}
