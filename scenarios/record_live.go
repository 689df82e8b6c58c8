package scenarios

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/servingsim/servingsim/harness"
	"github.com/servingsim/servingsim/reports"
	"github.com/servingsim/servingsim/scenarios/recording"
	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/kpa"
	"github.com/servingsim/servingsim/stack/queueproxy"
)

// samplePeriod is how often the live recorder samples what has no watch: activator queues
// and the apps' in-flight high-water marks.
const samplePeriod = 100 * time.Millisecond

// liveRecorder watches one namespace of a running stack: pods, PodAutoscalers,
// ServerlessServices and Revisions through the manager's informers, the KPA's decisions, and
// (sampled) the activators' queues and the apps' concurrency. Times are wall-clock; finish
// turns them into offsets from time zero.
type liveRecorder struct {
	st      *harness.Stack
	ns      string
	clk     clock.PassiveClock
	sandbox *queueproxy.Sandbox // nil when the stack runs another sandbox

	mu        sync.Mutex
	zero      time.Time
	states    []timedState
	cur       map[string]RevisionState // by revision
	pods      map[string]podInfo       // by pod name
	revisions map[string]revisionInfo  // by revision name
	decisions []kpa.DecisionEvent
	events    []timedEvent
	appMax    map[string]int
	queue     map[string]map[int]int // revision → second → most buffered

	stops    []func()
	done     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

type timedState struct {
	at time.Time
	RevisionState
}

type timedEvent struct {
	at time.Time
	reports.Event
}

type podInfo struct {
	revision           string
	ready, terminating bool
}

type revisionInfo struct {
	owner      string
	generation int
	created    time.Time
}

// startLiveRecorder starts watching namespace ns of st. Call stop (once) to end it.
func startLiveRecorder(ctx context.Context, st *harness.Stack, ns string, sandbox *queueproxy.Sandbox, clk clock.PassiveClock) (*liveRecorder, error) {
	r := &liveRecorder{st: st, ns: ns, clk: clk, sandbox: sandbox, cur: map[string]RevisionState{}, pods: map[string]podInfo{},
		revisions: map[string]revisionInfo{}, appMax: map[string]int{}, queue: map[string]map[int]int{}, done: make(chan struct{})}
	if r.sandbox == nil {
		r.sandbox = st.System.Pods
	}
	stop, err := recording.Watch(ctx, st.System.Manager.GetCache(), []recording.Handler{
		{Obj: &corev1.Pod{}, On: r.onPod},
		{Obj: &autoscalingv1alpha1.PodAutoscaler{}, On: r.onPA},
		{Obj: &netv1alpha1.ServerlessService{}, On: r.onSKS},
		{Obj: &servingv1.Revision{}, On: r.onRevision},
	})
	if err != nil {
		r.stop()
		return nil, err
	}
	r.stops = append(r.stops, stop)
	if k := st.System.KPA; k != nil {
		r.stops = append(r.stops, k.Subscribe(r.onDecision))
	}
	r.wg.Add(1)
	go r.sampleLoop()
	return r, nil
}

// stop ends every watch and the sampler; what was recorded stays.
func (r *liveRecorder) stop() {
	r.stopOnce.Do(func() {
		close(r.done)
		r.wg.Wait()
		for _, s := range r.stops {
			s()
		}
		r.sample() // the last high-water marks
	})
}

// startClock sets time zero.
func (r *liveRecorder) startClock(t time.Time) {
	r.mu.Lock()
	r.zero = t
	r.mu.Unlock()
}

// object unwraps an informer's delete tombstone.
func object(o any) client.Object {
	if t, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
		o = t.Obj
	}
	co, _ := o.(client.Object)
	return co
}

func (r *liveRecorder) onPod(o any, deleted bool) {
	pod, ok := object(o).(*corev1.Pod)
	if !ok || pod.Namespace != r.ns {
		return
	}
	rev := pod.Labels[serving.RevisionLabelKey]
	if rev == "" {
		return
	}
	now := r.clk.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	old, existed := r.pods[pod.Name]
	info := podInfo{revision: rev, ready: podReady(pod), terminating: pod.DeletionTimestamp != nil}
	switch {
	case deleted:
		delete(r.pods, pod.Name)
		r.eventLocked(now, "pod", pod.Name, "deleted ("+rev+")")
	case !existed:
		r.pods[pod.Name] = info
		r.eventLocked(now, "pod", pod.Name, "created ("+rev+")")
	default:
		r.pods[pod.Name] = info
	}
	if !deleted {
		switch {
		case info.terminating && !old.terminating:
			r.eventLocked(now, "pod", pod.Name, "terminating ("+rev+")")
		case info.ready && !old.ready && !info.terminating:
			r.eventLocked(now, "pod", pod.Name, "ready ("+rev+")")
		}
	}
	var ready, actual int32
	for _, p := range r.pods {
		if p.revision != rev {
			continue
		}
		actual++
		if p.ready && !p.terminating {
			ready++
		}
	}
	r.updateLocked(now, rev, func(s *RevisionState) { s.Ready, s.Actual = ready, actual })
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func (r *liveRecorder) onPA(o any, deleted bool) {
	pa, ok := object(o).(*autoscalingv1alpha1.PodAutoscaler)
	if !ok || pa.Namespace != r.ns || deleted {
		return
	}
	desired := int32(-1)
	if pa.Status.DesiredScale != nil {
		desired = *pa.Status.DesiredScale
	}
	now := r.clk.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updateLocked(now, pa.Name, func(s *RevisionState) { s.Desired = desired })
}

func (r *liveRecorder) onSKS(o any, deleted bool) {
	sks, ok := object(o).(*netv1alpha1.ServerlessService)
	if !ok || sks.Namespace != r.ns || deleted || sks.Spec.Mode == "" {
		return
	}
	mode := string(sks.Spec.Mode)
	now := r.clk.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev := r.cur[sks.Name].Mode; prev != "" && prev != mode {
		r.eventLocked(now, "sks", sks.Name, prev+" → "+mode)
	}
	r.updateLocked(now, sks.Name, func(s *RevisionState) { s.Mode = mode })
}

func (r *liveRecorder) onRevision(o any, deleted bool) {
	rev, ok := object(o).(*servingv1.Revision)
	if !ok || rev.Namespace != r.ns || deleted {
		return
	}
	gen, _ := strconv.Atoi(rev.Labels[serving.ConfigurationGenerationLabelKey])
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.revisions[rev.Name]; !ok {
		r.revisions[rev.Name] = revisionInfo{owner: rev.Labels[serving.ConfigurationLabelKey], generation: gen, created: r.clk.Now()}
	}
}

func (r *liveRecorder) onDecision(ev kpa.DecisionEvent) {
	if ev.Namespace != r.ns {
		return
	}
	r.mu.Lock()
	r.decisions = append(r.decisions, ev)
	r.mu.Unlock()
}

// updateLocked applies f to rev's current state and records the new state if it changed.
func (r *liveRecorder) updateLocked(now time.Time, rev string, f func(*RevisionState)) {
	s, ok := r.cur[rev]
	if !ok {
		s = RevisionState{Revision: rev, Desired: -1}
	}
	before := s
	f(&s)
	if ok && s == before {
		return
	}
	r.cur[rev] = s
	r.states = append(r.states, timedState{at: now, RevisionState: s})
}

func (r *liveRecorder) event(kind, subject, msg string) {
	now := r.clk.Now()
	r.mu.Lock()
	r.eventLocked(now, kind, subject, msg)
	r.mu.Unlock()
}

func (r *liveRecorder) eventLocked(now time.Time, kind, subject, msg string) {
	r.events = append(r.events, timedEvent{at: now, Event: reports.Event{Kind: kind, Subject: subject, Message: msg}})
}

// state is rev's current state, and whether the KPA's latest decision for it is panicking.
func (r *liveRecorder) state(rev string) (s RevisionState, panicking, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok = r.cur[rev]
	for i := len(r.decisions) - 1; i >= 0; i-- {
		if r.decisions[i].Revision == rev {
			panicking = r.decisions[i].Panicking
			break
		}
	}
	return s, panicking, ok
}

// latest is owner's latest created revision so far ("" if none).
func (r *liveRecorder) latest(owner string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	revs := r.revisionsLocked()[owner]
	if len(revs) == 0 {
		return ""
	}
	return revs[len(revs)-1]
}

// revisionsLocked lists each owner's revisions by configuration generation.
func (r *liveRecorder) revisionsLocked() map[string][]string {
	out := map[string][]string{}
	for name, info := range r.revisions {
		out[info.owner] = append(out[info.owner], name)
	}
	for _, revs := range out {
		slices.SortFunc(revs, func(a, b string) int {
			ia, ib := r.revisions[a], r.revisions[b]
			if ia.generation != ib.generation {
				return ia.generation - ib.generation
			}
			return ia.created.Compare(ib.created)
		})
	}
	return out
}

// noteApp records a pod's app high-water mark (the sandbox calls it just before the pod stops).
func (r *liveRecorder) noteApp(pod *corev1.Pod, maxInFlight int64) {
	if pod.Namespace != r.ns {
		return
	}
	rev := pod.Labels[serving.RevisionLabelKey]
	r.mu.Lock()
	r.appMax[rev] = max(r.appMax[rev], int(maxInFlight))
	r.mu.Unlock()
}

func (r *liveRecorder) sampleLoop() {
	defer r.wg.Done()
	t := time.NewTicker(samplePeriod)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-t.C:
			r.sample()
		}
	}
}

// sample reads the activators' queues and the apps' high-water marks of the namespace.
func (r *liveRecorder) sample() {
	now := r.clk.Now()
	r.mu.Lock()
	revs := make([]string, 0, len(r.cur))
	for rev := range r.cur {
		revs = append(revs, rev)
	}
	zero := r.zero
	r.mu.Unlock()
	depth := map[string]int{}
	for _, a := range r.st.System.Activators {
		for _, rev := range revs {
			depth[rev] += a.QueueDepth(types.NamespacedName{Namespace: r.ns, Name: rev})
		}
	}
	var apps []*queueproxy.Pod
	if r.sandbox != nil {
		for _, p := range r.sandbox.Pods() {
			if p.Key.Namespace == r.ns {
				apps = append(apps, p)
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !zero.IsZero() && !now.Before(zero) {
		sec := int(now.Sub(zero) / time.Second)
		for rev, d := range depth {
			if r.queue[rev] == nil {
				r.queue[rev] = map[int]int{}
			}
			r.queue[rev][sec] = max(r.queue[rev][sec], d)
		}
	}
	for _, p := range apps {
		if info, ok := r.pods[p.Key.Name]; ok {
			r.appMax[info.revision] = max(r.appMax[info.revision], int(p.App.MaxInFlight()))
		}
	}
}

// finish fills rec with what was recorded, as offsets from time zero.
func (r *liveRecorder) finish(rec *Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	run := rec.Run
	off := func(t time.Time) time.Duration { return t.Sub(r.zero) }
	rec.Namespace = r.ns
	rec.States = make([]RevisionState, len(r.states))
	for i, s := range r.states {
		rec.States[i] = s.RevisionState
		rec.States[i].Time = off(s.at)
	}
	for _, d := range r.decisions {
		run.Decisions = append(run.Decisions, reports.Decision{Time: off(d.Time), Namespace: d.Namespace, Revision: d.Revision,
			ReadyPods: d.ReadyPods, Stable: d.StableValue, Panic: d.PanicValue, Target: d.Target, DesiredPods: d.DesiredPods,
			ExcessBurstCapacity: d.ExcessBurstCapacity, Panicking: d.Panicking, Mode: string(d.Mode)})
	}
	sort.SliceStable(run.Decisions, func(i, j int) bool { return run.Decisions[i].Time < run.Decisions[j].Time })
	for _, e := range r.events {
		ev := e.Event
		ev.Time = off(e.at)
		run.Events = append(run.Events, ev)
	}
	sort.SliceStable(run.Events, func(i, j int) bool { return run.Events[i].Time < run.Events[j].Time })
	rec.Revisions = r.revisionsLocked()
	rec.AppMaxInFlight = map[string]int{}
	for rev, m := range r.appMax {
		rec.AppMaxInFlight[rev] = m
	}
	seconds := int(run.Duration/time.Second) + 1
	rec.ActivatorQueue = map[string][]int{}
	for rev, bySec := range r.queue {
		q := make([]int, seconds)
		for s, d := range bySec {
			if s < seconds {
				q[s] = d
			}
		}
		rec.ActivatorQueue[rev] = q
	}
}

// routing reads the traffic of every Service and Route of the namespace from the API server.
func routingOf(ctx context.Context, c client.Client, ns string) (map[string]Routing, error) {
	out := map[string]Routing{}
	add := func(name string, traffic []servingv1.TrafficTarget) {
		rt := Routing{Percent: map[string]float64{}, Tags: map[string]string{}}
		for _, t := range traffic {
			if t.Percent != nil && *t.Percent > 0 {
				rt.Percent[t.RevisionName] += float64(*t.Percent)
			}
			if t.Tag != "" {
				rt.Tags[t.Tag] = t.RevisionName
			}
		}
		out[name] = rt
	}
	var svcs servingv1.ServiceList
	var routes servingv1.RouteList
	err := errors.Join(c.List(ctx, &svcs, client.InNamespace(ns)), c.List(ctx, &routes, client.InNamespace(ns)))
	for _, r := range routes.Items {
		add(r.Name, r.Status.Traffic)
	}
	for _, s := range svcs.Items {
		add(s.Name, s.Status.Traffic)
	}
	return out, err
}

// --- recording.jsonl.gz (RunOptions.Recording, package scenarios/recording) ---

// startRecording attaches a recording to the run's namespace when RunOptions.Recording is set
// (nil otherwise): the KPA's core inputs and ticks, config and PA changes, pod events.
func (l *liveRun) startRecording(ctx context.Context) (*recording.Recorder, error) {
	if l.opts.Recording == nil {
		return nil, nil
	}
	yml, err := yaml.Marshal(l.s)
	if err != nil {
		return nil, err
	}
	return recording.StartLive(ctx, recording.LiveOptions{
		Header: recording.Header{Mode: ModeLive, Scenario: l.s.Metadata.Name, ScenarioYAML: string(yml), Seed: l.run.Seed, Namespace: l.ns},
		Clock:  l.clk, KPA: l.st.System.KPA, Informers: l.st.System.Manager.GetCache(), Reader: l.st.Client,
	})
}

// writeRecording adds the request arrivals and writes the recording to RunOptions.Recording.
func (l *liveRun) writeRecording() {
	if l.replay == nil {
		return
	}
	l.replay.Stop()
	services := map[string]string{}
	for i, st := range l.s.Spec.Workload {
		services[l.s.StreamName(i)] = st.Target.Service
	}
	reqs := make([]recording.RequestAt, len(l.run.Requests))
	for i, q := range l.run.Requests {
		reqs[i] = recording.RequestAt{Time: q.Result.Timestamp, Request: recording.Request{Stream: q.Stream, Target: services[q.Stream],
			Tag: q.Tag, Rev: q.Revision, Code: q.Result.Code, Latency: recording.Duration(q.Result.Latency)}}
	}
	l.replay.AddRequests(reqs)
	if err := l.replay.Write(l.opts.Recording); err != nil {
		l.addErr(fmt.Errorf("write the recording: %w", err))
	}
}
