package route

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
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

	"github.com/servingsim/servingsim/stack/apis/duck"
	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/kmeta"
	"github.com/servingsim/servingsim/stack/reconciler"
)

// Reasons and messages of the Route's IngressReady and CertificateProvisioned (§1.6).
const (
	ReasonIngressNotConfigured = "IngressNotConfigured"
	ReasonNotOwned             = "NotOwned"
	ReasonTLSNotEnabled        = "TLSNotEnabled"

	MessageIngressNotConfigured = "Ingress has not yet been reconciled."
	// MessageExternalDomainTLSNotEnabled is CertificateProvisioned's message with TLS off.
	MessageExternalDomainTLSNotEnabled = "external-domain-tls is not enabled"
	// MessageTLSNotEnabledForClusterLocal is its message for a cluster-local Route.
	MessageTLSNotEnabledForClusterLocal = "TLS is not enabled for cluster-local"
	// MessageTLSNotSupported is its message when external-domain-tls is on: servingsim issues
	// no certificates and serves plain HTTP.
	MessageTLSNotSupported = "external-domain-tls is not supported by servingsim; serving plain HTTP"

	EventCreated        = "Created"
	EventCreationFailed = "CreationFailed"
)

// ConfigNames are the ConfigMaps whose changes re-run every Route.
var ConfigNames = []string{config.DomainConfigName, config.NetworkConfigName, config.FeaturesConfigName}

// Reconciler resolves a Route's traffic and programs its Ingress and placeholder Services.
type Reconciler struct {
	Client   client.Client
	Config   *config.Store
	Clock    clock.PassiveClock
	Recorder record.EventRecorder

	// lag tracks our writes the cache may not show yet.
	lag reconciler.CacheLag
}

var _ reconcile.Reconciler = (*Reconciler)(nil)

// SetupWithManager registers the reconciler for Routes, the Ingresses and Services they own,
// the Configurations and Revisions they reference, and config-domain, config-network and
// config-features.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.Clock == nil || r.Config == nil {
		return errors.New("route reconciler: Clock and Config are required")
	}
	h, p := r.Config.WatchOption(ConfigNames, r.allRoutes)
	return ctrl.NewControllerManagedBy(mgr).
		Named("route").
		For(&servingv1.Route{}).
		Owns(&netv1alpha1.Ingress{}).
		Owns(&corev1.Service{}).
		Watches(&servingv1.Configuration{}, handler.EnqueueRequestsFromMapFunc(r.routesForConfiguration),
			builder.WithPredicates(predicate.Funcs{UpdateFunc: configurationRoutingChanged})).
		Watches(&servingv1.Revision{}, handler.EnqueueRequestsFromMapFunc(r.routesForRevision),
			builder.WithPredicates(predicate.Funcs{UpdateFunc: revisionRoutingChanged})).
		Watches(&corev1.ConfigMap{}, h, p).
		Complete(r)
}

// Reconcile brings one Route's traffic, Ingress, placeholder Services and status up to date.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	route := &servingv1.Route{}
	if err := r.Client.Get(ctx, req.NamespacedName, route); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !route.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	return reconciler.FrameWith(ctx, r.Client, &r.lag, route, servingv1.RouteConditions, r.Clock.Now(),
		func(m duck.ConditionManager) (ctrl.Result, error) { return ctrl.Result{}, r.reconcile(ctx, route, m) })
}

func (r *Reconciler) reconcile(ctx context.Context, route *servingv1.Route, m duck.ConditionManager) error {
	cfg := r.Config.Load()
	if route.Generation != route.Status.ObservedGeneration {
		m.MarkUnknown(servingv1.RouteConditionIngressReady, ReasonIngressNotConfigured, MessageIngressNotConfigured)
	}

	placeholders := &corev1.ServiceList{}
	if err := r.Client.List(ctx, placeholders, client.InNamespace(route.Namespace),
		client.MatchingLabels{serving.RouteLabelKey: route.Name}); err != nil {
		return r.trafficError(m, fmt.Errorf("list placeholder services of route %s/%s: %w", route.Namespace, route.Name, err))
	}
	vis := Visibility(cfg, route, placeholders.Items)
	url, err := URLFor(cfg, route, DefaultTarget, vis[DefaultTarget])
	if err != nil {
		return r.trafficError(m, err)
	}
	route.Status.URL = url

	traffic, err := Flatten(route, clientLookup{ctx: ctx, c: r.Client, ns: route.Namespace})
	var te *TargetError
	if errors.As(err, &te) {
		log.FromContext(ctx).Info("Traffic target not routable", "reason", te.Reason, "message", te.Message)
		te.Mark(m)
		return nil
	}
	if err != nil {
		return r.trafficError(m, err)
	}
	var urlErr error
	route.Status.Traffic = traffic.StatusTraffic(func(tag string) string {
		u, err := URLFor(cfg, route, tag, vis[tag])
		urlErr = errors.Join(urlErr, err)
		return u
	})
	if urlErr != nil {
		return r.trafficError(m, urlErr)
	}
	m.MarkTrue(servingv1.RouteConditionAllTrafficAssigned)
	route.Status.Address = &duck.Addressable{URL: AddressURL(route)}

	switch {
	case !cfg.Network.ExternalDomainTLS:
		m.MarkTrueWithReason(servingv1.RouteConditionCertificateProvisioned, ReasonTLSNotEnabled, MessageExternalDomainTLSNotEnabled)
	case vis[DefaultTarget] == netv1alpha1.IngressVisibilityClusterLocal:
		m.MarkTrueWithReason(servingv1.RouteConditionCertificateProvisioned, ReasonTLSNotEnabled, MessageTLSNotEnabledForClusterLocal)
	default:
		m.MarkTrueWithReason(servingv1.RouteConditionCertificateProvisioned, ReasonTLSNotEnabled, MessageTLSNotSupported)
	}

	now := r.Clock.Now()
	existing := &netv1alpha1.Ingress{}
	ingressPending, err := r.lag.GetChild(ctx, r.Client, now, client.ObjectKey{Namespace: route.Namespace, Name: kmeta.IngressName(route.Name)}, existing)
	if err != nil {
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("get ingress of route %s/%s: %w", route.Namespace, route.Name, err)
		}
		existing = nil
	}
	if ingressPending {
		existing = nil
	}
	desired, err := MakeIngress(cfg, route, traffic, vis)
	if err != nil {
		return fmt.Errorf("make ingress of route %s/%s: %w", route.Namespace, route.Name, err)
	}
	if existing != nil && !kmeta.IsControlledBy(existing, route) {
		m.MarkFalse(servingv1.RouteConditionIngressReady, ReasonNotOwned,
			fmt.Sprintf("There is an existing Ingress %q that we do not own.", existing.Name))
		return fmt.Errorf("route %s/%s does not own ingress %q", route.Namespace, route.Name, existing.Name)
	}
	writes, err := r.reconcilePlaceholders(ctx, now, route, traffic, placeholders.Items, PlaceholderTarget(existing), m)
	if err != nil {
		return err
	}
	// A pending Ingress was created a moment ago and the cache has yet to show it.
	ing, writeIngress := desired, (func() error)(nil)
	if !ingressPending {
		ing, writeIngress = r.reconcileIngress(ctx, now, route, existing, desired)
	}
	// The placeholder Services and the Ingress do not depend on each other: one round trip.
	if err := reconciler.Concurrently(append(writes, writeIngress)...); err != nil {
		return err
	}
	if ing.Generation != ing.Status.ObservedGeneration {
		m.MarkUnknown(servingv1.RouteConditionIngressReady, ReasonIngressNotConfigured, MessageIngressNotConfigured)
	} else {
		propagateIngressStatus(m, ing)
	}
	return nil
}

// trafficError records a failure that is not a bad target as AllTrafficAssigned Unknown.
func (r *Reconciler) trafficError(m duck.ConditionManager, err error) error {
	m.MarkUnknown(servingv1.RouteConditionAllTrafficAssigned, ReasonUnknown, err.Error())
	return err
}

func propagateIngressStatus(m duck.ConditionManager, ing *netv1alpha1.Ingress) {
	c := ing.Status.GetCondition(netv1alpha1.IngressConditionReady)
	switch {
	case c == nil:
		m.MarkUnknown(servingv1.RouteConditionIngressReady, ReasonIngressNotConfigured, MessageIngressNotConfigured)
	case c.IsTrue():
		m.MarkTrue(servingv1.RouteConditionIngressReady)
	case c.IsFalse():
		m.MarkFalse(servingv1.RouteConditionIngressReady, c.Reason, c.Message)
	default:
		m.MarkUnknown(servingv1.RouteConditionIngressReady, c.Reason, c.Message)
	}
}

// reconcileIngress returns the Ingress as it will be once written and the write (create or
// update) that makes the stored one match desired, nil if none. existing is owned by route.
// Read the returned Ingress only after the write: the write fills in what the server set.
func (r *Reconciler) reconcileIngress(ctx context.Context, now time.Time, route *servingv1.Route, existing, desired *netv1alpha1.Ingress) (*netv1alpha1.Ingress, func() error) {
	if existing == nil {
		return desired, func() error {
			if err := r.lag.CreateChild(ctx, r.Client, now, desired); err != nil {
				r.event(route, corev1.EventTypeWarning, EventCreationFailed, "Failed to create Ingress %q: %v", desired.Name, err)
				return fmt.Errorf("create ingress %s/%s: %w", desired.Namespace, desired.Name, err)
			}
			log.FromContext(ctx).Info("Created Ingress", "ingress", desired.Name)
			r.event(route, corev1.EventTypeNormal, EventCreated, "Created Ingress %q", desired.Name)
			return nil
		}
	}
	if equality.Semantic.DeepEqual(existing.Spec, desired.Spec) &&
		equality.Semantic.DeepEqual(existing.Labels, desired.Labels) &&
		equality.Semantic.DeepEqual(existing.Annotations, desired.Annotations) {
		return existing, nil
	}
	next := existing.DeepCopy()
	next.Spec, next.Labels, next.Annotations = desired.Spec, desired.Labels, desired.Annotations
	return next, func() error {
		if err := r.Client.Update(ctx, next); err != nil {
			return fmt.Errorf("update ingress %s/%s: %w", next.Namespace, next.Name, err)
		}
		log.FromContext(ctx).Info("Updated Ingress", "ingress", next.Name)
		return nil
	}
}

// reconcilePlaceholders decides, from the cache, one placeholder Service per traffic name and
// the deletion of the Route's placeholders no longer wanted, and returns the writes to make.
func (r *Reconciler) reconcilePlaceholders(ctx context.Context, now time.Time, route *servingv1.Route, t *Traffic,
	current []corev1.Service, target string, m duck.ConditionManager) ([]func() error, error) {
	netCfg := r.Config.Load().Network
	want := map[string]bool{}
	var writes []func() error
	for _, name := range t.Names() {
		svcName := HostnameFor(netCfg, route.Name, name)
		want[svcName] = true
		desired := MakePlaceholderService(route, svcName, target)
		have := &corev1.Service{}
		pending, err := r.lag.GetChild(ctx, r.Client, now, client.ObjectKeyFromObject(desired), have)
		switch {
		case pending: // created a moment ago; the cache has yet to show it
		case apierrors.IsNotFound(err):
			writes = append(writes, func() error {
				if err := r.lag.CreateChild(ctx, r.Client, now, desired); err != nil {
					r.event(route, corev1.EventTypeWarning, EventCreationFailed, "Failed to create placeholder service %q: %v", svcName, err)
					return fmt.Errorf("create placeholder service %s/%s: %w", route.Namespace, svcName, err)
				}
				log.FromContext(ctx).Info("Created placeholder Service", "service", svcName)
				r.event(route, corev1.EventTypeNormal, EventCreated, "Created placeholder service %q", svcName)
				return nil
			})
		case err != nil:
			return nil, fmt.Errorf("get placeholder service %s/%s: %w", route.Namespace, svcName, err)
		case !kmeta.IsControlledBy(have, route):
			m.MarkFalse(servingv1.RouteConditionIngressReady, ReasonNotOwned,
				fmt.Sprintf("There is an existing placeholder Service %q that we do not own.", svcName))
			return nil, fmt.Errorf("route %s/%s does not own service %q", route.Namespace, route.Name, svcName)
		case !placeholderSpecMatches(&have.Spec, &desired.Spec):
			next := have.DeepCopy()
			next.Spec = desired.Spec
			writes = append(writes, func() error {
				if err := r.Client.Update(ctx, next); err != nil {
					return fmt.Errorf("update placeholder service %s/%s: %w", route.Namespace, svcName, err)
				}
				log.FromContext(ctx).Info("Updated placeholder Service", "service", svcName)
				return nil
			})
		}
	}
	for i := range current {
		svc := &current[i]
		if want[svc.Name] || !kmeta.IsControlledBy(svc, route) {
			continue
		}
		writes = append(writes, func() error {
			if err := r.Client.Delete(ctx, svc); client.IgnoreNotFound(err) != nil {
				return fmt.Errorf("delete placeholder service %s/%s: %w", svc.Namespace, svc.Name, err)
			}
			log.FromContext(ctx).Info("Deleted placeholder Service", "service", svc.Name)
			return nil
		})
	}
	return writes, nil
}

// clientLookup is the Lookup of a reconcile: Gets through the (cached) client.
type clientLookup struct {
	ctx context.Context //nolint:containedctx // scoped to one reconcile
	c   client.Reader
	ns  string
}

func (l clientLookup) Configuration(name string) (*servingv1.Configuration, error) {
	cfg := &servingv1.Configuration{}
	if err := l.c.Get(l.ctx, client.ObjectKey{Namespace: l.ns, Name: name}, cfg); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get configuration %s/%s: %w", l.ns, name, err)
	}
	return cfg, nil
}

func (l clientLookup) Revision(name string) (*servingv1.Revision, error) {
	rev := &servingv1.Revision{}
	if err := l.c.Get(l.ctx, client.ObjectKey{Namespace: l.ns, Name: name}, rev); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get revision %s/%s: %w", l.ns, name, err)
	}
	return rev, nil
}

// configurationRoutingChanged passes Configuration updates that can change a Route: its latest
// ready Revision or its Ready condition (creates and deletes always pass).
func configurationRoutingChanged(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(*servingv1.Configuration)
	n, ok2 := e.ObjectNew.(*servingv1.Configuration)
	if !ok1 || !ok2 {
		return true
	}
	return o.Status.LatestReadyRevisionName != n.Status.LatestReadyRevisionName ||
		readyStatus(&o.Status.Status) != readyStatus(&n.Status.Status)
}

// revisionRoutingChanged passes Revision updates that can change a Route: readiness, labels
// (configuration, service) or containers (the h2c port) — not the frequent replica counts.
func revisionRoutingChanged(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(*servingv1.Revision)
	n, ok2 := e.ObjectNew.(*servingv1.Revision)
	if !ok1 || !ok2 {
		return true
	}
	return readyStatus(&o.Status.Status) != readyStatus(&n.Status.Status) ||
		!maps.Equal(o.Labels, n.Labels) || RevisionProtocol(o) != RevisionProtocol(n)
}

func readyStatus(s *duck.Status) corev1.ConditionStatus {
	if c := s.GetCondition(duck.ConditionReady); c != nil {
		return c.Status
	}
	return ""
}

func (r *Reconciler) allRoutes(ctx context.Context) []reconcile.Request {
	return r.routesWhere(ctx, "", func(*servingv1.Route) bool { return true })
}

// routesForConfiguration maps a Configuration to the Routes that name it, and to those with
// revision targets (whose Configuration must exist).
func (r *Reconciler) routesForConfiguration(ctx context.Context, o client.Object) []reconcile.Request {
	return r.routesWhere(ctx, o.GetNamespace(), func(rt *servingv1.Route) bool {
		return slices.ContainsFunc(rt.Spec.Traffic, func(tt servingv1.TrafficTarget) bool {
			return tt.ConfigurationName == o.GetName() || tt.RevisionName != ""
		})
	})
}

// routesForRevision maps a Revision to the Routes that name it or its Configuration.
func (r *Reconciler) routesForRevision(ctx context.Context, o client.Object) []reconcile.Request {
	cfgName := o.GetLabels()[serving.ConfigurationLabelKey]
	refers := func(tt servingv1.TrafficTarget) bool {
		return tt.RevisionName == o.GetName() || (cfgName != "" && tt.ConfigurationName == cfgName)
	}
	return r.routesWhere(ctx, o.GetNamespace(), func(rt *servingv1.Route) bool {
		return slices.ContainsFunc(rt.Spec.Traffic, refers) || slices.ContainsFunc(rt.Status.Traffic, refers)
	})
}

func (r *Reconciler) routesWhere(ctx context.Context, ns string, keep func(*servingv1.Route) bool) []reconcile.Request {
	routes := &servingv1.RouteList{}
	// Read-only scan of the cache: skipping the deep copy matters with thousands of Routes.
	opts := []client.ListOption{client.UnsafeDisableDeepCopy}
	if ns != "" {
		opts = append(opts, client.InNamespace(ns))
	}
	if err := r.Client.List(ctx, routes, opts...); err != nil {
		log.FromContext(ctx).Error(err, "list routes to requeue")
		return nil
	}
	var out []reconcile.Request
	for i := range routes.Items {
		if keep(&routes.Items[i]) {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{
				Namespace: routes.Items[i].Namespace, Name: routes.Items[i].Name}})
		}
	}
	return out
}

func (r *Reconciler) event(obj runtime.Object, typ, reason, format string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(obj, typ, reason, format, args...)
	}
}
