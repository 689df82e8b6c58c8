package podruntime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
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
)

// defaultGracePeriod is the API default of terminationGracePeriodSeconds.
const defaultGracePeriod = 30 * time.Second

// readySignalGrace is how long the first status of a pod that is due Ready at once may wait for
// its sandbox's ready signal (a loopback probe, normally a few milliseconds) before it is written
// without it.
const readySignalGrace = 50 * time.Millisecond

// kubeletReconciler is the scheduler and the kubelet of the simulated node. Per pod it keeps a
// plan (drawn once) and a timeline (instants on the injected clock); every reconcile recomputes
// the status the kubelet would report at "now" from them, writes it if it changed, and asks to
// be woken at the next instant the status changes by itself.
type kubeletReconciler struct {
	rt   *Runtime
	wake *waker

	mu   sync.Mutex
	pods map[types.NamespacedName]*podState

	// adopted records that the addresses of pods already on the node (a restarted runtime) have
	// been reserved, so no new pod is handed one of them.
	adopted sync.Once
}

var _ reconcile.Reconciler = (*kubeletReconciler)(nil)

// podState is the kubelet's memory of one pod.
type podState struct {
	mu       sync.Mutex
	uid      types.UID
	plan     Plan
	observed time.Time // first seen (the scheduler's queue entry)
	tl       timeline
	ip       netip.Addr

	sandboxCtx      context.Context
	sandboxCancel   context.CancelFunc
	sandboxPod      *corev1.Pod // what Start was given; Stop gets it too
	sandboxReadyCh  <-chan struct{}
	awaitReadyUntil time.Time // how long the first status write waits for the ready signal
	wrote           []byte    // the last status written, as JSON
	boundHere       bool      // our binding of the pod succeeded
	sandboxStopped  bool
	sandboxRetryAt  time.Time
	sandboxFailures int
	readyGen        int // bumped per ready signal watched, so a stale one is ignored
	restartsDone    int // how many of tl.restarts the sandbox has carried out

	killAt         time.Time // end of the termination grace period
	modelDrained   time.Time // when the model's drain phase ends
	sandboxDrained time.Time // when Sandbox.Drain returned (zero while running)
	drainCancel    context.CancelFunc

	done bool // deleted by us: ignore stale cached copies of the pod until it is gone
}

func newKubelet(rt *Runtime) *kubeletReconciler {
	return &kubeletReconciler{rt: rt, wake: newWaker(rt.ctx, rt.opts.Clock), pods: map[types.NamespacedName]*podState{}}
}

func (k *kubeletReconciler) setup(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("podruntime-kubelet").
		For(&corev1.Pod{}).
		WatchesRawSource(source.Channel(k.wake.ch, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: k.rt.opts.Workers}).
		Complete(k)
}

// state returns the pod's state, creating it (and drawing its plan) on first sight. It returns
// nil for a pod this kubelet already deleted.
func (k *kubeletReconciler) state(ctx context.Context, pod *corev1.Pod, key types.NamespacedName) *podState {
	k.mu.Lock()
	st, ok := k.pods[key]
	if ok && st.uid == pod.UID {
		k.mu.Unlock()
		if st.done {
			return nil
		}
		return st
	}
	if ok { // same name, new pod: the old one is gone
		delete(k.pods, key)
		k.mu.Unlock()
		k.release(st)
		k.mu.Lock()
	}
	p, err := drawPlan(k.rt.src, pod, k.rt.opts.Startup, k.rt.opts.Faults)
	if err != nil {
		logf.FromContext(ctx).Error(err, "Ignoring malformed pod-runtime annotations", "pod", key)
	}
	sctx, cancel := context.WithCancel(k.rt.ctx)
	st = &podState{uid: pod.UID, plan: p, observed: k.rt.opts.Clock.Now(), sandboxCtx: sctx, sandboxCancel: cancel}
	k.pods[key] = st
	k.mu.Unlock()
	return st
}

// forget drops a pod that is gone: its sandbox is stopped and its IP freed.
func (k *kubeletReconciler) forget(key types.NamespacedName) {
	k.mu.Lock()
	st, ok := k.pods[key]
	delete(k.pods, key)
	k.mu.Unlock()
	if ok {
		k.release(st)
	}
}

func (k *kubeletReconciler) release(st *podState) {
	st.mu.Lock()
	defer st.mu.Unlock()
	k.stopSandbox(st)
	if st.ip.IsValid() {
		k.rt.ips.Release(st.ip)
		st.ip = netip.Addr{}
	}
}

func (k *kubeletReconciler) stopSandbox(st *podState) {
	if st.drainCancel != nil {
		st.drainCancel()
	}
	if st.sandboxPod != nil && !st.sandboxStopped {
		st.sandboxStopped = true
		k.rt.opts.Sandbox.Stop(st.sandboxPod)
	}
	st.sandboxCancel()
}

// stopAll stops every sandbox (runtime shutdown).
func (k *kubeletReconciler) stopAll() {
	k.mu.Lock()
	all := make([]*podState, 0, len(k.pods))
	for _, st := range k.pods {
		all = append(all, st)
	}
	k.mu.Unlock()
	for _, st := range all {
		st.mu.Lock()
		k.stopSandbox(st)
		st.mu.Unlock()
	}
}

// Reconcile implements reconcile.Reconciler.
func (k *kubeletReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	pod := &corev1.Pod{}
	if err := k.rt.client.Get(ctx, req.NamespacedName, pod); err != nil {
		if apierrors.IsNotFound(err) {
			k.forget(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	st := k.state(ctx, pod, req.NamespacedName)
	if st == nil {
		return ctrl.Result{}, nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	now := k.rt.opts.Clock.Now()
	if pod.Spec.NodeName == "" && st.boundHere {
		// We bound it; the cached copy predates the binding's watch event.
		pod.Spec.NodeName = k.rt.opts.NodeName
	}
	switch pod.Spec.NodeName {
	case "":
		return ctrl.Result{}, k.schedule(ctx, pod, st, now)
	case k.rt.opts.NodeName:
		return ctrl.Result{}, k.sync(ctx, pod, st, now)
	default:
		return ctrl.Result{}, nil // another node's pod: nobody runs it
	}
}

// schedule is the scheduler: after the schedule delay it binds the pod to the node, or reports
// it Unschedulable.
func (k *kubeletReconciler) schedule(ctx context.Context, pod *corev1.Pod, st *podState, now time.Time) error {
	if pod.DeletionTimestamp != nil || len(pod.Spec.SchedulingGates) > 0 ||
		(pod.Spec.SchedulerName != "" && pod.Spec.SchedulerName != corev1.DefaultSchedulerName) {
		return nil
	}
	key := client.ObjectKeyFromObject(pod)
	due := st.observed.Add(st.plan.Schedule)
	if now.Before(due) {
		k.wake.At(key, due)
		return nil
	}
	if msg := k.unschedulable(pod, st.plan); msg != "" {
		return k.patchStatus(ctx, pod, st, unschedulableStatus(pod, msg, due))
	}
	// With no image pull or container start delay the containers run the moment the pod is
	// bound: start the sandbox before the binding round trip, so its readiness probe runs
	// meanwhile and the kubelet's first status can already say Ready (one write, not two).
	if st.plan.ImagePull == 0 && st.plan.ContainerStart == 0 {
		bound := pod.DeepCopy()
		bound.Spec.NodeName = k.rt.opts.NodeName
		if err := k.place(ctx, bound, st, now); err != nil {
			return err
		}
		k.startSandboxIfDue(ctx, key, bound, st, now)
	}
	binding := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Target:     corev1.ObjectReference{APIVersion: "v1", Kind: "Node", Name: k.rt.opts.NodeName},
	}
	if err := k.rt.client.SubResource("binding").Create(ctx, pod, binding); err != nil {
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			return nil // already bound or gone; the watch brings the news
		}
		return fmt.Errorf("bind pod %s: %w", key, err)
	}
	logf.FromContext(ctx).V(1).Info("Bound pod", "pod", key, "node", k.rt.opts.NodeName)
	st.boundHere = true
	pod.Spec.NodeName = k.rt.opts.NodeName
	// The binding took a round trip: report the status as of now.
	return k.sync(ctx, pod, st, k.rt.opts.Clock.Now())
}

// unschedulable returns the scheduler's message for a pod that fits no node, or "".
func (k *kubeletReconciler) unschedulable(pod *corev1.Pod, p Plan) string {
	if p.Faults.Unschedulable {
		return p.Faults.UnschedulableMessage
	}
	if len(pod.Spec.NodeSelector) > 0 &&
		!labels.SelectorFromSet(pod.Spec.NodeSelector).Matches(labels.Set(k.rt.desiredNode().Labels)) {
		return "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
	}
	return ""
}

// adoptAddresses reserves the IPs of every pod already bound to the node (the cache is synced
// before the first reconcile).
func (k *kubeletReconciler) adoptAddresses(ctx context.Context) {
	list := &corev1.PodList{}
	if err := k.rt.client.List(ctx, list); err != nil {
		logf.FromContext(ctx).Error(err, "Listing pods to adopt their addresses")
		return
	}
	for i := range list.Items {
		p := &list.Items[i]
		if p.Spec.NodeName != k.rt.opts.NodeName {
			continue
		}
		if ip, err := netip.ParseAddr(p.Status.PodIP); err == nil {
			k.rt.ips.Reserve(ip)
		}
	}
}

// sync is the kubelet for a bound pod.
func (k *kubeletReconciler) sync(ctx context.Context, pod *corev1.Pod, st *podState, now time.Time) error {
	key := client.ObjectKeyFromObject(pod)
	if err := k.place(ctx, pod, st, now); err != nil {
		return err
	}
	if pod.DeletionTimestamp != nil {
		return k.terminate(ctx, pod, st, now)
	}
	retryAt := earliest(k.startSandboxIfDue(ctx, key, pod, st, now), k.restartContainerIfDue(ctx, key, st, now))
	// A ready signal that arrived while this reconcile held the pod's lock counts now.
	if st.tl.sandboxStarted && st.tl.sandboxReady.IsZero() && st.sandboxReadyCh != nil {
		select {
		case <-st.sandboxReadyCh:
			st.tl.sandboxReady = now
		default:
		}
	}
	// When the pod is due to be Ready the moment it runs, its first status after the sandbox
	// started waits briefly for the sandbox's ready signal, whose arrival wakes the pod: Running
	// and Ready then go out in one write instead of two.
	if st.tl.sandboxStarted && st.tl.sandboxReady.IsZero() && st.plan.healthy() && st.plan.Startup == 0 &&
		pod.Status.Phase == corev1.PodPending {
		if st.awaitReadyUntil.IsZero() {
			st.awaitReadyUntil = now.Add(readySignalGrace)
		}
		if now.Before(st.awaitReadyUntil) {
			k.wake.At(key, st.awaitReadyUntil)
			return nil
		}
	}
	status, next := buildPodStatus(pod, st.plan, st.tl, st.ip.String(), NodeIP.String(), now)
	next = earliest(next, retryAt)
	if err := k.patchStatus(ctx, pod, st, status); err != nil {
		return err
	}
	k.wake.At(key, next)
	return nil
}

// place records when the pod was first seen bound and gives it an address; a pod that already
// runs (the runtime restarted) keeps its address and start time.
func (k *kubeletReconciler) place(ctx context.Context, pod *corev1.Pod, st *podState, now time.Time) error {
	k.adopted.Do(func() { k.adoptAddresses(ctx) })
	if st.tl.bound.IsZero() {
		st.tl.bound = now
		if ip, err := netip.ParseAddr(pod.Status.PodIP); err == nil {
			k.rt.ips.Reserve(ip)
			st.ip = ip
			if pod.Status.StartTime != nil && pod.Status.StartTime.Time.Before(now) {
				st.tl.bound = pod.Status.StartTime.Time
			}
		}
	}
	if !st.ip.IsValid() {
		ip, err := k.rt.ips.Allocate()
		if err != nil {
			return fmt.Errorf("pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
		st.ip = ip
	}
	return nil
}

// startSandboxIfDue starts the sandbox once the plan says the containers run (never for a pod
// whose container crashes or whose image cannot be pulled). It returns when to retry a failed
// start, zero when there is nothing to retry.
func (k *kubeletReconciler) startSandboxIfDue(ctx context.Context, key types.NamespacedName, pod *corev1.Pod, st *podState, now time.Time) time.Time {
	canStart := !st.plan.Faults.Crash && !st.plan.Faults.ImagePullError
	if !canStart || st.tl.sandboxStarted || now.Before(st.plan.startedAt(st.tl)) {
		return time.Time{}
	}
	if now.Before(st.sandboxRetryAt) {
		return st.sandboxRetryAt
	}
	started := pod.DeepCopy()
	started.Status, _ = buildPodStatus(pod, st.plan, st.tl, st.ip.String(), NodeIP.String(), now)
	k.startSandbox(ctx, key, started, st, now)
	if st.tl.sandboxStarted {
		return time.Time{}
	}
	return st.sandboxRetryAt
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// startSandbox calls Sandbox.Start; its ready signal re-enqueues the pod.
func (k *kubeletReconciler) startSandbox(ctx context.Context, key types.NamespacedName, pod *corev1.Pod, st *podState, now time.Time) {
	ready, err := k.rt.opts.Sandbox.Start(st.sandboxCtx, pod)
	if err != nil {
		st.sandboxRetryAt = now.Add(backOff(st.sandboxFailures))
		st.sandboxFailures++
		logf.FromContext(ctx).Error(err, "Starting sandbox", "pod", key, "retryAt", st.sandboxRetryAt)
		return
	}
	st.tl.sandboxStarted = true
	st.sandboxPod = pod
	k.watchReady(key, st, ready, now)
}

// watchReady records the sandbox's ready signal in the timeline and wakes the pod when it
// comes. A signal from before the user container's latest exit is ignored.
func (k *kubeletReconciler) watchReady(key types.NamespacedName, st *podState, ready <-chan struct{}, now time.Time) {
	st.readyGen++
	gen := st.readyGen
	st.sandboxReadyCh = ready
	select {
	case <-ready:
		st.tl.sandboxReady = now
		return
	default:
	}
	go func() {
		select {
		case <-ready:
		case <-st.sandboxCtx.Done():
			return
		}
		st.mu.Lock()
		if !st.sandboxStopped && st.readyGen == gen && st.tl.sandboxReady.IsZero() {
			st.tl.sandboxReady = k.rt.opts.Clock.Now()
		}
		st.mu.Unlock()
		k.wake.Now(key)
	}()
}

// failContainer is Runtime.FailContainer.
func (k *kubeletReconciler) failContainer(key types.NamespacedName, exitCode int32) error {
	k.mu.Lock()
	st, ok := k.pods[key]
	k.mu.Unlock()
	if !ok || st.done {
		return fmt.Errorf("pod %s does not run on node", key)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	now := k.rt.opts.Clock.Now()
	switch {
	case !st.tl.deleting.IsZero():
		return fmt.Errorf("pod %s is terminating", key)
	case st.tl.bound.IsZero() || now.Before(st.plan.startedAt(st.tl)):
		return fmt.Errorf("pod %s: containers not running yet", key)
	case !st.plan.healthy():
		return fmt.Errorf("pod %s: user container never runs healthy (a crash, image-pull or never-ready fault)", key)
	case st.tl.restartPending(now) || st.restartsDone < len(st.tl.restarts):
		return fmt.Errorf("pod %s: user container already exited and is restarting", key)
	}
	st.tl.restarts = append(st.tl.restarts, containerRestart{exited: now, exitCode: exitCode, restartAt: now.Add(st.plan.Restart)})
	st.tl.sandboxReady, st.sandboxReadyCh = time.Time{}, nil
	st.readyGen++
	if cr, ok := k.rt.opts.Sandbox.(ContainerRestarter); ok && st.tl.sandboxStarted && !st.sandboxStopped {
		cr.KillContainer(st.sandboxPod)
	}
	k.wake.Now(key)
	return nil
}

// restartContainerIfDue restarts the user container once the latest exit's restart is due. It
// returns when to come back (the restart, or a retry of a failed one), zero when done.
func (k *kubeletReconciler) restartContainerIfDue(ctx context.Context, key types.NamespacedName, st *podState, now time.Time) time.Time {
	n := len(st.tl.restarts)
	if n == 0 || st.restartsDone == n {
		return time.Time{}
	}
	if due := st.tl.restarts[n-1].restartAt; now.Before(due) {
		return due
	}
	cr, ok := k.rt.opts.Sandbox.(ContainerRestarter)
	if !ok || !st.tl.sandboxStarted || st.sandboxStopped {
		st.restartsDone = n
		if st.tl.sandboxStarted {
			st.tl.sandboxReady = now // nothing to probe: ready once running
		}
		return time.Time{}
	}
	if now.Before(st.sandboxRetryAt) {
		return st.sandboxRetryAt
	}
	ready, err := cr.RestartContainer(st.sandboxCtx, st.sandboxPod)
	if err != nil {
		st.sandboxRetryAt = now.Add(backOff(st.sandboxFailures))
		st.sandboxFailures++
		logf.FromContext(ctx).Error(err, "Restarting user container", "pod", key, "retryAt", st.sandboxRetryAt)
		return st.sandboxRetryAt
	}
	st.restartsDone = n
	k.watchReady(key, st, ready, now)
	return time.Time{}
}

// gracePeriod is how long a deleted pod may take to terminate.
func gracePeriod(pod *corev1.Pod) time.Duration {
	switch {
	case pod.DeletionGracePeriodSeconds != nil:
		return time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		return time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	return defaultGracePeriod
}

// terminate runs a graceful termination: mark the pod not-ready, drain (the model's drain delay
// and Sandbox.Drain, bounded by the grace period), let the containers exit, write the final
// status and delete the pod with grace period 0, as the kubelet does once it is done.
func (k *kubeletReconciler) terminate(ctx context.Context, pod *corev1.Pod, st *podState, now time.Time) error {
	key := client.ObjectKeyFromObject(pod)
	if st.tl.deleting.IsZero() {
		st.tl.deleting = now
		st.killAt = now.Add(gracePeriod(pod))
		running := !now.Before(st.plan.startedAt(st.tl))
		st.modelDrained = now
		if running {
			st.modelDrained = now.Add(st.plan.Drain)
		}
		if st.tl.sandboxStarted && !st.sandboxStopped {
			dctx, cancel := context.WithCancel(st.sandboxCtx)
			st.drainCancel = cancel
			draining := pod.DeepCopy()
			go func() {
				err := k.rt.opts.Sandbox.Drain(dctx, draining)
				if err != nil && dctx.Err() == nil {
					logf.FromContext(ctx).Error(err, "Draining sandbox", "pod", key)
				}
				st.mu.Lock()
				if st.sandboxDrained.IsZero() {
					st.sandboxDrained = k.rt.opts.Clock.Now()
				}
				st.mu.Unlock()
				k.wake.Now(key)
			}()
		} else {
			st.sandboxDrained = now
		}
	}
	drained := !st.sandboxDrained.IsZero() && !now.Before(st.modelDrained)
	if !drained && now.Before(st.killAt) {
		status, _ := buildPodStatus(pod, st.plan, st.tl, st.ip.String(), NodeIP.String(), now)
		if err := k.patchStatus(ctx, pod, st, status); err != nil {
			return err
		}
		next := st.killAt
		if now.Before(st.modelDrained) {
			next = earliest(next, st.modelDrained)
		}
		k.wake.At(key, next)
		return nil
	}
	if st.tl.finished.IsZero() {
		st.tl.finished = now
		st.tl.killed = !drained
	}
	k.stopSandbox(st)
	status, _ := buildPodStatus(pod, st.plan, st.tl, st.ip.String(), NodeIP.String(), now)
	if err := k.patchStatus(ctx, pod, st, status); err != nil {
		return err
	}
	uid := pod.UID
	err := k.rt.client.Delete(ctx, pod, client.GracePeriodSeconds(0), client.Preconditions{UID: &uid})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete pod %s: %w", key, err)
	}
	logf.FromContext(ctx).V(1).Info("Deleted pod", "pod", key, "killed", st.tl.killed)
	if st.ip.IsValid() {
		k.rt.ips.Release(st.ip)
		st.ip = netip.Addr{}
	}
	st.done = true
	return nil
}

// patchStatus writes status unless the pod already has it. JSON comparison matches what the API
// stores (times at second precision). The kubelet is the only writer of a pod's status, so a
// status it already wrote for this pod is not written again because the cached copy lags
// behind (the binding's watch event, say, arriving before that of the status write).
func (k *kubeletReconciler) patchStatus(ctx context.Context, pod *corev1.Pod, st *podState, status corev1.PodStatus) error {
	have, err := json.Marshal(pod.Status)
	if err != nil {
		return err
	}
	want, err := json.Marshal(status)
	if err != nil {
		return err
	}
	if bytes.Equal(have, want) || bytes.Equal(want, st.wrote) {
		return nil
	}
	updated := pod.DeepCopy()
	updated.Status = status
	if err := k.rt.client.Status().Patch(ctx, updated, client.MergeFrom(pod)); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("update status of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	st.wrote = want
	return nil
}

// podTimes returns when a pod was created and since when it has been Ready, from the kubelet's
// memory (precise instants on the injected clock) where it has them, else from the API fields.
func (r *Runtime) podTimes(p *corev1.Pod) (time.Time, time.Time) {
	created, ready := metadataTimes(p)
	if r.kubelet == nil {
		return created, ready
	}
	k := r.kubelet
	k.mu.Lock()
	st, ok := k.pods[client.ObjectKeyFromObject(p)]
	k.mu.Unlock()
	if !ok || st.uid != p.UID {
		return created, ready
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	created = st.observed
	if !ready.IsZero() {
		if at := st.plan.readyAt(st.tl); !at.IsZero() {
			ready = at
		}
	}
	return created, ready
}
