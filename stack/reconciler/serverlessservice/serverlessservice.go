//nolint:staticcheck // Knative reads and writes core/v1 Endpoints (§3.6); the pod runtime keeps them.
package serverlessservice

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/servingsim/servingsim/stack/apis/duck"
	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/kmeta"
	"github.com/servingsim/servingsim/stack/reconciler"
	"github.com/servingsim/servingsim/stack/reconciler/serverlessservice/resources"
)

// ControllerName is the unique name of the ServerlessService controller.
const ControllerName = "serverlessservice"

// Reconciler reconciles ServerlessServices (§3.6).
type Reconciler struct {
	Client   client.Client
	Config   *config.Store
	Clock    clock.PassiveClock
	Recorder record.EventRecorder

	// lag tracks our writes the cache may not show yet.
	lag reconciler.CacheLag
}

var _ reconcile.Reconciler = (*Reconciler)(nil)

// SetupWithManager registers the reconciler: SKSs, their Services, and Endpoints — the public
// ones it owns, the private ones the pod runtime keeps, and the activator's.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&netv1alpha1.ServerlessService{}).
		Owns(&corev1.Service{}).
		Watches(&corev1.Endpoints{}, handler.EnqueueRequestsFromMapFunc(r.endpointsToSKS)).
		Complete(r)
}

// endpointsToSKS maps an Endpoints change to the SKSs that read it: every SKS for the
// activator's, the controlling SKS of a public one, and the owner of the same-named private
// Service for a private one.
func (r *Reconciler) endpointsToSKS(ctx context.Context, o client.Object) []reconcile.Request {
	if o.GetNamespace() == serving.SystemNamespace && o.GetName() == serving.ActivatorServiceName {
		var list netv1alpha1.ServerlessServiceList
		if err := r.Client.List(ctx, &list); err != nil {
			log.FromContext(ctx).Error(err, "list serverlessservices for an activator endpoints change")
			return nil
		}
		reqs := make([]reconcile.Request, 0, len(list.Items))
		for i := range list.Items {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
		return reqs
	}
	owner := metav1.GetControllerOf(o)
	if owner == nil {
		svc := &corev1.Service{}
		if err := r.Client.Get(ctx, client.ObjectKeyFromObject(o), svc); err != nil {
			return nil
		}
		owner = metav1.GetControllerOf(svc)
	}
	if owner == nil || owner.Kind != resources.ServerlessServiceGVK.Kind || owner.APIVersion != resources.ServerlessServiceGVK.GroupVersion().String() {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: owner.Name}}}
}

// Reconcile brings one SKS's Services, Endpoints and status up to date.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	sks := &netv1alpha1.ServerlessService{}
	if err := r.Client.Get(ctx, req.NamespacedName, sks); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !sks.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil
	}
	now := r.Clock.Now()
	return reconciler.FrameWith(ctx, r.Client, &r.lag, sks, netv1alpha1.ServerlessServiceConditions, now,
		func(m duck.ConditionManager) (reconcile.Result, error) {
			return reconcile.Result{}, r.reconcile(ctx, sks, m, now)
		})
}

func (r *Reconciler) reconcile(ctx context.Context, sks *netv1alpha1.ServerlessService, m duck.ConditionManager, now time.Time) error {
	selector, err := r.podSelector(ctx, sks)
	if err != nil {
		return err
	}
	// Decide all three children from the cache, then write them at once: none depends on another.
	var privateErr, publicErr error
	writePrivate, err := r.reconcileService(ctx, now, sks, m, resources.MakePrivateService(sks, selector), true)
	if err != nil {
		return err
	}
	writePublic, err := r.reconcileService(ctx, now, sks, m, resources.MakePublicService(sks), false)
	if err != nil {
		return err
	}
	writeEndpoints, markEndpoints, err := r.reconcilePublicEndpoints(ctx, now, sks, m)
	if err != nil {
		return err
	}
	err = reconciler.Concurrently(
		wrapErr(writePrivate, &privateErr), wrapErr(writePublic, &publicErr), writeEndpoints)
	if privateErr == nil {
		sks.Status.PrivateServiceName = kmeta.PrivateServiceName(sks.Name)
	}
	if privateErr == nil && publicErr == nil {
		sks.Status.ServiceName = kmeta.PublicServiceName(sks.Name)
	}
	if err != nil {
		return err
	}
	markEndpoints()
	return nil
}

// wrapErr records fn's error in *dst as well as returning it; nil stays nil.
func wrapErr(fn func() error, dst *error) func() error {
	if fn == nil {
		return nil
	}
	return func() error {
		*dst = fn()
		return *dst
	}
}

// podSelector is the scale target's pod selector (the revisionUID label, §1.2).
func (r *Reconciler) podSelector(ctx context.Context, sks *netv1alpha1.ServerlessService) (map[string]string, error) {
	ref := sks.Spec.ObjectRef
	if ref.Kind != "Deployment" {
		return nil, fmt.Errorf("serverlessservice %s: unsupported object kind %q", sks.Name, ref.Kind)
	}
	d := &appsv1.Deployment{}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: sks.Namespace, Name: ref.Name}, d); err != nil {
		return nil, fmt.Errorf("get scale target %s of serverlessservice %s: %w", ref.Name, sks.Name, err)
	}
	if d.Spec.Selector == nil || len(d.Spec.Selector.MatchLabels) == 0 {
		return nil, fmt.Errorf("scale target %s has no matchLabels selector", ref.Name)
	}
	return d.Spec.Selector.MatchLabels, nil
}

// reconcileService decides one of the SKS's Services from the cache and returns the write
// (create or update) that makes the stored one match, nil if none.
func (r *Reconciler) reconcileService(ctx context.Context, now time.Time, sks *netv1alpha1.ServerlessService, m duck.ConditionManager, desired *corev1.Service, private bool) (func() error, error) {
	have := &corev1.Service{}
	pending, err := r.lag.GetChild(ctx, r.Client, now, client.ObjectKeyFromObject(desired), have)
	switch {
	case pending:
		return nil, nil
	case apierrors.IsNotFound(err):
		return func() error {
			if err := r.lag.CreateChild(ctx, r.Client, now, desired); err != nil {
				return fmt.Errorf("create service %s: %w", desired.Name, err)
			}
			log.FromContext(ctx).Info("Created Service", "service", desired.Name, "serverlessservice", sks.Name)
			return nil
		}, nil
	case err != nil:
		return nil, fmt.Errorf("get service %s: %w", desired.Name, err)
	case !kmeta.IsControlledBy(have, sks):
		m.MarkFalse(netv1alpha1.ServerlessServiceConditionEndpointsPopulated, ReasonNotOwned,
			fmt.Sprintf("Resource %s of type Service is not owned by SKS", desired.Name))
		return nil, fmt.Errorf("serverlessservice %s does not own service %s", sks.Name, desired.Name)
	}
	same := equality.Semantic.DeepEqual(desired.Spec.Ports, have.Spec.Ports) &&
		(!private || equality.Semantic.DeepEqual(desired.Spec.Selector, have.Spec.Selector)) &&
		subset(desired.Labels, have.Labels)
	if same {
		return nil, nil
	}
	want := have.DeepCopy()
	want.Spec.Ports = desired.Spec.Ports
	want.Spec.Selector = desired.Spec.Selector
	want.Labels = kmeta.UnionMaps(have.Labels, desired.Labels)
	return func() error {
		if err := r.Client.Update(ctx, want); err != nil {
			return fmt.Errorf("update service %s: %w", want.Name, err)
		}
		log.FromContext(ctx).Info("Updated Service", "service", want.Name, "serverlessservice", sks.Name)
		return nil
	}, nil
}

func subset(want, have map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// getSubsets returns the subsets of Endpoints ns/name, none when it does not exist yet.
func (r *Reconciler) getSubsets(ctx context.Context, ns, name string) ([]corev1.EndpointSubset, error) {
	eps := &corev1.Endpoints{}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, eps); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get endpoints %s/%s: %w", ns, name, err)
	}
	return eps.Subsets, nil
}

// Backing is where the public endpoints point.
type Backing struct {
	// Activator is true when the activators back the revision (effective Proxy mode).
	Activator bool
	// Subsets are the public Endpoints' subsets.
	Subsets []corev1.EndpointSubset
}

// ChooseBacking decides the public endpoints (§3.6): the private endpoints in Serve mode, a
// numActivators subset of the activator endpoints in Proxy mode; Proxy is forced when no private
// endpoint is ready and Serve is forced when no activator endpoint is ready (but pods are).
func ChooseBacking(sks *netv1alpha1.ServerlessService, private, activator []corev1.EndpointSubset) Backing {
	pvtReady := resources.ReadyAddressCount(private) > 0
	actReady := resources.ReadyAddressCount(activator) > 0
	useActivator := sks.Spec.Mode == netv1alpha1.SKSOperationModeProxy || !pvtReady
	if useActivator && !actReady && pvtReady {
		useActivator = false
	}
	if useActivator {
		return Backing{Activator: true, Subsets: resources.PublicSubsets(sks, resources.SubsetEndpoints(activator, sks.Name, int(sks.Spec.NumActivators)))}
	}
	return Backing{Subsets: resources.PublicSubsets(sks, private)}
}

// reconcilePublicEndpoints decides the public Endpoints from the cached private and activator
// Endpoints. It returns the write that makes the stored ones match (nil if none) and the
// condition marks to apply once that write succeeded.
func (r *Reconciler) reconcilePublicEndpoints(ctx context.Context, now time.Time, sks *netv1alpha1.ServerlessService, m duck.ConditionManager) (func() error, func(), error) {
	private, err := r.getSubsets(ctx, sks.Namespace, kmeta.PrivateServiceName(sks.Name))
	if err != nil {
		return nil, nil, err
	}
	activator, err := r.getSubsets(ctx, serving.SystemNamespace, serving.ActivatorServiceName)
	if err != nil {
		return nil, nil, err
	}
	backing := ChooseBacking(sks, private, activator)
	mark := func() {
		if resources.ReadyAddressCount(private) > 0 {
			m.MarkTrue(netv1alpha1.ServerlessServiceConditionEndpointsPopulated)
		} else {
			m.MarkUnknown(netv1alpha1.ServerlessServiceConditionEndpointsPopulated, ReasonNoHealthyBackends, MessageServiceNotReady)
		}
		markActivatorEndpoints(m, backing.Activator)
	}

	desired := resources.MakePublicEndpoints(sks, backing.Subsets)
	have := &corev1.Endpoints{}
	pending, err := r.lag.GetChild(ctx, r.Client, now, client.ObjectKeyFromObject(desired), have)
	switch {
	case pending:
		return nil, mark, nil
	case apierrors.IsNotFound(err):
		return func() error {
			if err := r.lag.CreateChild(ctx, r.Client, now, desired); err != nil {
				return fmt.Errorf("create endpoints %s: %w", desired.Name, err)
			}
			log.FromContext(ctx).Info("Created Endpoints", "endpoints", desired.Name, "serverlessservice", sks.Name)
			return nil
		}, mark, nil
	case err != nil:
		return nil, nil, fmt.Errorf("get endpoints %s: %w", desired.Name, err)
	case !kmeta.IsControlledBy(have, sks):
		m.MarkFalse(netv1alpha1.ServerlessServiceConditionEndpointsPopulated, ReasonNotOwned,
			fmt.Sprintf("Resource %s of type Endpoints is not owned by SKS", desired.Name))
		return nil, nil, fmt.Errorf("serverlessservice %s does not own endpoints %s", sks.Name, desired.Name)
	case !equality.Semantic.DeepEqual(desired.Subsets, have.Subsets) || !subset(desired.Labels, have.Labels):
		want := have.DeepCopy()
		want.Subsets = desired.Subsets
		want.Labels = kmeta.UnionMaps(have.Labels, desired.Labels)
		return func() error {
			if err := r.Client.Update(ctx, want); err != nil {
				return fmt.Errorf("update endpoints %s: %w", want.Name, err)
			}
			log.FromContext(ctx).Info("Updated Endpoints", "endpoints", want.Name, "activator", backing.Activator)
			return nil
		}, mark, nil
	}
	return nil, mark, nil
}
