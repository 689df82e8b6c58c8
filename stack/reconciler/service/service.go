package service

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/servingsim/servingsim/stack/apis/duck"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/kmeta"
	"github.com/servingsim/servingsim/stack/reconciler"
	"github.com/servingsim/servingsim/stack/reconciler/configuration"
)

// Condition reasons of the Service reconciler (§1.3).
const (
	ReasonNotOwned           = "NotOwned"
	ReasonOutOfDate          = "OutOfDate"
	ReasonRevisionNameTaken  = "RevisionNameTaken"
	ReasonTrafficNotMigrated = "TrafficNotMigrated"

	EventCreated        = "Created"
	EventCreationFailed = "CreationFailed"
)

// Reconciler owns a Service's Configuration and Route and mirrors their status.
type Reconciler struct {
	Client client.Client
	// Config is unused by this reconciler; it is kept for the shared reconciler shape.
	Config   *config.Store
	Clock    clock.PassiveClock
	Recorder record.EventRecorder

	// lag tracks our writes the cache may not show yet.
	lag reconciler.CacheLag
}

var _ reconcile.Reconciler = (*Reconciler)(nil)

// SetupWithManager registers the reconciler for Services and the Configurations and Routes
// they own.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.Clock == nil {
		return errors.New("service reconciler: Clock is required")
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("service").
		For(&servingv1.Service{}).
		Owns(&servingv1.Configuration{}).
		Owns(&servingv1.Route{}).
		Complete(r)
}

// Reconcile brings one Service's children and status up to date.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	svc := &servingv1.Service{}
	if err := r.Client.Get(ctx, req.NamespacedName, svc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !svc.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	return reconciler.FrameWith(ctx, r.Client, &r.lag, svc, servingv1.ServiceConditions, r.Clock.Now(),
		func(m duck.ConditionManager) (ctrl.Result, error) { return ctrl.Result{}, r.reconcile(ctx, svc, m) })
}

func (r *Reconciler) reconcile(ctx context.Context, svc *servingv1.Service, m duck.ConditionManager) error {
	cfg, err := r.reconcileConfiguration(ctx, svc, m)
	if err != nil {
		return err
	}
	if cfg.Generation != cfg.Status.ObservedGeneration {
		m.MarkUnknown(servingv1.ServiceConditionConfigurationsReady, ReasonOutOfDate,
			"The Configuration is still working to reflect the latest desired specification.")
		// With a BYO revision name the Route must wait for the Configuration, so that traffic
		// never points at a name the Configuration has not yet claimed.
		if cfg.Spec.Template.Name != "" {
			return nil
		}
	} else {
		propagateConfigurationStatus(svc, cfg, m)
	}

	if _, err := configuration.CheckNameAvailability(ctx, r.Client, cfg); err != nil && !apierrors.IsNotFound(err) {
		if !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("check revision name of configuration %s/%s: %w", cfg.Namespace, cfg.Name, err)
		}
		m.MarkFalse(servingv1.ServiceConditionRoutesReady, ReasonRevisionNameTaken,
			fmt.Sprintf("The revision name %q is taken by a conflicting Revision, so traffic will not be migrated", cfg.Spec.Template.Name))
		return nil
	}

	route, err := r.reconcileRoute(ctx, svc, m)
	if err != nil {
		return err
	}
	if route.Generation != route.Status.ObservedGeneration {
		m.MarkUnknown(servingv1.ServiceConditionRoutesReady, ReasonOutOfDate,
			"The Route is still working to reflect the latest desired specification.")
	} else {
		propagateRouteStatus(svc, route, m)
	}
	if m.GetCondition(servingv1.ServiceConditionRoutesReady).IsTrue() && !TrafficMigrated(route, cfg) {
		m.MarkUnknown(servingv1.ServiceConditionRoutesReady, ReasonTrafficNotMigrated,
			"Traffic is not yet migrated to the latest revision.")
	}
	return nil
}

// reconcileConfiguration gets, creates or clobbers the Service's Configuration. A nil
// Configuration with a nil error cannot happen; NotOwned is reported as an error.
func (r *Reconciler) reconcileConfiguration(ctx context.Context, svc *servingv1.Service, m duck.ConditionManager) (*servingv1.Configuration, error) {
	name := ConfigurationName(svc)
	cfg := &servingv1.Configuration{}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: svc.Namespace, Name: name}, cfg)
	switch {
	case apierrors.IsNotFound(err):
		desired := MakeConfiguration(svc, nil)
		if err := r.Client.Create(ctx, desired); err != nil {
			r.event(svc, corev1.EventTypeWarning, EventCreationFailed, "Failed to create Configuration %q: %v", name, err)
			return nil, fmt.Errorf("create configuration %s/%s: %w", svc.Namespace, name, err)
		}
		log.FromContext(ctx).Info("Created Configuration", "configuration", name)
		r.event(svc, corev1.EventTypeNormal, EventCreated, "Created Configuration %q", name)
		return desired, nil
	case err != nil:
		return nil, fmt.Errorf("get configuration %s/%s: %w", svc.Namespace, name, err)
	case !kmeta.IsControlledBy(cfg, svc):
		m.MarkFalse(servingv1.ServiceConditionConfigurationsReady, ReasonNotOwned,
			fmt.Sprintf("There is an existing Configuration %q that we do not own.", name))
		return nil, fmt.Errorf("service %s/%s does not own configuration %q", svc.Namespace, svc.Name, name)
	}
	desired := MakeConfiguration(svc, cfg)
	if ConfigurationSemanticEquals(desired, cfg) {
		return cfg, nil
	}
	cfg.Spec, cfg.Labels, cfg.Annotations = desired.Spec, desired.Labels, desired.Annotations
	if err := r.Client.Update(ctx, cfg); err != nil {
		return nil, fmt.Errorf("update configuration %s/%s: %w", svc.Namespace, name, err)
	}
	log.FromContext(ctx).Info("Updated Configuration", "configuration", name)
	return cfg, nil
}

// reconcileRoute gets, creates or clobbers the Service's Route.
func (r *Reconciler) reconcileRoute(ctx context.Context, svc *servingv1.Service, m duck.ConditionManager) (*servingv1.Route, error) {
	name := RouteName(svc)
	route := &servingv1.Route{}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: svc.Namespace, Name: name}, route)
	switch {
	case apierrors.IsNotFound(err):
		desired := MakeRoute(svc)
		if err := r.Client.Create(ctx, desired); err != nil {
			r.event(svc, corev1.EventTypeWarning, EventCreationFailed, "Failed to create Route %q: %v", name, err)
			return nil, fmt.Errorf("create route %s/%s: %w", svc.Namespace, name, err)
		}
		log.FromContext(ctx).Info("Created Route", "route", name)
		r.event(svc, corev1.EventTypeNormal, EventCreated, "Created Route %q", name)
		return desired, nil
	case err != nil:
		return nil, fmt.Errorf("get route %s/%s: %w", svc.Namespace, name, err)
	case !kmeta.IsControlledBy(route, svc):
		m.MarkFalse(servingv1.ServiceConditionRoutesReady, ReasonNotOwned,
			fmt.Sprintf("There is an existing Route %q that we do not own.", name))
		return nil, fmt.Errorf("service %s/%s does not own route %q", svc.Namespace, svc.Name, name)
	}
	desired := MakeRoute(svc)
	if RouteSemanticEquals(desired, route) {
		return route, nil
	}
	route.Spec, route.Labels, route.Annotations = desired.Spec, desired.Labels, desired.Annotations
	if err := r.Client.Update(ctx, route); err != nil {
		return nil, fmt.Errorf("update route %s/%s: %w", svc.Namespace, name, err)
	}
	log.FromContext(ctx).Info("Updated Route", "route", name)
	return route, nil
}

// propagateConfigurationStatus copies latestCreated/latestReady and mirrors the Configuration's
// Ready into ConfigurationsReady.
func propagateConfigurationStatus(svc *servingv1.Service, cfg *servingv1.Configuration, m duck.ConditionManager) {
	svc.Status.ConfigurationStatusFields = cfg.Status.ConfigurationStatusFields
	mirror(m, servingv1.ServiceConditionConfigurationsReady, cfg.Status.GetCondition(duck.ConditionReady))
}

// propagateRouteStatus copies url, address and traffic and mirrors the Route's Ready into
// RoutesReady.
func propagateRouteStatus(svc *servingv1.Service, route *servingv1.Route, m duck.ConditionManager) {
	svc.Status.RouteStatusFields = *route.Status.RouteStatusFields.DeepCopy()
	mirror(m, servingv1.ServiceConditionRoutesReady, route.Status.GetCondition(duck.ConditionReady))
}

func mirror(m duck.ConditionManager, t duck.ConditionType, c *duck.Condition) {
	switch {
	case c == nil:
	case c.IsTrue():
		m.MarkTrue(t)
	case c.IsFalse():
		m.MarkFalse(t, c.Reason, c.Message)
	default:
		m.MarkUnknown(t, c.Reason, c.Message)
	}
}

func (r *Reconciler) event(obj runtime.Object, typ, reason, format string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(obj, typ, reason, format, args...)
	}
}
