package gateway

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/servingsim/servingsim/stack/apis/duck"
	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/reconciler"
)

// Load-balancer addresses the gateway reports in Ingress status, as Kourier does.
const (
	PublicLoadBalancerDomain  = serving.GatewayServiceName + "." + serving.GatewayNamespace + ".svc.cluster.local"
	PrivateLoadBalancerDomain = serving.GatewayInternalServiceName + "." + serving.GatewayNamespace + ".svc.cluster.local"
)

// Reconciler programs Ingresses into the Table and marks them Ready.
type Reconciler struct {
	Client client.Client
	Clock  clock.PassiveClock
	Table  *Table
}

var _ reconcile.Reconciler = (*Reconciler)(nil)

// SetupWithManager registers the reconciler.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).Named("gateway-ingress").For(&netv1alpha1.Ingress{}).Complete(r)
}

// Reconcile programs one Ingress.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ing := &netv1alpha1.Ingress{}
	if err := r.Client.Get(ctx, req.NamespacedName, ing); err != nil {
		if apierrors.IsNotFound(err) {
			r.Table.Delete(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if !ing.DeletionTimestamp.IsZero() {
		r.Table.Delete(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	return reconciler.Frame(ctx, r.Client, ing, netv1alpha1.IngressConditions, r.Clock.Now(),
		func(m duck.ConditionManager) (ctrl.Result, error) {
			r.Table.Set(ing)
			m.MarkTrue(netv1alpha1.IngressConditionNetworkConfigured)
			m.MarkTrue(netv1alpha1.IngressConditionLoadBalancerReady)
			ing.Status.PublicLoadBalancer = &netv1alpha1.LoadBalancerStatus{Ingress: []netv1alpha1.LoadBalancerIngressStatus{{DomainInternal: PublicLoadBalancerDomain}}}
			ing.Status.PrivateLoadBalancer = &netv1alpha1.LoadBalancerStatus{Ingress: []netv1alpha1.LoadBalancerIngressStatus{{DomainInternal: PrivateLoadBalancerDomain}}}
			return ctrl.Result{}, nil
		})
}
