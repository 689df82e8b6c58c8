package virtual

import (
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/servingsim/servingsim/stack/activator"
	"github.com/servingsim/servingsim/stack/podruntime"
	"github.com/servingsim/servingsim/stack/queueproxy"
	"github.com/servingsim/servingsim/stack/reconciler/serverlessservice/resources"
)

// Pods: the Deployment keeps spec.replicas pods; each follows the pod runtime's plan
// (podruntime.DrawPlan: schedule → image pull → container start → startup) to Ready, then its
// readiness reaches the private Endpoints, the activators' probed backends and the gateway's
// public Endpoints after the Timing delays. A deleted pod goes not-ready at once and drains.

// scaleTo sets the Deployment's replicas and creates or deletes pods to match.
func (e *engine) scaleTo(rev *revision, n int32) {
	if n < 0 {
		return
	}
	rev.replicas = n
	e.reconcilePods(rev)
}

// reconcilePods is the Deployment controller: pods that are not terminating are the
// Deployment's; create the missing ones, delete the surplus ones like the ReplicaSet
// controller ranks victims (not yet running, then not ready, then the most recently ready).
func (e *engine) reconcilePods(rev *revision) {
	var live []*pod
	for _, p := range rev.pods {
		if p.phase != podTerminating {
			live = append(live, p)
		}
	}
	for n := int32(len(live)); n < rev.replicas; n++ {
		e.createPod(rev, e.timing.PodStart+time.Duration(n-int32(len(live)))*e.timing.PodSpacing)
	}
	surplus := len(live) - int(rev.replicas)
	if surplus <= 0 {
		return
	}
	slices.SortStableFunc(live, func(a, b *pod) int {
		if ra, rb := victimRank(a), victimRank(b); ra != rb {
			return ra - rb
		}
		switch { // newer first among equals
		case a.readyAt != b.readyAt:
			return int(b.readyAt - a.readyAt)
		default:
			return b.id - a.id
		}
	})
	for _, p := range live[:surplus] {
		e.deletePod(p)
	}
}

func victimRank(p *pod) int {
	switch p.phase {
	case podStarting:
		return 0
	case podRunning:
		return 1
	}
	return 2
}

// createPod creates a pod of rev that starts running after delay plus its plan's phases up to
// the container start.
func (e *engine) createPod(rev *revision, delay time.Duration) {
	rev.countPods(e.now)
	rev.podSeq++
	e.podIP++
	p := &pod{id: len(e.pods), ip: e.podIP, rev: rev, created: e.now, app: rev.app,
		name: fmt.Sprintf("%s-deployment-%05d", rev.name(), rev.podSeq)}
	e.pods = append(e.pods, p)
	k8sPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: rev.key.Namespace, Name: p.name, Annotations: rev.spec.Annotations}}
	// A malformed annotation falls back to the model, as the live kubelet does.
	p.plan, _ = podruntime.DrawPlan(rev.src, k8sPod, rev.spec.Startup, rev.spec.Faults)
	if d := rev.app.StartupDelay; d != nil {
		p.appStartup = d.Draw(rev.src.Stream("app/startup/" + rev.key.Namespace + "/" + p.name))
	}
	rev.pods = append(rev.pods, p)
	if e.started {
		rev.sum.PodsStarted++
		rev.sum.PeakPods = max(rev.sum.PeakPods, int32(len(rev.pods)))
	}
	e.event(EventPod, p.name, "created (%s)", rev.name())
	e.noteState(rev)
	f := p.plan.Faults
	if f.Unschedulable || f.ImagePullError {
		return // stays pending; the Deployment does not replace it
	}
	e.schedule(e.now+delay+p.plan.Schedule+p.plan.ImagePull+p.plan.ContainerStart, evPodRunning, int32(p.id), 0, p.generation)
}

func (e *engine) podEvent(ev *event) {
	p := e.pods[ev.ref]
	if ev.gen != p.generation && ev.kind != evPodEndpoints && ev.kind != evPodActivator && ev.kind != evPodGateway {
		return
	}
	add := ev.aux == 1
	switch ev.kind {
	case evPodRunning:
		e.podRunning(p)
	case evPodReady:
		e.podReady(p)
	case evPodRestart:
		e.podRestart(p)
	case evPodDrain:
		e.drainCheck(p)
	case evPodEndpoints:
		e.privateEndpoint(p, add && p.phase == podReady)
	case evPodActivator:
		e.activatorEndpoint(p, add && p.phase == podReady && p.inPrivate)
	case evPodGateway:
		e.gatewayEndpoint(p, add && p.phase == podReady && p.inPrivate)
	}
}

func (e *engine) podRunning(p *pod) {
	if p.phase != podStarting {
		return
	}
	p.phase, p.started = podRunning, e.now
	p.stats, p.hasStats = queueproxy.NewStatsCore(e.now), true
	e.toReady(p)
}

// toReady schedules readiness after the app's startup (the plan's and the app's own delay,
// whichever is longer), unless a fault keeps the pod from ever passing readiness.
func (e *engine) toReady(p *pod) {
	if f := p.plan.Faults; f.NeverReady || f.Crash {
		return
	}
	e.schedule(e.now+max(p.plan.Startup, p.appStartup), evPodReady, int32(p.id), 0, p.generation)
}

func (e *engine) podReady(p *pod) {
	if p.phase != podRunning {
		return
	}
	rev := p.rev
	p.phase, p.readyAt = podReady, e.now
	rev.readyPods++
	if e.started {
		rev.sum.PeakReady = max(rev.sum.PeakReady, rev.readyPods)
	}
	e.event(EventPod, p.name, "ready (%s) after %s", rev.name(), e.now-p.created)
	e.noteState(rev)
	e.schedule(e.now+e.timing.Endpoints, evPodEndpoints, int32(p.id), 1, 0)
	e.kickPA(rev)
}

// notReady takes a ready pod out of readiness: the count at once, the endpoints after the
// Endpoints delay.
func (e *engine) notReady(p *pod) {
	if p.phase != podReady {
		return
	}
	p.rev.readyPods--
	e.noteState(p.rev)
	if p.inPrivate {
		e.schedule(e.now+e.timing.Endpoints, evPodEndpoints, int32(p.id), 0, 0)
	}
	e.kickPA(p.rev)
}

func (e *engine) privateEndpoint(p *pod, add bool) {
	rev := p.rev
	switch {
	case add && !p.inPrivate:
		p.inPrivate = true
		rev.privateView = insertByIP(rev.privateView, p)
		e.schedule(e.now+e.timing.Probe, evPodActivator, int32(p.id), 1, 0)
		e.schedule(e.now+e.timing.PublicEndpoints, evPodGateway, int32(p.id), 1, 0)
	case !add && p.inPrivate:
		p.inPrivate = false
		rev.privateView = removeByIP(rev.privateView, p)
		e.activatorEndpoint(p, false)
		e.schedule(e.now+e.timing.PublicEndpoints, evPodGateway, int32(p.id), 0, 0)
	}
}

func (e *engine) activatorEndpoint(p *pod, add bool) {
	rev := p.rev
	switch {
	case add && !p.inActivator:
		p.inActivator = true
		rev.activatorView = insertByIP(rev.activatorView, p)
	case !add && p.inActivator:
		p.inActivator = false
		rev.activatorView = removeByIP(rev.activatorView, p)
	default:
		return
	}
	for _, th := range rev.throttles {
		if th != nil {
			e.updateBackends(th)
		}
	}
}

func (e *engine) gatewayEndpoint(p *pod, add bool) {
	rev := p.rev
	switch {
	case add && !p.inGateway:
		p.inGateway = true
		rev.gatewayView = insertByIP(rev.gatewayView, p)
	case !add && p.inGateway:
		p.inGateway = false
		rev.gatewayView = removeByIP(rev.gatewayView, p)
	default:
		return
	}
	e.updateProxied(rev)
}

// deletePod deletes p gracefully: a pod that never ran goes at once; a running one goes
// not-ready, and its queue-proxy drains (§5 Graceful drain) until the quiet period passed with
// no request in flight and the plan's drain time is over, bounded by the grace period.
func (e *engine) deletePod(p *pod) {
	switch p.phase {
	case podStarting:
		e.gone(p)
		return
	case podTerminating, podGone:
		return
	}
	e.notReady(p)
	p.phase, p.deleted, p.lastTouch = podTerminating, e.now, e.now
	p.generation++
	e.event(EventPod, p.name, "terminating (%s)", p.rev.name())
	e.schedule(e.now+max(e.quiet, p.plan.Drain), evPodDrain, int32(p.id), 0, p.generation)
}

func (e *engine) drainCheck(p *pod) {
	if p.phase != podTerminating {
		return
	}
	grace := p.deleted + p.rev.spec.Timeout
	due := max(p.lastTouch+e.quiet, p.deleted+p.plan.Drain)
	switch {
	case e.now >= grace || (e.now >= due && p.qpIn == 0):
		e.gone(p)
	case e.now < due:
		e.schedule(min(due, grace), evPodDrain, int32(p.id), 0, p.generation)
	default:
		// Requests still in flight: their end schedules the next check; the grace period
		// bounds the wait.
		e.schedule(grace, evPodDrain, int32(p.id), 0, p.generation)
	}
}

func (e *engine) gone(p *pod) {
	rev := p.rev
	rev.countPods(e.now)
	if p.phase == podReady {
		e.notReady(p)
	}
	p.phase = podGone
	p.generation++
	p.hasStats = false
	if i := slices.Index(rev.pods, p); i >= 0 {
		rev.pods = slices.Delete(rev.pods, i, i+1)
	}
	e.event(EventPod, p.name, "deleted (%s)", rev.name())
	e.noteState(rev)
	if p.inPrivate {
		e.privateEndpoint(p, false)
	}
}

// failPod crashes p's user container: the pod goes not-ready and the kubelet restarts the
// container after the plan's restart delay (podruntime Plan.Restart, as the live kubelet),
// which then starts up again.
func (e *engine) failPod(p *pod, exitCode int) {
	if !p.running() || p.phase == podTerminating {
		return
	}
	e.notReady(p)
	p.phase = podRunning
	p.generation++
	e.event(EventPod, p.name, "user container exited with code %d; restarting", exitCode)
	e.schedule(e.now+p.plan.Restart, evPodRestart, int32(p.id), 0, p.generation)
}

func (e *engine) podRestart(p *pod) {
	if p.phase != podRunning {
		return
	}
	e.toReady(p)
}

// kickPA asks the PodAutoscaler reconciler to run: it watches its revision's pods.
func (e *engine) kickPA(rev *revision) { e.reconcileAt(rev, e.now+e.timing.Reconcile) }

// reconcileAt queues a reconcile of rev at engine time at. Like a controller's work queue it
// coalesces: a reconcile already due by then covers this one, since it reads the state it
// acts on when it runs.
func (e *engine) reconcileAt(rev *revision, at time.Duration) {
	if rev.reconcilePending && rev.reconcileDue <= at {
		return
	}
	rev.reconcilePending, rev.reconcileDue = true, at
	e.schedule(at, evReconcile, int32(rev.id), 0, 0)
}

// Throttlers (§4): one per revision per activator.

func (e *engine) throttleFor(rev *revision, a *activatorState) *throttle {
	for len(rev.throttles) <= a.id {
		rev.throttles = append(rev.throttles, nil)
	}
	th := rev.throttles[a.id]
	if th == nil {
		cc := max(rev.spec.ContainerConcurrency, 0)
		th = &throttle{rev: rev, act: a, cc: cc, policy: activator.PolicyFor(cc), index: -1,
			rnd: rev.src.Stream("activator/activator-" + fmt.Sprint(a.id) + "/lb/" + rev.key.Namespace + "/" + rev.key.Name)}
		rev.throttles[a.id] = th
		e.position(th)
		e.updateBackends(th)
	}
	return th
}

// updateBackends rebuilds th's trackers from the activators' probed pods, keeping the
// in-flight counts of pods that stay, and resizes the revision breaker.
func (e *engine) updateBackends(th *throttle) {
	view := th.rev.activatorView
	next := make([]*tracker, 0, len(view))
	old := th.trackers
	i := 0
	for _, p := range view {
		for i < len(old) && old[i].pod.ip < p.ip {
			i++
		}
		if i < len(old) && old[i].pod == p {
			next = append(next, old[i])
			continue
		}
		next = append(next, &tracker{pod: p})
	}
	th.trackers = next
	e.recompute(th)
}

// recompute reassigns pods to this activator and sets the breaker's capacity (§4 Capacity):
// CC × assigned pods, unlimited for CC 0 with any pod, 0 without pods.
func (e *engine) recompute(th *throttle) {
	th.assigned = activator.AssignPods(th.trackers, th.index, th.count)
	switch {
	case len(th.trackers) == 0:
		th.capacity = 0
	case th.cc == 0:
		th.capacity = activator.UnlimitedCapacity
	default:
		th.capacity = min(th.cc*len(th.assigned), activator.UnlimitedCapacity)
	}
	e.dispatch1(th)
}

// position sets th's activator index from the revision's public endpoints when they point at
// the activators; otherwise the previous index stays, as in Knative.
func (e *engine) position(th *throttle) {
	rev := th.rev
	if !rev.proxied {
		return
	}
	ips := make([]string, len(rev.subset))
	for i, a := range rev.subset {
		ips[i] = a.ip
	}
	if idx, n, ok := activator.ActivatorPosition(ips, th.act.ip); ok && (idx != th.index || n != th.count) {
		th.index, th.count = idx, n
		e.recompute(th)
	}
}

// updateProxied follows the public Endpoints (§3.6): the activators in Proxy mode or while the
// revision has no ready private endpoints, else the pods. ProxyFor counts from the last switch
// to the activators.
func (e *engine) updateProxied(rev *revision) {
	proxied := rev.routedMode == ModeProxy || len(rev.gatewayView) == 0
	if proxied == rev.proxied {
		return
	}
	rev.proxied = proxied
	e.kickPA(rev) // the PA watches its SKS's status (ActivatorEndpointsPopulated)
	if proxied {
		rev.proxySince = e.now
		for _, th := range rev.throttles {
			if th != nil {
				e.position(th)
			}
		}
	}
}

// setSubset chooses the revision's activators: numActivators of them by the SKS's consistent
// hash on the revision name.
func (e *engine) setSubset(rev *revision, n int32) {
	if n == rev.numActivators && rev.subset != nil {
		return
	}
	rev.numActivators = n
	ips := make([]string, len(e.activators))
	for i, a := range e.activators {
		ips[i] = a.ip
	}
	chosen := resources.ChooseSubset(ips, int(n), rev.key.Name)
	rev.subset = rev.subset[:0]
	for _, a := range e.activators {
		if _, ok := chosen[a.ip]; ok {
			rev.subset = append(rev.subset, a)
		}
	}
	for _, th := range rev.throttles {
		if th != nil {
			e.position(th)
		}
	}
}
