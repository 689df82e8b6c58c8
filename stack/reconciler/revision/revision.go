package revision

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/duck"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/kmeta"
	"github.com/servingsim/servingsim/stack/reconciler"
	"github.com/servingsim/servingsim/stack/reconciler/revision/resources"
)

// ControllerName is the unique name of the Revision controller.
const ControllerName = "revision"

// Reconciler reconciles Revisions (§1.5).
type Reconciler struct {
	Client   client.Client
	Config   *config.Store
	Clock    clock.PassiveClock
	Recorder record.EventRecorder

	// lag tracks our writes the cache may not show yet.
	lag reconciler.CacheLag
}

var _ reconcile.Reconciler = (*Reconciler)(nil)

// configNames are the ConfigMaps whose changes re-run every Revision.
var configNames = []string{config.DeploymentConfigName, config.AutoscalerConfigName, config.DefaultsConfigName}

// SetupWithManager registers the reconciler: Revisions, their Deployments, PodAutoscalers and
// pods (for crash detection), and the config-* maps that shape the Deployment.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	h, p := r.Config.WatchOption(configNames, r.allRevisions)
	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&servingv1.Revision{}).
		Owns(&appsv1.Deployment{}).
		Owns(&autoscalingv1alpha1.PodAutoscaler{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(podToRevision)).
		Watches(&corev1.ConfigMap{}, h, p).
		Complete(r)
}

func podToRevision(_ context.Context, o client.Object) []reconcile.Request {
	rev := o.GetLabels()[serving.RevisionLabelKey]
	if rev == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: rev}}}
}

func (r *Reconciler) allRevisions(ctx context.Context) []reconcile.Request {
	var list servingv1.RevisionList
	if err := r.Client.List(ctx, &list); err != nil {
		log.FromContext(ctx).Error(err, "list revisions for a config change")
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return reqs
}

// Reconcile brings one Revision's children and status up to date.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	rev := &servingv1.Revision{}
	if err := r.Client.Get(ctx, req.NamespacedName, rev); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !rev.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil // children go with the owner references
	}
	wasReady := rev.Status.GetCondition(duck.ConditionReady).IsTrue()
	now := r.Clock.Now()
	result, err := reconciler.FrameWith(ctx, r.Client, &r.lag, rev, servingv1.RevisionConditions, now,
		func(m duck.ConditionManager) (reconcile.Result, error) {
			return r.reconcile(ctx, rev, m, r.Config.Load(), now)
		})
	var statusErr *reconciler.StatusUpdateError
	if isReady := rev.Status.GetCondition(duck.ConditionReady).IsTrue(); !errors.As(err, &statusErr) && !wasReady && isReady {
		log.FromContext(ctx).Info("Revision became ready", "revision", rev.Name)
		r.event(rev, corev1.EventTypeNormal, "RevisionReady", "Revision becomes ready upon all resources being ready")
	}
	return result, err
}

func (r *Reconciler) reconcile(ctx context.Context, rev *servingv1.Revision, m duck.ConditionManager, cfg *config.Config, now time.Time) (reconcile.Result, error) {
	resolveDigests(rev, cfg.Deployment)
	deploy, writeDeploy, result, err := r.reconcileDeployment(ctx, rev, m, cfg, now)
	if err != nil {
		return result, err
	}
	pa, writePA, err := r.reconcilePA(ctx, rev, deploy, m, cfg, now)
	if err != nil {
		return result, err
	}
	// The PA is made from the Deployment we want, not from the stored one, so both writes go
	// out at once: a new Revision costs one round trip for its two children.
	if err := reconciler.Concurrently(writeDeploy, writePA); err != nil {
		return result, err
	}
	propagateAutoscalerStatus(m, &rev.Status, &pa.Status)
	return result, nil
}

// resolveDigests records each container's digest once; resolution is immediate (§1.5, see
// resources.ResolveDigest), so the ResolvingDigests phase never shows.
func resolveDigests(rev *servingv1.Revision, d *config.Deployment) {
	if len(rev.Status.ContainerStatuses) != len(rev.Spec.Containers) {
		rev.Status.ContainerStatuses = make([]servingv1.ContainerStatus, len(rev.Spec.Containers))
		for i, c := range rev.Spec.Containers {
			rev.Status.ContainerStatuses[i] = servingv1.ContainerStatus{Name: c.Name, ImageDigest: resources.ResolveDigest(c.Image, d.RegistriesSkippingTagResolving)}
		}
	}
	if len(rev.Status.InitContainerStatuses) != len(rev.Spec.InitContainers) {
		rev.Status.InitContainerStatuses = make([]servingv1.ContainerStatus, len(rev.Spec.InitContainers))
		for i, c := range rev.Spec.InitContainers {
			rev.Status.InitContainerStatuses[i] = servingv1.ContainerStatus{Name: c.Name, ImageDigest: resources.ResolveDigest(c.Image, d.RegistriesSkippingTagResolving)}
		}
	}
}

// reconcileDeployment decides the Deployment from the cache and marks what it says. It returns
// the Deployment as it will be, and the write (create or update) that makes it so, nil if none.
func (r *Reconciler) reconcileDeployment(ctx context.Context, rev *servingv1.Revision, m duck.ConditionManager, cfg *config.Config, now time.Time) (*appsv1.Deployment, func() error, reconcile.Result, error) {
	name := kmeta.DeploymentName(rev.Name)
	have := &appsv1.Deployment{}
	pending, err := r.lag.GetChild(ctx, r.Client, now, types.NamespacedName{Namespace: rev.Namespace, Name: name}, have)
	switch {
	case pending || apierrors.IsNotFound(err):
		m.MarkUnknown(servingv1.RevisionConditionResourcesAvailable, ReasonDeploying, "")
		m.MarkUnknown(servingv1.RevisionConditionContainerHealthy, ReasonDeploying, "")
		want := resources.MakeDeployment(rev, cfg)
		if pending { // created a moment ago; the cache has yet to show it
			return want, nil, reconcile.Result{}, nil
		}
		create := func() error {
			if err := r.lag.CreateChild(ctx, r.Client, now, want); err != nil {
				return fmt.Errorf("create deployment %s: %w", name, err)
			}
			log.FromContext(ctx).Info("Created Deployment", "deployment", name, "revision", rev.Name)
			return nil
		}
		return want, create, reconcile.Result{}, nil
	case err != nil:
		return nil, nil, reconcile.Result{}, fmt.Errorf("get deployment %s: %w", name, err)
	case !kmeta.IsControlledBy(have, rev):
		m.MarkFalse(servingv1.RevisionConditionResourcesAvailable, ReasonNotOwned, notOwnedMessage("Deployment", name))
		return nil, nil, reconcile.Result{}, fmt.Errorf("revision %s does not own deployment %s", rev.Name, name)
	}

	deploy, update := r.updateDeployment(ctx, rev, have, cfg)
	apply(m, servingv1.RevisionConditionResourcesAvailable, deploymentReadiness(&deploy.Status))

	var result reconcile.Result
	if replicas := deploy.Spec.Replicas; (replicas == nil || *replicas > 0) && deploy.Status.AvailableReplicas == 0 {
		var pods corev1.PodList
		if err := r.Client.List(ctx, &pods, client.InNamespace(rev.Namespace), client.MatchingLabels(deploy.Spec.Selector.MatchLabels)); err != nil {
			return nil, nil, reconcile.Result{}, fmt.Errorf("list pods of %s: %w", name, err)
		}
		v := detectCrash(deploy, pods.Items, cfg.Deployment.PodIsAlwaysSchedulable, now)
		if v.resourcesAvailable != nil {
			apply(m, servingv1.RevisionConditionResourcesAvailable, *v.resourcesAvailable)
		}
		if v.containerHealthy != nil {
			apply(m, servingv1.RevisionConditionContainerHealthy, *v.containerHealthy)
		}
		result.RequeueAfter = v.recheckAfter
	}
	if deploy.Status.ReadyReplicas > 0 {
		m.MarkTrue(servingv1.RevisionConditionContainerHealthy)
	}
	return deploy, update, result, nil
}

// updateDeployment returns the Deployment as it should be and, when it drifted from the desired
// shape, the update that rewrites it. Replicas are the PA's business and are kept.
func (r *Reconciler) updateDeployment(ctx context.Context, rev *servingv1.Revision, have *appsv1.Deployment, cfg *config.Config) (*appsv1.Deployment, func() error) {
	desired := resources.MakeDeployment(rev, cfg)
	desired.Spec.Replicas = have.Spec.Replicas
	if equality.Semantic.DeepDerivative(desired.Spec, have.Spec) &&
		subset(desired.Labels, have.Labels) && subset(desired.Annotations, have.Annotations) {
		return have, nil
	}
	want := have.DeepCopy()
	want.Spec = desired.Spec
	want.Labels = kmeta.UnionMaps(have.Labels, desired.Labels)
	want.Annotations = kmeta.UnionMaps(have.Annotations, desired.Annotations)
	update := want.DeepCopy() // the client rewrites what it sends with the reply
	return want, func() error {
		if err := r.Client.Update(ctx, update); err != nil {
			return fmt.Errorf("update deployment %s: %w", want.Name, err)
		}
		log.FromContext(ctx).Info("Updated Deployment", "deployment", want.Name, "revision", rev.Name)
		return nil
	}
}

func subset(want, have map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// reconcilePA decides the PodAutoscaler from the cache. It returns the PA to read status from
// and the write (create or update) that makes the stored one match, nil if none.
func (r *Reconciler) reconcilePA(ctx context.Context, rev *servingv1.Revision, deploy *appsv1.Deployment, m duck.ConditionManager, cfg *config.Config, now time.Time) (*autoscalingv1alpha1.PodAutoscaler, func() error, error) {
	desired := resources.MakePA(rev, deploy, cfg)
	pa := &autoscalingv1alpha1.PodAutoscaler{}
	pending, err := r.lag.GetChild(ctx, r.Client, now, client.ObjectKeyFromObject(desired), pa)
	switch {
	case pending:
		return desired, nil, nil
	case apierrors.IsNotFound(err):
		return desired, func() error {
			if err := r.lag.CreateChild(ctx, r.Client, now, desired); err != nil {
				return fmt.Errorf("create podautoscaler %s: %w", desired.Name, err)
			}
			log.FromContext(ctx).Info("Created PodAutoscaler", "podautoscaler", desired.Name, "revision", rev.Name)
			return nil
		}, nil
	case err != nil:
		return nil, nil, fmt.Errorf("get podautoscaler %s: %w", desired.Name, err)
	case !kmeta.IsControlledBy(pa, rev):
		m.MarkFalse(servingv1.RevisionConditionResourcesAvailable, ReasonNotOwned, notOwnedMessage("PodAutoscaler", desired.Name))
		return nil, nil, fmt.Errorf("revision %s does not own podautoscaler %s", rev.Name, desired.Name)
	case !equality.Semantic.DeepEqual(desired.Spec, pa.Spec) || !paAnnotationsMatch(desired.Annotations, pa.Annotations):
		want := pa.DeepCopy()
		want.Spec = desired.Spec
		want.Annotations = desired.Annotations
		update := want.DeepCopy() // the client rewrites what it sends with the reply
		return want, func() error {
			if err := r.Client.Update(ctx, update); err != nil {
				return fmt.Errorf("update podautoscaler %s: %w", want.Name, err)
			}
			log.FromContext(ctx).Info("Updated PodAutoscaler", "podautoscaler", want.Name, "revision", rev.Name)
			return nil
		}, nil
	}
	return pa, nil, nil
}

func (r *Reconciler) event(obj client.Object, typ, reason, msg string) {
	if r.Recorder != nil {
		r.Recorder.Event(obj, typ, reason, msg)
	}
}

// paAnnotationsMatch compares a PA's annotations with the desired ones, ignoring the class and
// metric annotations the admission webhook defaults onto every PA (§2.1) when the Revision does
// not set them; otherwise every reconcile would see drift and rewrite the PA.
func paAnnotationsMatch(desired, have map[string]string) bool {
	defaulted := map[string]bool{serving.ClassAnnotationKey: true, serving.MetricAnnotationKey: true}
	for k, v := range have {
		if dv, ok := desired[k]; ok {
			if dv != v {
				return false
			}
		} else if !defaulted[k] {
			return false
		}
	}
	for k := range desired {
		if _, ok := have[k]; !ok {
			return false
		}
	}
	return true
}
