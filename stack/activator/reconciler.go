//nolint:staticcheck // Knative's activator reads core/v1 Endpoints (§4); the pod runtime and SKS reconciler keep them.
package activator

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/kmeta"
	"github.com/servingsim/servingsim/stack/podruntime"
)

// backendsReconciler feeds one activator the state of each revision (§4 Backend discovery):
// the Revision (containerConcurrency, timeouts), the ready addresses of its private Endpoints
// (candidate pods, probed before use) and of its public Endpoints (this activator's index
// while in Proxy mode). Requests are keyed by revision; changes of either Endpoints map to it.
// It only reads (the manager's cache) and hands snapshots to the Activator.
type backendsReconciler struct {
	reader client.Reader
	a      *Activator
}

var _ reconcile.Reconciler = (*backendsReconciler)(nil)

func (r *backendsReconciler) setup(mgr ctrl.Manager, name string) error {
	revisionEndpoints := predicate.NewPredicateFuncs(func(o client.Object) bool {
		_, ok := revisionOfEndpoints(o)
		return ok
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named(name).
		For(&servingv1.Revision{}).
		Watches(&corev1.Endpoints{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			key, ok := revisionOfEndpoints(o)
			if !ok {
				return nil
			}
			return []reconcile.Request{{NamespacedName: key}}
		}), builder.WithPredicates(revisionEndpoints)).
		Complete(r)
}

// revisionOfEndpoints is the revision whose private or public Endpoints o is (the SKS labels
// them with serviceType and the revision).
func revisionOfEndpoints(o client.Object) (types.NamespacedName, bool) {
	l := o.GetLabels()
	rev := l[serving.RevisionLabelKey]
	if rev == "" {
		return types.NamespacedName{}, false
	}
	switch l[serving.ServiceTypeKey] {
	case serving.ServiceTypePrivate, serving.ServiceTypePublic:
		return types.NamespacedName{Namespace: o.GetNamespace(), Name: rev}, true
	}
	return types.NamespacedName{}, false
}

// Reconcile hands the activator one revision's current state.
func (r *backendsReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	rev := &servingv1.Revision{}
	if err := r.reader.Get(ctx, req.NamespacedName, rev); err != nil {
		if apierrors.IsNotFound(err) {
			r.a.forgetRevision(req.NamespacedName)
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, fmt.Errorf("get revision %s: %w", req.NamespacedName, err)
	}
	if !rev.DeletionTimestamp.IsZero() {
		r.a.forgetRevision(req.NamespacedName)
		return reconcile.Result{}, nil
	}
	r.a.setRevision(revisionInfoFrom(rev))

	private, err := r.readyIPs(ctx, types.NamespacedName{Namespace: rev.Namespace, Name: kmeta.PrivateServiceName(rev.Name)})
	if err != nil {
		return reconcile.Result{}, err
	}
	r.a.setPods(req.NamespacedName, private)

	public, err := r.readyIPs(ctx, types.NamespacedName{Namespace: rev.Namespace, Name: kmeta.PublicServiceName(rev.Name)})
	if err != nil {
		return reconcile.Result{}, err
	}
	r.a.setPublicEndpoints(req.NamespacedName, public)
	return reconcile.Result{}, nil
}

// readyIPs lists the ready addresses of Endpoints key as dialable loopback IPs (none if the
// Endpoints do not exist).
func (r *backendsReconciler) readyIPs(ctx context.Context, key types.NamespacedName) ([]string, error) {
	eps := &corev1.Endpoints{}
	if err := r.reader.Get(ctx, key, eps); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get endpoints %s: %w", key, err)
	}
	return ReadyIPs(eps.Subsets), nil
}

// ReadyIPs lists the distinct ready addresses of subsets in IP order, mapped from the 10.x
// stand-ins the API server holds to the loopback IPs the simulated pods listen on.
func ReadyIPs(subsets []corev1.EndpointSubset) []string {
	var ips []string
	for _, ss := range subsets {
		for _, a := range ss.Addresses {
			ips = append(ips, podruntime.PodIP(a.IP))
		}
	}
	return SortIPs(ips)
}
