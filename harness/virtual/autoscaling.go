package virtual

import (
	"fmt"
	"math"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/autoscaler"
	paresources "github.com/servingsim/servingsim/stack/reconciler/podautoscaler/resources"
)

// Timings of the PodAutoscaler's scale-to-zero rules (§3.5.4), as stack/reconciler/podautoscaler
// has them.
const (
	activationTimeoutBuffer = 30 * time.Second
	proxyRecheckDelay       = 3 * time.Second
	activatorProbeRetry     = time.Second
	defaultRevisionTimeout  = 300 * time.Second
)

func (e *engine) createConfiguration(c Configuration) error {
	if _, dup := e.configs[c.Name]; dup {
		return fmt.Errorf("virtual: configuration %q is defined twice", c.Name)
	}
	cfg := &configuration{name: c.Name}
	e.configs[c.Name] = cfg
	return e.createRevision(cfg, c.Revision)
}

// createRevision is the Revision reconciler's work: a Deployment at the initial scale (§1.5)
// and a PodAutoscaler with its decider (§3.2) and an SKS in Proxy mode (§3.5.1).
func (e *engine) createRevision(c *configuration, spec RevisionSpec) error {
	if _, dup := e.revByName[spec.Name]; dup {
		return fmt.Errorf("virtual: revision %q already exists", spec.Name)
	}
	if spec.Timeout <= 0 {
		spec.Timeout = defaultRevisionTimeout
	}
	now := e.now
	rev := &revision{
		id: len(e.revisions), key: types.NamespacedName{Namespace: e.ns, Name: spec.Name}, config: c, src: e.src,
		spec: spec, app: spec.App, created: now, desiredScale: -1, active: condUnknown, activeSince: now,
		sksMode: ModeProxy, routedMode: ModeProxy, proxied: true, proxySince: now, lastCount: now, areaSince: now,
	}
	rev.pa = &autoscalingv1alpha1.PodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: spec.Name, Annotations: spec.Annotations},
		Spec:       autoscalingv1alpha1.PodAutoscalerSpec{ContainerConcurrency: int64(max(spec.ContainerConcurrency, 0))},
	}
	rev.dspec = autoscaler.MakeDeciderSpec(rev.pa, e.cfg.Autoscaler)
	rev.collector = autoscaler.NewCollector(autoscaler.MakeMetricSpec(rev.pa, e.cfg.Autoscaler))
	rev.scaler = autoscaler.NewScaler(rev.dspec, 0, e.wall(now))
	rev.scrapeStream = e.src.Stream("kpa/scrape/" + e.ns + "/" + spec.Name)
	e.revisions = append(e.revisions, rev)
	e.revByName[spec.Name] = rev
	c.revisions = append(c.revisions, rev)
	e.setSubset(rev, paresources.MinActivators)
	e.noteState(rev)
	e.scaleTo(rev, autoscaler.InitialScale(spec.Annotations, e.cfg.Autoscaler))
	e.kickPA(rev)
	return nil
}

// recordStat is the autoscaler's stat sink (§3.3.4): record, and poke a revision whose standing
// desired scale is 0 when the stat shows concurrency (the scale-from-zero trigger, §3.3.3).
func (e *engine) recordStat(rev *revision, st autoscaler.Stat) {
	rev.collector.Record(e.wall(e.now), st)
	if !rev.pokePending && st.AverageConcurrency != 0 && rev.scaler.Decision().DesiredScale == 0 {
		rev.pokePending = true
		e.schedule(e.now, evPoke, int32(rev.id), 0, 0)
	}
}

// scrape is one collection tick (§3.3.2): sample the ready pods' last queue-proxy stats,
// preferring pods up for a stable window, extrapolate to the revision and record.
func (e *engine) scrape(rev *revision) {
	spec := rev.collector.Spec()
	if !spec.Scraped || rev.readyPods == 0 {
		return
	}
	older, younger := e.scratch.older[:0], e.scratch.younger[:0]
	for _, p := range rev.pods {
		if p.phase != podReady {
			continue
		}
		if e.now-p.started >= spec.StableWindow {
			older = append(older, p)
		} else {
			younger = append(younger, p)
		}
	}
	e.scratch.older, e.scratch.younger = older, younger
	population := len(older) + len(younger)
	size := autoscaler.SampleSize(population)
	// Knative's scrapePods order: every old pod then the young ones shuffled, or the old ones
	// shuffled when there are enough of them; every scrape succeeds here.
	if len(older) < size {
		shuffle(younger, rev.scrapeStream)
	} else {
		shuffle(older, rev.scrapeStream)
	}
	sampled := e.scratchStats(size)
	for _, p := range older {
		if len(sampled) == size {
			break
		}
		sampled = append(sampled, p.lastStat)
	}
	for _, p := range younger {
		if len(sampled) == size {
			break
		}
		sampled = append(sampled, p.lastStat)
	}
	if st, ok := autoscaler.Extrapolate(sampled, population); ok {
		rev.collector.Record(e.wall(e.now), st)
	}
}

func (e *engine) scratchStats(n int) []autoscaler.Stat {
	if cap(e.statBuf) < n {
		e.statBuf = make([]autoscaler.Stat, 0, n)
	}
	return e.statBuf[:0]
}

func shuffle(s []*pod, r interface{ IntN(int) int }) {
	for i := len(s) - 1; i > 0; i-- {
		j := r.IntN(i + 1)
		s[i], s[j] = s[j], s[i]
	}
}

// decide is one decider tick (the KPA's, §3.4): count the ready pods, Scale, record the
// decision, and poke the PA reconciler when the desired scale changed or the excess burst
// capacity changed sign.
func (e *engine) decide(rev *revision) {
	ready := rev.readyPods
	before := rev.scaler.Decision()
	r := rev.scaler.Scale(e.wall(e.now), ready, rev.collector)
	after := rev.scaler.Decision()
	if r.ScaleValid {
		rev.last = r
	}
	if !e.spec.Discard.Decisions {
		want := boundedWant(after.DesiredScale, rev.dspec)
		e.res.Decisions = append(e.res.Decisions, Decision{
			Time: e.now, Revision: rev.name(), ReadyPods: ready, Stable: r.Stable, Panic: r.Panic,
			Target: rev.dspec.TargetValue, DesiredPods: r.DesiredPodCount, ExcessBurstCapacity: r.ExcessBurstCapacity,
			Panicking: r.Panicking, Mode: string(paresources.SKSMode(want, after.ExcessBurstCapacity)),
		})
	}
	if r.ScaleValid && (before.DesiredScale != after.DesiredScale || !sameSign(before.ExcessBurstCapacity, after.ExcessBurstCapacity)) {
		e.kickPA(rev)
	}
}

// boundedWant is the PA's want for a desired scale, within [min, max] once decided (§3.5.3).
func boundedWant(desired int32, spec autoscaler.DeciderSpec) int32 {
	if desired < 0 {
		return desired
	}
	desired = max(desired, spec.MinScale)
	if spec.MaxScale > 0 {
		desired = min(desired, spec.MaxScale)
	}
	return desired
}

// sameSign is Knative's sign test on the EBC: 0 counts as positive.
func sameSign(a, b int32) bool { return (a&math.MinInt32)^(b&math.MinInt32) == 0 }

// reconcile is the PodAutoscaler reconciler (§3.5): scale within the bounds and the
// scale-to-zero rules, then the SKS mode and activator count, then the PA status.
func (e *engine) reconcile(rev *revision) {
	if rev.reconcilePending && e.now >= rev.reconcileDue {
		rev.reconcilePending = false
	}
	if !rev.loops {
		// The first reconcile creates the decider; its scrape and decision loops tick from now.
		rev.loops = true
		e.schedule(e.now+time.Second, evRevisionTick, int32(rev.id), 1, 0)
	}
	decision := rev.scaler.Decision()
	want, apply, requeue := e.decideScale(rev, decision.DesiredScale)
	if apply {
		e.scaleTo(rev, want)
	}
	mode := string(paresources.SKSMode(want, decision.ExcessBurstCapacity))
	e.setSKS(rev, mode, paresources.NumActivators(int(rev.readyPods), rev.dspec))
	e.computeStatus(rev, want)
	if requeue > 0 {
		e.reconcileAt(rev, e.now+requeue)
	}
}

// decideScale applies the bounds and the scale-to-zero rules to the decider's wish (§3.5.3):
// nothing happens without a decision unless the PA is activating; min-scale is ignored while
// Unreachable; initial-scale raises min until ScaleTargetInitialized.
func (e *engine) decideScale(rev *revision, desired int32) (want int32, apply bool, requeue time.Duration) {
	if desired < 0 && rev.active != condUnknown {
		return desired, false, 0
	}
	as := e.cfg.Autoscaler
	minScale, maxScale := autoscaler.ScaleBounds(rev.pa, as)
	initial := autoscaler.InitialScale(rev.pa.Annotations, as)
	if initial > 1 && !rev.initialized && rev.pa.Spec.Reachability != autoscalingv1alpha1.ReachabilityUnreachable {
		minScale = max(minScale, initial)
	}
	want = desired
	if want < minScale {
		want = minScale
	}
	if maxScale != 0 && want > maxScale {
		want = maxScale
	}
	return e.handleScaleToZero(rev, want)
}

// handleScaleToZero decides what a wish of 0 pods means (§3.5.4).
func (e *engine) handleScaleToZero(rev *revision, want int32) (int32, bool, time.Duration) {
	if want != 0 {
		return want, true, 0
	}
	as := e.cfg.Autoscaler
	if !as.EnableScaleToZero {
		return 1, true, 0
	}
	annos := rev.pa.Annotations
	since := e.now - rev.activeSince
	switch rev.active {
	case condUnknown: // activating
		timeout := autoscaler.ProgressDeadline(annos, e.cfg.Deployment) + activationTimeoutBuffer
		if since > timeout {
			return 0, true, 0
		}
		return autoscaler.ScaleUnknown, false, timeout - since + time.Second
	case condTrue:
		window := autoscaler.StableWindow(annos, as)
		if since >= window {
			if rev.sksMode == ModeProxy {
				return 0, false, proxyRecheckDelay
			}
			return 0, false, 0
		}
		return 1, true, window - since
	}
	// Inactive: the activator must be in the path (the activator probe of the public service)
	// unless TBC is -1.
	if autoscaler.TargetBurstCapacity(annos, as) != -1 && !rev.proxied {
		return 0, false, activatorProbeRetry
	}
	retention := autoscaler.ScaleToZeroPodRetention(annos, as)
	if since >= max(as.ScaleToZeroGracePeriod, retention) {
		return 0, true, 0
	}
	if retention > 0 && since < retention {
		return 0, false, retention - since
	}
	proxyFor := time.Duration(0)
	if rev.proxied {
		proxyFor = e.now - rev.proxySince
	}
	if wait := as.ScaleToZeroGracePeriod - proxyFor; wait > 0 {
		return 0, false, wait
	}
	return 0, true, 0
}

// computeStatus sets desiredScale, ScaleTargetInitialized and Active (§3.5.7); the revision is
// Ready once its scale target is initialized.
func (e *engine) computeStatus(rev *revision, want int32) {
	ready := rev.readyPods
	if want >= 0 || rev.desiredScale < 0 {
		rev.desiredScale = want
		e.noteState(rev)
	}
	minReady := e.activeThreshold(rev)
	if ready >= minReady && !rev.initialized {
		rev.initialized = true
		e.revisionReady(rev)
	}
	inactive := rev.active == condFalse
	switch {
	case want == 0 || minReady == 0:
		if rev.active == condUnknown && minReady > 0 {
			e.setActive(rev, condFalse, "TimedOut")
		} else {
			e.setActive(rev, condFalse, "NoTraffic")
		}
	case ready < minReady:
		if want > 0 || !inactive {
			e.setActive(rev, condUnknown, "Queued")
		} else {
			e.setActive(rev, condFalse, "NoTraffic")
		}
	default:
		if want > 0 || !inactive {
			e.setActive(rev, condTrue, "")
		}
	}
}

func (e *engine) activeThreshold(rev *revision) int32 {
	minScale, _ := autoscaler.ScaleBounds(rev.pa, e.cfg.Autoscaler)
	if !rev.initialized {
		return max(minScale, autoscaler.InitialScale(rev.pa.Annotations, e.cfg.Autoscaler))
	}
	return max(minScale, 1)
}

// setActive changes the Active condition; its transition time moves only when status or reason
// change. The reconciler watches its PodAutoscaler, so the status write queues another
// reconcile: a PA gone Inactive in Proxy mode scales to zero then, not at the 3s requeue
// (§3.5.4).
func (e *engine) setActive(rev *revision, c condition, reason string) {
	if rev.active == c && rev.activeReason == reason {
		return
	}
	rev.active, rev.activeReason, rev.activeSince = c, reason, e.now
	e.kickPA(rev)
}

// setSKS is the PA's write of its SKS spec (§3.5.5, §3.5.6): the mode reaches the public
// Endpoints after the PublicEndpoints delay; the activator subset follows at once.
func (e *engine) setSKS(rev *revision, mode string, numActivators int32) {
	if mode != rev.sksMode {
		e.event(EventSKS, rev.name(), "%s → %s", rev.sksMode, mode)
		rev.sksMode = mode
		e.noteState(rev)
		code := int32(0)
		if mode == ModeServe {
			code = 1
		}
		e.schedule(e.now+e.timing.PublicEndpoints, evSKS, int32(rev.id), code, 0)
	}
	e.setSubset(rev, numActivators)
}

func (e *engine) sksRouted(rev *revision, code int32) {
	mode := ModeProxy
	if code == 1 {
		mode = ModeServe
	}
	if mode != rev.sksMode {
		return // superseded by a later change
	}
	rev.routedMode = mode
	e.updateProxied(rev)
}

// refreshSpecs rebuilds every revision's decider and metric spec, after a config change or a
// reachability change.
func (e *engine) refreshSpec(rev *revision) {
	rev.dspec = autoscaler.MakeDeciderSpec(rev.pa, e.cfg.Autoscaler)
	rev.scaler.Update(rev.dspec)
	rev.collector.Update(autoscaler.MakeMetricSpec(rev.pa, e.cfg.Autoscaler))
	e.kickPA(rev)
}
