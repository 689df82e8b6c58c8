package configuration

import (
	"context"
	"errors"
	"fmt"
	"strconv"

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
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/reconciler"
)

// Reasons and event reasons of the Configuration reconciler (§1.4).
const (
	ReasonRevisionFailed  = "RevisionFailed"
	ReasonRevisionDeleted = "RevisionDeleted"

	EventConfigurationReady  = "ConfigurationReady"
	EventLatestReadyUpdate   = "LatestReadyUpdate"
	EventLatestCreatedFailed = "LatestCreatedFailed"
	EventLatestReadyFailed   = "LatestReadyFailed"
	EventCreated             = "Created"
	EventCreationFailed      = "CreationFailed"
)

// Reconciler creates the Revision of each Configuration generation and maintains
// latestCreatedRevisionName, latestReadyRevisionName and Ready.
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

// SetupWithManager registers the reconciler for Configurations and the Revisions they own.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.Clock == nil {
		return errors.New("configuration reconciler: Clock is required")
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("configuration").
		For(&servingv1.Configuration{}).
		Owns(&servingv1.Revision{}).
		Complete(r)
}

// Reconcile brings one Configuration's Revision and status up to date.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	cfg := &servingv1.Configuration{}
	if err := r.Client.Get(ctx, req.NamespacedName, cfg); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !cfg.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	return reconciler.FrameWith(ctx, r.Client, &r.lag, cfg, servingv1.ConfigurationConditions, r.Clock.Now(),
		func(m duck.ConditionManager) (ctrl.Result, error) { return ctrl.Result{}, r.reconcile(ctx, cfg, m) })
}

func (r *Reconciler) reconcile(ctx context.Context, cfg *servingv1.Configuration, m duck.ConditionManager) error {
	lcr, err := r.latestCreated(ctx, cfg)
	switch {
	case apierrors.IsNotFound(err):
		lcr, err = r.createRevision(ctx, cfg)
		if err != nil {
			if errors.Is(err, errCacheLag) {
				return err
			}
			r.event(cfg, corev1.EventTypeWarning, EventCreationFailed, "Failed to create Revision: %v", err)
			markCreationFailed(m, err)
			return fmt.Errorf("create revision for configuration %s/%s: %w", cfg.Namespace, cfg.Name, err)
		}
	case apierrors.IsAlreadyExists(err):
		// The BYO name is held by a Revision of another owner or another spec.
		markCreationFailed(m, err)
		return nil
	case err != nil:
		return fmt.Errorf("get revision of configuration %s/%s: %w", cfg.Namespace, cfg.Name, err)
	}

	cfg.Status.LatestCreatedRevisionName = lcr.Name
	if cfg.Status.LatestReadyRevisionName != lcr.Name {
		m.MarkUnknown(duck.ConditionReady, "", "")
	}
	rc := lcr.Status.GetCondition(servingv1.RevisionConditionReady)
	switch {
	case rc.IsTrue():
		if cfg.Status.LatestReadyRevisionName == "" {
			r.event(cfg, corev1.EventTypeNormal, EventConfigurationReady, "Configuration becomes ready")
		}
	case rc.IsFalse():
		beforeReady := m.GetCondition(duck.ConditionReady).DeepCopy()
		m.MarkFalse(duck.ConditionReady, ReasonRevisionFailed,
			fmt.Sprintf("Revision %q failed with message: %s.", lcr.Name, rc.Message))
		if after := m.GetCondition(duck.ConditionReady); beforeReady == nil || beforeReady.Status != after.Status ||
			beforeReady.Reason != after.Reason || beforeReady.Message != after.Message {
			if lcr.Name == cfg.Status.LatestReadyRevisionName {
				r.event(cfg, corev1.EventTypeWarning, EventLatestReadyFailed, "Latest ready revision %q has failed", lcr.Name)
			} else {
				r.event(cfg, corev1.EventTypeWarning, EventLatestCreatedFailed, "Latest created revision %q has failed", lcr.Name)
			}
		}
	}

	revs := &servingv1.RevisionList{}
	if err := r.Client.List(ctx, revs, client.InNamespace(cfg.Namespace),
		client.MatchingLabels{serving.ConfigurationLabelKey: cfg.Name}); err != nil {
		return fmt.Errorf("list revisions of configuration %s/%s: %w", cfg.Namespace, cfg.Name, err)
	}
	if lrr := cfg.Status.LatestReadyRevisionName; lrr != "" && !hasRevision(revs.Items, lrr) {
		m.MarkFalse(duck.ConditionReady, ReasonRevisionDeleted, fmt.Sprintf("Revision %q was deleted.", lrr))
	}
	if name := LatestReady(cfg, revs.Items); name != "" {
		old := cfg.Status.LatestReadyRevisionName
		cfg.Status.LatestReadyRevisionName = name
		if name == cfg.Status.LatestCreatedRevisionName {
			m.MarkTrue(duck.ConditionReady)
		}
		if old != name {
			log.FromContext(ctx).Info("Updated latest ready Revision", "revision", name)
			r.event(cfg, corev1.EventTypeNormal, EventLatestReadyUpdate, "LatestReadyRevisionName updated to %q", name)
		}
	}
	return nil
}

func markCreationFailed(m duck.ConditionManager, err error) {
	m.MarkFalse(duck.ConditionReady, ReasonRevisionFailed,
		fmt.Sprintf("Revision creation failed with message: %s.", err.Error()))
}

func hasRevision(revs []servingv1.Revision, name string) bool {
	for i := range revs {
		if revs[i].Name == name {
			return true
		}
	}
	return false
}

// CheckNameAvailability looks up cfg's BYO revision name (§1.3, §1.4). It returns (nil, nil)
// without a BYO name, a NotFound error when no Revision holds the name, an AlreadyExists error
// when the name is taken (see CheckBYORevision), and the Revision when it is cfg's own.
func CheckNameAvailability(ctx context.Context, c client.Reader, cfg *servingv1.Configuration) (*servingv1.Revision, error) {
	name := cfg.Spec.Template.Name
	if name == "" {
		return nil, nil
	}
	rev := &servingv1.Revision{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: cfg.Namespace, Name: name}, rev); err != nil {
		return nil, err
	}
	if err := CheckBYORevision(cfg, rev); err != nil {
		return nil, err
	}
	return rev, nil
}

// latestCreated finds the Revision of cfg's current generation: by BYO name, or by the
// configuration and configurationGeneration labels. A NotFound error means it must be created.
func (r *Reconciler) latestCreated(ctx context.Context, cfg *servingv1.Configuration) (*servingv1.Revision, error) {
	if rev, err := CheckNameAvailability(ctx, r.Client, cfg); rev != nil || err != nil {
		return rev, err
	}
	list := &servingv1.RevisionList{}
	if err := r.Client.List(ctx, list, client.InNamespace(cfg.Namespace), client.MatchingLabels{
		serving.ConfigurationLabelKey:           cfg.Name,
		serving.ConfigurationGenerationLabelKey: strconv.FormatInt(cfg.Generation, 10),
	}); err != nil {
		return nil, err
	}
	if len(list.Items) > 0 {
		return &list.Items[0], nil
	}
	return nil, apierrors.NewNotFound(revisionsResource, "revision for "+cfg.Name)
}

// errCacheLag reports that a Revision we tried to create already exists but is not yet visible
// to the reading client; the request is retried rather than the Configuration failed.
var errCacheLag = errors.New("revision exists but is not yet visible in the cache")

func (r *Reconciler) createRevision(ctx context.Context, cfg *servingv1.Configuration) (*servingv1.Revision, error) {
	now := r.Clock.Now()
	rev := MakeRevision(cfg, now)
	// Created by us a moment ago and not yet in the cache: it is the latest created already.
	if pending, _ := r.lag.GetChild(ctx, r.Client, now, client.ObjectKeyFromObject(rev), &servingv1.Revision{}); pending {
		return rev, nil
	}
	err := r.lag.CreateChild(ctx, r.Client, now, rev)
	if apierrors.IsAlreadyExists(err) {
		// Our own earlier create may simply not have reached the cache yet.
		existing := &servingv1.Revision{}
		switch gerr := r.Client.Get(ctx, client.ObjectKeyFromObject(rev), existing); {
		case apierrors.IsNotFound(gerr):
			return nil, fmt.Errorf("create revision %s: %w", rev.Name, errCacheLag)
		case gerr == nil && CheckBYORevision(cfg, existing) == nil:
			return existing, nil
		}
	}
	if err != nil {
		return nil, err
	}
	log.FromContext(ctx).Info("Created Revision", "revision", rev.Name)
	r.event(cfg, corev1.EventTypeNormal, EventCreated, "Created Revision %q", rev.Name)
	return rev, nil
}

func (r *Reconciler) event(obj runtime.Object, typ, reason, format string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(obj, typ, reason, format, args...)
	}
}
