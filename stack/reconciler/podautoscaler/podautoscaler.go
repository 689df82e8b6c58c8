package podautoscaler

import (
	"context"
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
	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/kmeta"
	"github.com/servingsim/servingsim/stack/reconciler"
	"github.com/servingsim/servingsim/stack/reconciler/podautoscaler/resources"
	"github.com/servingsim/servingsim/stack/reconciler/serverlessservice"
)

// ControllerName is the unique name of the PodAutoscaler controller.
const ControllerName = "podautoscaler"

// Reconciler reconciles PodAutoscalers (§3.5).
type Reconciler struct {
	Client   client.Client
	Config   *config.Store
	Clock    clock.PassiveClock
	Recorder record.EventRecorder

	// Decider gives the desired scale and EBC of each PA. Default: StaticDecider.
	Decider Decider
	// Trigger, when set, lets the decider ask for reconciles (see Trigger). Default: none.
	Trigger *Trigger
	// ActivatorProbe checks the activator is in the path before scaling to zero. Default: none,
	// which counts as "in the path".
	ActivatorProbe ActivatorProbe

	// podsIndexed says the client's cache has podRevisionIndex (set by SetupWithManager).
	podsIndexed bool

	// lag tracks our writes the cache may not show yet.
	lag reconciler.CacheLag
}

// podRevisionIndex indexes Pods by their revision label, so counting a revision's ready pods
// does not scan every pod of the namespace.
const podRevisionIndex = "servingsim.podautoscaler/revision"

func indexPodRevision(o client.Object) []string {
	if rev := o.GetLabels()[serving.RevisionLabelKey]; rev != "" {
		return []string{rev}
	}
	return nil
}

var _ reconcile.Reconciler = (*Reconciler)(nil)

var configNames = []string{config.AutoscalerConfigName, config.DeploymentConfigName}

// SetupWithManager registers the reconciler: PodAutoscalers, their SKS and Metric, the pods of
// their revision, config-autoscaler/config-deployment, and the Trigger if any.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &corev1.Pod{}, podRevisionIndex, indexPodRevision); err != nil {
		return fmt.Errorf("index pods by revision: %w", err)
	}
	r.podsIndexed = true
	h, p := r.Config.WatchOption(configNames, r.allPodAutoscalers)
	b := ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&autoscalingv1alpha1.PodAutoscaler{}).
		Owns(&netv1alpha1.ServerlessService{}).
		Owns(&autoscalingv1alpha1.Metric{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(podToPodAutoscaler)).
		Watches(&corev1.ConfigMap{}, h, p)
	if r.Trigger != nil {
		b = b.WatchesRawSource(r.Trigger)
	}
	return b.Complete(r)
}

func podToPodAutoscaler(_ context.Context, o client.Object) []reconcile.Request {
	rev := o.GetLabels()[serving.RevisionLabelKey]
	if rev == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: kmeta.PodAutoscalerName(rev)}}}
}

func (r *Reconciler) allPodAutoscalers(ctx context.Context) []reconcile.Request {
	var list autoscalingv1alpha1.PodAutoscalerList
	if err := r.Client.List(ctx, &list); err != nil {
		log.FromContext(ctx).Error(err, "list podautoscalers for a config change")
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return reqs
}

func (r *Reconciler) decider() Decider {
	if r.Decider == nil {
		return StaticDecider{}
	}
	return r.Decider
}

// Reconcile brings one PodAutoscaler's children, scale and status up to date.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	pa := &autoscalingv1alpha1.PodAutoscaler{}
	if err := r.Client.Get(ctx, req.NamespacedName, pa); err != nil {
		if apierrors.IsNotFound(err) {
			r.decider().Delete(req.NamespacedName)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !pa.DeletionTimestamp.IsZero() {
		r.decider().Delete(req.NamespacedName)
		return reconcile.Result{}, nil
	}
	now := r.Clock.Now()
	return reconciler.FrameWith(ctx, r.Client, &r.lag, pa, autoscalingv1alpha1.PodAutoscalerConditions, now,
		func(m duck.ConditionManager) (reconcile.Result, error) {
			return r.reconcile(ctx, pa, m, r.Config.Load(), now)
		})
}

func (r *Reconciler) reconcile(ctx context.Context, pa *autoscalingv1alpha1.PodAutoscaler, m duck.ConditionManager, cfg *config.Config, now time.Time) (reconcile.Result, error) {
	sks := &netv1alpha1.ServerlessService{}
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: pa.Namespace, Name: kmeta.ServerlessServiceName(pa.Name)}, sks)
	switch {
	case apierrors.IsNotFound(err):
		sks = nil
	case err != nil:
		return reconcile.Result{}, fmt.Errorf("get serverlessservice %s: %w", pa.Name, err)
	}
	// §3.5.1: until the SKS reports its private service, proxy through 2 activators.
	if sks == nil || sks.Status.PrivateServiceName == "" {
		_, write, err := r.reconcileSKS(ctx, pa, m, netv1alpha1.SKSOperationModeProxy, resources.MinActivators, now)
		if err != nil {
			return reconcile.Result{}, err
		}
		if err := reconciler.Concurrently(write); err != nil {
			return reconcile.Result{}, err
		}
		m.MarkUnknown(autoscalingv1alpha1.PodAutoscalerConditionSKSReady, ReasonSKSNotReady, MessageNoPrivateServiceName)
		computeStatus(m, pa, autoscaler.ScaleUnknown, 0, cfg.Autoscaler)
		return reconcile.Result{}, nil
	}
	pa.Status.MetricsServiceName = sks.Status.PrivateServiceName

	spec := autoscaler.MakeDeciderSpec(pa, cfg.Autoscaler)
	decision, err := r.decider().Update(ctx, client.ObjectKeyFromObject(pa), spec)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("update decider of %s: %w", pa.Name, err)
	}
	writeMetric, err := r.reconcileMetric(ctx, now, pa, resources.MakeMetric(pa, spec, resources.ScrapeTarget(spec, sks.Status.PrivateServiceName)))
	if err != nil {
		return reconcile.Result{}, err
	}

	sr := decideScale(ctx, scaleInput{pa: pa, sks: sks, desired: decision.DesiredScale, cfg: cfg, now: now, probe: r.ActivatorProbe})
	var writeScale func() error
	if sr.apply {
		if writeScale, err = r.applyScale(ctx, pa, sr.want); err != nil {
			return reconcile.Result{}, err
		}
	}
	ready, err := r.readyPods(ctx, pa)
	if err != nil {
		return reconcile.Result{}, err
	}

	if serverlessservice.IsReady(sks) {
		m.MarkTrue(autoscalingv1alpha1.PodAutoscalerConditionSKSReady)
	} else {
		msg := ""
		if c := sks.Status.GetCondition(duck.ConditionReady); c != nil {
			msg = c.Message
		}
		m.MarkUnknown(autoscalingv1alpha1.PodAutoscalerConditionSKSReady, ReasonSKSNotReady, msg)
	}

	mode := resources.SKSMode(sr.want, decision.ExcessBurstCapacity)
	sks, writeSKS, err := r.reconcileSKS(ctx, pa, m, mode, resources.NumActivators(int(ready), spec), now)
	if err != nil {
		return reconcile.Result{}, err
	}
	// The Metric, the scale and the SKS spec are independent writes: one round trip for all.
	if err := reconciler.Concurrently(writeMetric, writeScale, writeSKS); err != nil {
		return reconcile.Result{}, err
	}
	pa.Status.ServiceName = sks.Status.ServiceName
	computeStatus(m, pa, sr.want, ready, cfg.Autoscaler)
	return reconcile.Result{RequeueAfter: sr.requeueAfter}, nil
}

// reconcileSKS decides the SKS from the cache: it returns the SKS to read status from and the
// write (create or spec update) that makes the stored one match, nil if none.
func (r *Reconciler) reconcileSKS(ctx context.Context, pa *autoscalingv1alpha1.PodAutoscaler, m duck.ConditionManager, mode netv1alpha1.ServerlessServiceOperationMode, numActivators int32, now time.Time) (*netv1alpha1.ServerlessService, func() error, error) {
	desired := resources.MakeSKS(pa, mode, numActivators)
	sks := &netv1alpha1.ServerlessService{}
	pending, err := r.lag.GetChild(ctx, r.Client, now, client.ObjectKeyFromObject(desired), sks)
	switch {
	case pending:
		return desired, nil, nil
	case apierrors.IsNotFound(err):
		return desired, func() error {
			if err := r.lag.CreateChild(ctx, r.Client, now, desired); err != nil {
				return fmt.Errorf("create serverlessservice %s: %w", desired.Name, err)
			}
			log.FromContext(ctx).Info("Created ServerlessService", "serverlessservice", desired.Name, "mode", mode)
			return nil
		}, nil
	case err != nil:
		return nil, nil, fmt.Errorf("get serverlessservice %s: %w", desired.Name, err)
	case !kmeta.IsControlledBy(sks, pa):
		m.MarkFalse(autoscalingv1alpha1.PodAutoscalerConditionSKSReady, ReasonNotOwned,
			fmt.Sprintf("PodAutoscaler does not own ServerlessService %q", desired.Name))
		return nil, nil, fmt.Errorf("podautoscaler %s does not own serverlessservice %s", pa.Name, desired.Name)
	case !equality.Semantic.DeepEqual(desired.Spec, sks.Spec):
		want := sks.DeepCopy()
		return sks, func() error {
			// Only this reconciler writes the SKS spec; the SKS reconciler writes its status.
			if err := reconciler.ReplaceSpec(ctx, r.Client, want, desired.Spec); err != nil {
				return fmt.Errorf("update serverlessservice %s: %w", want.Name, err)
			}
			log.FromContext(ctx).Info("Updated ServerlessService", "serverlessservice", want.Name, "mode", mode, "activators", numActivators)
			return nil
		}, nil
	}
	return sks, nil, nil
}

// reconcileMetric decides the Metric from the cache and returns the write (create or spec
// update) that makes the stored one match, nil if none.
func (r *Reconciler) reconcileMetric(ctx context.Context, now time.Time, pa *autoscalingv1alpha1.PodAutoscaler, desired *autoscalingv1alpha1.Metric) (func() error, error) {
	have := &autoscalingv1alpha1.Metric{}
	pending, err := r.lag.GetChild(ctx, r.Client, now, client.ObjectKeyFromObject(desired), have)
	switch {
	case pending:
		return nil, nil
	case apierrors.IsNotFound(err):
		return func() error {
			if err := r.lag.CreateChild(ctx, r.Client, now, desired); err != nil {
				return fmt.Errorf("create metric %s: %w", desired.Name, err)
			}
			log.FromContext(ctx).Info("Created Metric", "metric", desired.Name)
			return nil
		}, nil
	case err != nil:
		return nil, fmt.Errorf("get metric %s: %w", desired.Name, err)
	case !kmeta.IsControlledBy(have, pa):
		return nil, fmt.Errorf("podautoscaler %s does not own metric %s", pa.Name, desired.Name)
	case !equality.Semantic.DeepEqual(desired.Spec, have.Spec):
		want := have.DeepCopy()
		want.Spec = desired.Spec
		return func() error {
			if err := r.Client.Update(ctx, want); err != nil {
				return fmt.Errorf("update metric %s: %w", want.Name, err)
			}
			log.FromContext(ctx).Info("Updated Metric", "metric", want.Name)
			return nil
		}, nil
	}
	return nil, nil
}

// applyScale returns the JSON patch of the scale target's /spec/replicas to want, nil when the
// Deployment already has it.
func (r *Reconciler) applyScale(ctx context.Context, pa *autoscalingv1alpha1.PodAutoscaler, want int32) (func() error, error) {
	ref := pa.Spec.ScaleTargetRef
	if ref.Kind != "Deployment" {
		return nil, fmt.Errorf("podautoscaler %s: unsupported scale target kind %q", pa.Name, ref.Kind)
	}
	d := &appsv1.Deployment{}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: pa.Namespace, Name: ref.Name}, d); err != nil {
		return nil, fmt.Errorf("get scale target %s: %w", ref.Name, err)
	}
	current := int32(1)
	if d.Spec.Replicas != nil {
		current = *d.Spec.Replicas
	}
	if current == want {
		return nil, nil
	}
	return func() error {
		patch := fmt.Appendf(nil, `[{"op":"replace","path":"/spec/replicas","value":%d}]`, want)
		if err := r.Client.Patch(ctx, d, client.RawPatch(types.JSONPatchType, patch)); err != nil {
			return fmt.Errorf("scale %s from %d to %d: %w", ref.Name, current, want, err)
		}
		log.FromContext(ctx).Info("Scaled Deployment", "deployment", ref.Name, "from", current, "to", want)
		return nil
	}, nil
}

// readyPods counts the revision's pods that are Ready, Running and not terminating (§3.4).
func (r *Reconciler) readyPods(ctx context.Context, pa *autoscalingv1alpha1.PodAutoscaler) (int32, error) {
	rev := pa.Labels[serving.RevisionLabelKey]
	if rev == "" {
		rev = pa.Name
	}
	var pods corev1.PodList
	var byRevision client.ListOption = client.MatchingLabels{serving.RevisionLabelKey: rev}
	if r.podsIndexed {
		byRevision = client.MatchingFields{podRevisionIndex: rev}
	}
	// Read-only: the cache's own objects are counted, not copied.
	if err := r.Client.List(ctx, &pods, client.InNamespace(pa.Namespace), byRevision, client.UnsafeDisableDeepCopy); err != nil {
		return 0, fmt.Errorf("list pods of %s: %w", rev, err)
	}
	var n int32
	for i := range pods.Items {
		if IsPodReady(&pods.Items[i]) {
			n++
		}
	}
	return n, nil
}

// IsPodReady reports whether a pod counts as ready for autoscaling: Running, Ready and not
// terminating.
func IsPodReady(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
