package podruntime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/servingsim/servingsim/stack/rng"
)

// expectationsTimeout is how long a create or delete we issued may stay unobserved in the cache
// before we stop counting on it (the ReplicaSet controller's ExpectationsTimeout).
const expectationsTimeout = 5 * time.Minute

// deploymentReconciler is the Deployment and ReplicaSet controllers in one: it owns Pods
// directly (no ReplicaSet objects) and writes the Deployment's status.
type deploymentReconciler struct {
	rt   *Runtime
	wake *waker

	mu      sync.Mutex
	streams map[types.NamespacedName]nameStream
	pending map[types.NamespacedName]*pendingOps
	// wrote is the last status written per Deployment: this controller is the only writer of a
	// Deployment's status, so a cached copy that lags behind is not written again.
	wrote map[types.NamespacedName]writtenStatus
}

// writtenStatus is a status we wrote to one incarnation (UID) of a Deployment.
type writtenStatus struct {
	uid    types.UID
	status appsv1.DeploymentStatus
}

var _ reconcile.Reconciler = (*deploymentReconciler)(nil)

// nameStream draws pod-name suffixes for one Deployment (one incarnation: UID).
type nameStream struct {
	uid    types.UID
	stream *rng.Stream
}

// pendingOps are our creates and deletes the cache has not shown yet (controller expectations).
type pendingOps struct {
	creates map[string]time.Time
	deletes map[types.UID]time.Time
}

func newDeploymentReconciler(rt *Runtime) *deploymentReconciler {
	return &deploymentReconciler{rt: rt, wake: newWaker(rt.ctx, rt.opts.Clock),
		streams: map[types.NamespacedName]nameStream{}, pending: map[types.NamespacedName]*pendingOps{},
		wrote: map[types.NamespacedName]writtenStatus{}}
}

func (r *deploymentReconciler) setup(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("podruntime-deployment").
		For(&appsv1.Deployment{}).
		Owns(&corev1.Pod{}).
		WatchesRawSource(source.Channel(r.wake.ch, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.rt.opts.Workers}).
		Complete(r)
}

func (r *deploymentReconciler) stream(d *appsv1.Deployment) *rng.Stream {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := client.ObjectKeyFromObject(d)
	s, ok := r.streams[key]
	if !ok || s.uid != d.UID {
		s = nameStream{uid: d.UID, stream: r.rt.src.Stream("podruntime/pod-names/" + key.String())}
		r.streams[key] = s
	}
	return s.stream
}

func (r *deploymentReconciler) ops(key types.NamespacedName) *pendingOps {
	p, ok := r.pending[key]
	if !ok {
		p = &pendingOps{creates: map[string]time.Time{}, deletes: map[types.UID]time.Time{}}
		r.pending[key] = p
	}
	return p
}

// observe settles expectations against the cached pods. It returns how many of our creates are
// not in the cache yet and which pods we deleted that the cache still shows as running.
func (r *deploymentReconciler) observe(key types.NamespacedName, pods []*corev1.Pod, now time.Time) (int, map[types.UID]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.ops(key)
	byName := map[string]*corev1.Pod{}
	byUID := map[types.UID]*corev1.Pod{}
	for _, pod := range pods {
		byName[pod.Name], byUID[pod.UID] = pod, pod
	}
	unobserved := 0
	for name, at := range p.creates {
		if _, seen := byName[name]; seen || now.Sub(at) > expectationsTimeout {
			delete(p.creates, name)
			continue
		}
		unobserved++
	}
	deleting := map[types.UID]bool{}
	for uid, at := range p.deletes {
		pod, seen := byUID[uid]
		if !seen || pod.DeletionTimestamp != nil || now.Sub(at) > expectationsTimeout {
			delete(p.deletes, uid)
			continue
		}
		deleting[uid] = true
	}
	return unobserved, deleting
}

func (r *deploymentReconciler) expectCreate(key types.NamespacedName, name string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops(key).creates[name] = now
}

func (r *deploymentReconciler) expectDelete(key types.NamespacedName, uid types.UID, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops(key).deletes[uid] = now
}

func (r *deploymentReconciler) forget(key types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.pending, key)
	delete(r.streams, key)
	delete(r.wrote, key)
}

// Reconcile implements reconcile.Reconciler.
func (r *deploymentReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	d := &appsv1.Deployment{}
	if err := r.rt.client.Get(ctx, req.NamespacedName, d); err != nil {
		if apierrors.IsNotFound(err) {
			// No garbage collector runs: retire the pods of a deleted Deployment ourselves.
			r.forget(req.NamespacedName)
			return ctrl.Result{}, r.deleteOrphans(ctx, req.NamespacedName)
		}
		return ctrl.Result{}, err
	}
	if !r.rt.opts.DeploymentSelector.Matches(labels.Set(d.Labels)) {
		return ctrl.Result{}, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || sel.Empty() {
		return ctrl.Result{}, nil // invalid; the API server does not admit these
	}
	list := &corev1.PodList{}
	if err := r.rt.client.List(ctx, list, client.InNamespace(d.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return ctrl.Result{}, err
	}
	var owned []*corev1.Pod
	for i := range list.Items {
		p := &list.Items[i]
		ref := metav1.GetControllerOf(p)
		switch {
		case ref == nil:
		case ref.UID == d.UID:
			owned = append(owned, p)
		case ref.Kind == "Deployment" && ref.Name == d.Name && p.DeletionTimestamp == nil:
			// A pod of an earlier Deployment of this name: the garbage collector would delete it.
			if err := r.deletePod(ctx, p); err != nil {
				return ctrl.Result{}, err
			}
		}
	}
	now := r.rt.opts.Clock.Now()
	key := req.NamespacedName
	unobserved, deleting := r.observe(key, owned, now)
	hash := templateHash(&d.Spec.Template)
	times := r.rt.podTimes

	var newPods, oldPods []*corev1.Pod
	terminating, oldTerminating := 0, false
	for _, p := range owned {
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if p.DeletionTimestamp != nil || deleting[p.UID] {
			terminating++
			oldTerminating = oldTerminating || p.Labels[PodTemplateHashLabel] != hash
			continue
		}
		if p.Labels[PodTemplateHashLabel] == hash {
			newPods = append(newPods, p)
		} else {
			oldPods = append(oldPods, p)
		}
	}

	var plan rolloutPlan
	if d.DeletionTimestamp == nil && !d.Spec.Paused {
		plan = planRollout(rolloutInput{d: d, newPods: newPods, oldPods: oldPods, unobservedNew: unobserved,
			oldTerminating: oldTerminating, now: now, times: times})
	} else if d.DeletionTimestamp != nil {
		plan.delete = append(append(plan.delete, newPods...), oldPods...)
	}
	log := logf.FromContext(ctx)

	deleted := map[types.UID]bool{}
	for _, p := range plan.delete {
		if err := r.deletePod(ctx, p); err != nil {
			return ctrl.Result{}, err
		}
		r.expectDelete(key, p.UID, now)
		deleted[p.UID] = true
		terminating++
		log.V(1).Info("Deleted pod", "deployment", key, "pod", p.Name)
	}
	created := 0
	var createErr error
	for range plan.create {
		name, err := r.createPod(ctx, d, hash, now)
		if err != nil {
			createErr = err
			break
		}
		created++
		log.V(1).Info("Created pod", "deployment", key, "pod", name)
	}
	if d.DeletionTimestamp != nil {
		return ctrl.Result{}, createErr
	}

	var active []*corev1.Pod
	for _, p := range append(newPods, oldPods...) {
		if !deleted[p.UID] {
			active = append(active, p)
		}
	}
	status, next := deploymentStatus(statusInput{d: d, hash: hash, active: active, terminating: terminating,
		targets: len(active) + unobserved + created, createErr: createErr, now: now, times: times})
	if err := r.writeStatus(ctx, d, status); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("update status of deployment %s: %w", key, err)
	}
	r.wake.At(key, next)
	if createErr != nil && !errors.Is(createErr, context.Canceled) {
		return ctrl.Result{}, createErr
	}
	return ctrl.Result{}, nil
}

// writeStatus stores status unless the Deployment has it or it is what we last wrote (the cache
// not having caught up yet). It replaces the whole status (a JSON patch of /status) without a
// resourceVersion precondition: as the only writer of the status, a conflict with a spec
// change (a scale) would only cost a retry that writes the same.
func (r *deploymentReconciler) writeStatus(ctx context.Context, d *appsv1.Deployment, status appsv1.DeploymentStatus) error {
	key := client.ObjectKeyFromObject(d)
	r.mu.Lock()
	last, ok := r.wrote[key]
	r.mu.Unlock()
	if equality.Semantic.DeepEqual(d.Status, status) || (ok && last.uid == d.UID && equality.Semantic.DeepEqual(last.status, status)) {
		return nil
	}
	patch, err := json.Marshal([]map[string]any{{"op": "add", "path": "/status", "value": status}})
	if err != nil {
		return err
	}
	if err := r.rt.client.Status().Patch(ctx, d.DeepCopy(), client.RawPatch(types.JSONPatchType, patch)); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.wrote[key] = writtenStatus{uid: d.UID, status: status}
	return nil
}

// createPod creates one pod from the template, named like a ReplicaSet's pod.
func (r *deploymentReconciler) createPod(ctx context.Context, d *appsv1.Deployment, hash string, now time.Time) (string, error) {
	key := client.ObjectKeyFromObject(d)
	tpl := d.Spec.Template.DeepCopy()
	lbls := make(map[string]string, len(tpl.Labels)+1)
	for k, v := range tpl.Labels {
		lbls[k] = v
	}
	lbls[PodTemplateHashLabel] = hash
	stream := r.stream(d)
	var err error
	for range 5 {
		suffix := make([]byte, 5)
		for i := range suffix {
			suffix[i] = safeAlphanums[stream.IntN(len(safeAlphanums))]
		}
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name: podName(d, hash, string(suffix)), Namespace: d.Namespace,
				Labels: lbls, Annotations: tpl.Annotations, Finalizers: tpl.Finalizers,
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, appsv1.SchemeGroupVersion.WithKind("Deployment"))},
			},
			Spec: tpl.Spec,
		}
		// Expect before creating, so a watch event racing the reply still counts the pod.
		r.expectCreate(key, pod.Name, now)
		err = r.rt.client.Create(ctx, pod)
		if err == nil {
			return pod.Name, nil
		}
		r.mu.Lock()
		delete(r.ops(key).creates, pod.Name)
		r.mu.Unlock()
		if !apierrors.IsAlreadyExists(err) {
			break
		}
	}
	return "", fmt.Errorf("create pod for deployment %s: %w", key, err)
}

// deletePod deletes a pod with the default grace period: the API server only marks a bound pod
// (deletionTimestamp) and the kubelet finishes the job after draining.
func (r *deploymentReconciler) deletePod(ctx context.Context, p *corev1.Pod) error {
	uid := p.UID
	if err := r.rt.client.Delete(ctx, p, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	return nil
}

// deleteOrphans deletes the pods whose controller was the deleted Deployment key (the garbage
// collector's job; none runs against envtest).
func (r *deploymentReconciler) deleteOrphans(ctx context.Context, key types.NamespacedName) error {
	list := &corev1.PodList{}
	if err := r.rt.client.List(ctx, list, client.InNamespace(key.Namespace)); err != nil {
		return err
	}
	for i := range list.Items {
		p := &list.Items[i]
		ref := metav1.GetControllerOf(p)
		if ref == nil || ref.Kind != "Deployment" || ref.Name != key.Name || p.DeletionTimestamp != nil {
			continue
		}
		if err := r.deletePod(ctx, p); err != nil {
			return err
		}
	}
	return nil
}
