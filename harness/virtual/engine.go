package virtual

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/queueproxy"
	"github.com/servingsim/servingsim/stack/rng"
)

// epoch is virtual time 0 as the cores see it: a whole, even Unix second, so engine second n is
// metric bucket n and decider tick n/2.
var epoch = time.Unix(1_700_000_000, 0).UTC()

// Epoch is the wall-clock instant of the engine's virtual time 0 (its time zero is Epoch plus
// Result.Bootstrap); Request timestamps are Epoch + Bootstrap + Sent.
var Epoch = epoch

const defaultClientTimeout = 30 * time.Second

// Run simulates spec and returns what happened. It fails on an invalid spec, when the initial
// revisions do not become Ready within MaxBootstrap, when an action fails, or when ctx ends.
func Run(ctx context.Context, spec Spec) (*Result, error) {
	e, err := newEngine(spec)
	if err != nil {
		return nil, err
	}
	return e.run(ctx)
}

// engine is one run's state: virtual time, the event queue, and every simulated object.
type engine struct {
	spec    Spec
	timing  Timing
	cfg     *config.Config
	src     *rng.Source
	gateway *rng.Stream
	quiet   time.Duration
	ns      string

	now       time.Duration
	q         eventQueue
	laneDelay [numLanes]time.Duration // each lane's delay after now
	// deadlineFloor is at most the due time of every deadline queue's front: no deadline is
	// due before it, so the run loop looks at the queues only from then on.
	deadlineFloor time.Duration
	started       bool
	// zeroPending: every initial object is Ready and time zero is scheduled.
	zeroPending bool
	t0          time.Duration
	end         time.Duration

	configs    map[string]*configuration
	revisions  []*revision
	revByName  map[string]*revision
	routes     map[string]*route
	routeOrder []*route
	routeRefs  map[string][]*route // routes by the revision ("r/") or configuration ("c/") they name

	// initialPending and pendingRoutes count what time zero waits for: initial revisions not
	// Ready, routes whose traffic block is not yet in force.
	initialPending, pendingRoutes int
	activators                    []*activatorState
	streams                       []*streamState

	actions     []Action
	actionDone  []bool
	whenPending int

	reqs        []request
	free        int32
	deadlines   []deadlineQueue
	outstanding int
	lastDone    time.Duration
	podIP       uint32

	pods    []*pod // every pod ever created, by id
	scratch struct{ older, younger []*pod }
	statBuf []autoscaler.Stat

	res *Result
	ctl *Control
	err error
}

// deadlineQueue holds the requests of one timeout length in send order, so its front is always
// the next to expire. Answered requests stay in it until their deadline passes.
type deadlineQueue struct {
	after time.Duration
	code  uint16 // 0: the client gives up; 504: the revision's timeout
	q     ring[deadline]
}

// deadline is a request's ticket and the engine time its timeout expires.
type deadline struct {
	ticket
	due time.Duration
}

func newEngine(spec Spec) (*engine, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	if spec.Config == nil {
		spec.Config = config.Default()
	}
	if spec.Namespace == "" {
		spec.Namespace = "default"
	}
	if spec.Activators == 0 {
		spec.Activators = 1
	}
	if spec.DrainQuietPeriod == 0 {
		spec.DrainQuietPeriod = queueproxy.DefaultDrainQuietPeriod
	}
	if spec.ClientTimeout == 0 {
		spec.ClientTimeout = defaultClientTimeout
	}
	timing := spec.Timing.withDefaults()
	timing.CreateSpacing = max(timing.CreateSpacing, 0)
	if spec.MaxBootstrap == 0 {
		spec.MaxBootstrap = 10*time.Minute + time.Duration(len(spec.Configurations))*timing.CreateSpacing
	}
	src := rng.New(spec.Seed)
	e := &engine{
		spec: spec, timing: timing, cfg: spec.Config, src: src,
		gateway: src.Stream("gateway"), quiet: spec.DrainQuietPeriod, ns: spec.Namespace,
		configs: map[string]*configuration{}, revByName: map[string]*revision{}, routes: map[string]*route{},
		routeRefs: map[string][]*route{},
		free:      -1, res: &Result{},
	}
	e.ctl = &Control{e: e}
	e.laneDelay = [numLanes]time.Duration{laneGateway: timing.GatewayHop, laneActivator: timing.ActivatorHop,
		laneSecond: time.Second, laneReconcile: timing.Reconcile}
	for i := range spec.Activators {
		// Activator addresses only order the activators and seed the SKS subset hash.
		ip := "10.255.0." + strconv.Itoa(i+1)
		e.activators = append(e.activators, &activatorState{id: i, ip: ip, name: "activator-" + strconv.Itoa(i)})
	}
	return e, nil
}

// wall is the instant the cores see for engine time d.
func (e *engine) wall(d time.Duration) time.Time { return epoch.Add(d) }

// rel is engine time d as an offset from time zero.
func (e *engine) rel(d time.Duration) time.Duration { return d - e.t0 }

// schedule queues an event at engine time at. An event a lane's fixed delay after now goes on
// that lane (see eventQueue); the order of events is the same either way.
func (e *engine) schedule(at time.Duration, kind eventKind, ref, aux int32, gen uint32) {
	ev := event{at: at, kind: kind, ref: ref, aux: aux, gen: gen}
	d := at - e.now
	for i, ld := range &e.laneDelay {
		if d == ld {
			e.q.pushLane(i, ev)
			return
		}
	}
	e.q.push(ev)
}

// scheduleLane queues an event a lane's fixed delay after now on that lane, and
// scheduleHeap one at a drawn delay on a heap: the hot paths' schedule, without the search
// for a lane.
func (e *engine) scheduleLane(lane int, kind eventKind, ref, aux int32, gen uint32) {
	e.q.pushLane(lane, event{at: e.now + e.laneDelay[lane], kind: kind, ref: ref, aux: aux, gen: gen})
}

func (e *engine) scheduleHeap(at time.Duration, kind eventKind, ref, aux int32, gen uint32) {
	e.q.push(event{at: at, kind: kind, ref: ref, aux: aux, gen: gen})
}

func (e *engine) run(ctx context.Context) (*Result, error) {
	// The live stack creates the objects of spec.services one after another: configuration k
	// (and its first revision) comes CreateSpacing after configuration k-1.
	e.initialPending = len(e.spec.Configurations)
	for k := range e.spec.Configurations {
		if k == 0 || e.timing.CreateSpacing == 0 {
			e.createInitial(k)
			continue
		}
		e.schedule(time.Duration(k)*e.timing.CreateSpacing, evCreate, int32(k), 0, 0)
	}
	for _, r := range e.spec.Routes {
		e.setTraffic(e.ensureRoute(r.Name), r.Traffic)
	}
	e.schedule(time.Second, evSecond, 0, 1, 0)
	e.checkTimeZero()

	var processed uint64
	for e.err == nil {
		if processed&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if e.q.len() == 0 {
			break
		}
		next := e.q.peek().at
		if next >= e.deadlineFloor {
			if dq := e.dueDeadline(next); dq != nil {
				e.expire(dq)
				processed++
				continue
			}
		}
		if e.started && next > e.end && e.quiescent() {
			break
		}
		if !e.started && next > e.spec.MaxBootstrap {
			return nil, fmt.Errorf("virtual: the initial revisions were not Ready after %s of virtual time (%s)", e.spec.MaxBootstrap, e.pendingReadiness())
		}
		ev := e.q.pop()
		e.now = ev.at
		e.dispatch(&ev)
		processed++
	}
	if e.err != nil {
		return nil, e.err
	}
	e.finish(processed)
	return e.res, nil
}

// dueDeadline returns the deadline queue whose front expires first, if that is no later than
// the next event; stale fronts (requests already answered) are dropped once their deadline is
// reached, so most events cost one comparison per queue.
func (e *engine) dueDeadline(next time.Duration) *deadlineQueue {
	var best *deadlineQueue
	var bestAt time.Duration
	e.deadlineFloor = math.MaxInt64
	for i := range e.deadlines {
		dq := &e.deadlines[i]
		for !dq.q.empty() {
			d := dq.q.frontPtr()
			e.deadlineFloor = min(e.deadlineFloor, d.due)
			if d.due > next {
				break
			}
			if r := &e.reqs[d.id]; r.gen == d.gen && !r.done {
				if best == nil || d.due < bestAt {
					best, bestAt = dq, d.due
				}
				break
			}
			dq.q.pop()
		}
	}
	if best != nil {
		e.deadlineFloor = math.MinInt64 // expire pops it: look again
	}
	return best
}

// pushDeadline queues a request's deadline on dq.
func (e *engine) pushDeadline(dq *deadlineQueue, d deadline) {
	dq.q.push(d)
	e.deadlineFloor = min(e.deadlineFloor, d.due)
}

func (e *engine) expire(dq *deadlineQueue) {
	t := dq.q.pop()
	r := &e.reqs[t.id]
	e.now = max(e.now, t.due)
	if dq.code == 0 {
		e.fail(t.id, 0, "Get \""+e.streams[r.stream].spec.URL+"\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)")
		return
	}
	e.fail(t.id, dq.code, "request timeout")
}

func (e *engine) deadlineQueue(after time.Duration, code uint16) *deadlineQueue {
	for i := range e.deadlines {
		if e.deadlines[i].after == after && e.deadlines[i].code == code {
			return &e.deadlines[i]
		}
	}
	e.deadlines = append(e.deadlines, deadlineQueue{after: after, code: code})
	return &e.deadlines[len(e.deadlines)-1]
}

// quiescent reports that no stream will send again and no request is in flight.
func (e *engine) quiescent() bool {
	if e.outstanding > 0 {
		return false
	}
	for _, s := range e.streams {
		if !s.done {
			return false
		}
	}
	return true
}

func (e *engine) dispatch(ev *event) {
	switch ev.kind {
	case evArrival:
		e.arrival(e.streams[ev.ref], int(ev.aux), ev.gen == phaseStart)
	case evClientSend:
		e.clientSend(e.streams[ev.ref], int(ev.aux))
	case evActivatorIn:
		if r := e.live(ev); r >= 0 {
			e.activatorIn(r)
		}
	case evQueueProxyIn:
		if r := e.live(ev); r >= 0 {
			e.queueProxyIn(r)
		}
	case evServiceDone:
		if r := e.live(ev); r >= 0 {
			e.serviceDone(r)
		}
	case evSecond:
		e.second(int64(ev.aux))
	case evSample:
		e.sample(int(ev.aux))
	case evPoke:
		rev := e.revisions[ev.ref]
		rev.pokePending = false
		e.decide(rev)
	case evReconcile:
		e.reconcile(e.revisions[ev.ref])
	case evSKS:
		e.sksRouted(e.revisions[ev.ref], ev.aux)
	case evPodRunning, evPodReady, evPodEndpoints, evPodActivator, evPodGateway, evPodDrain, evPodRestart:
		e.podEvent(ev)
	case evAction:
		e.runAction(int(ev.ref))
	case evConditions:
		e.checkConditions()
	case evTimeZero:
		e.startClock()
	case evCreate:
		e.createInitial(int(ev.ref))
	case evRevisionTick:
		e.revisionTick(e.revisions[ev.ref], ev.aux)
	}
}

// live returns the request an event refers to, or -1 when it has ended since.
func (e *engine) live(ev *event) int32 {
	r := &e.reqs[ev.ref]
	if r.gen != ev.gen || r.done {
		return -1
	}
	return ev.ref
}

// checkTimeZero starts the run's clock RouteReady after every initial revision is Ready and
// every route has resolved its traffic.
func (e *engine) checkTimeZero() {
	if e.started || e.zeroPending {
		return
	}
	if e.initialPending > 0 || e.pendingRoutes > 0 {
		return
	}
	e.zeroPending = true
	e.schedule(e.now+e.timing.RouteReady, evTimeZero, 0, 0, 0)
}

func (e *engine) startClock() {
	e.started, e.t0 = true, e.now
	e.end = e.t0 + e.spec.Duration
	e.res.Bootstrap = e.t0
	for _, rev := range e.revisions {
		rev.countPods(e.now)
		rev.podSeconds = 0
		rev.sum.PeakPods, rev.sum.PeakReady = int32(len(rev.pods)), rev.readyPods
	}
	for i, st := range e.spec.Streams {
		s := &streamState{id: int32(i), spec: st, route: e.routes[st.Route], phase: -1,
			arrivals: e.src.Stream("virtual/arrivals/" + st.Name)}
		e.streams = append(e.streams, s)
		e.res.Streams = append(e.res.Streams, st.Name)
		e.nextPhase(s, e.t0+st.Start)
	}
	if !e.spec.Discard.Requests {
		e.res.Requests = make([]Request, 0, expectedRequests(e.spec.Streams))
	}
	e.actions = e.spec.Actions
	e.actionDone = make([]bool, len(e.actions))
	for i, a := range e.actions {
		if a.When != nil {
			e.whenPending++
			continue
		}
		e.schedule(e.t0+max(a.At, 0), evAction, int32(i), 0, 0)
	}
	if e.whenPending > 0 {
		e.schedule(e.t0, evConditions, 0, 0, 0)
	}
	e.schedule(e.t0, evSample, 0, 0, 0)
}

func (e *engine) pendingReadiness() string {
	for _, rev := range e.revisions {
		if !rev.ready {
			return fmt.Sprintf("revision %s has %d of %d pods ready", rev.name(), rev.readyPods, rev.replicas)
		}
	}
	for _, rt := range e.routeOrder {
		if rt.hasPend {
			return "route " + rt.name + " waits for a revision of its traffic"
		}
	}
	return "no pending revision"
}

// second is the 1s tick of the activators' reports (§3.3.3) and, a simplification, of every
// queue-proxy's stat period (§3.3.1), all started at virtual time 0.
func (e *engine) second(n int64) {
	for _, rev := range e.revisions {
		for _, p := range rev.pods {
			if p.hasStats {
				st := p.stats.Report(e.now)
				p.lastStat.PodName = p.name
				p.lastStat.AverageConcurrency = st.AverageConcurrency
				p.lastStat.AverageProxiedConcurrency = st.AverageProxiedConcurrency
				p.lastStat.RequestCount = st.RequestCount
				p.lastStat.ProxiedRequestCount = st.ProxiedRequestCount
			}
		}
	}
	for _, a := range e.activators {
		for _, ks := range a.report(e.now) {
			e.recordStat(ks.rev, ks.stat)
		}
	}
	e.schedule(e.now+time.Second, evSecond, 0, int32(n+1), 0)
}

// revisionTick is one revision's KPA loops, started with its decider at the PA's first
// reconcile: the 1s scrape (§3.3.2) and, every other second, the 2s decision (§3.4).
func (e *engine) revisionTick(rev *revision, n int32) {
	e.scrape(rev)
	if n%2 == 0 {
		e.decide(rev)
	}
	e.schedule(e.now+time.Second, evRevisionTick, int32(rev.id), n+1, 0)
}

// sample records every revision's state at time zero + k seconds.
func (e *engine) sample(k int) {
	for _, rev := range e.revisions {
		rev.integrate(e.now)
		rev.countPods(e.now)
		if !e.spec.Discard.Samples {
			e.res.Samples = append(e.res.Samples, Sample{
				Time: e.rel(e.now), Revision: rev.name(), DesiredPods: rev.desiredScale, ReadyPods: rev.readyPods,
				ActualPods: int32(len(rev.pods)), Stable: rev.last.Stable, Panic: rev.last.Panic,
				Panicking: rev.scaler.Panicking(), Mode: rev.sksMode, ActivatorQueue: rev.actQueued,
				RPS: float64(rev.completed), Concurrency: rev.area, Errors: rev.errors,
			})
		}
		rev.area, rev.completed, rev.errors = 0, 0, 0
	}
	e.schedule(e.t0+time.Duration(k+1)*time.Second, evSample, 0, int32(k+1), 0)
}

func (e *engine) event(kind, subject, format string, args ...any) {
	if e.spec.Discard.Events {
		return
	}
	// Engine time until finish re-bases it on time zero, which may not be known yet.
	e.res.Events = append(e.res.Events, Event{Time: e.now, Kind: kind, Subject: subject, Message: fmt.Sprintf(format, args...)})
}

func (e *engine) finish(processed uint64) {
	stop := max(e.end, e.lastDone)
	e.res.End = e.rel(stop)
	e.res.EventsProcessed = processed
	for i := range e.res.Events {
		e.res.Events[i].Time -= e.t0
	}
	for i := range e.res.Decisions {
		e.res.Decisions[i].Time -= e.t0
	}
	for i := range e.res.States {
		e.res.States[i].Time -= e.t0
	}
	for _, rt := range e.routeOrder {
		rs := RouteState{Name: rt.name, Percent: map[string]float64{}, Tags: map[string]string{}}
		for _, t := range rt.tags {
			rs.Tags[t.tag] = t.rev.name()
		}
		for _, s := range rt.main {
			rs.Percent[s.rev.name()] += float64(s.percent)
		}
		e.res.Routes = append(e.res.Routes, rs)
	}
	for _, rev := range e.revisions {
		rev.countPods(max(stop, rev.lastCount))
		s := rev.sum
		s.Name, s.Configuration, s.Created = rev.name(), rev.config.name, e.rel(rev.created)
		s.PodSeconds = math.Round(rev.podSeconds*1e6) / 1e6
		if len(rev.queueMax) > 0 || rev.actQueued > 0 {
			e.fillQueue(rev, int(e.rel(stop)/time.Second), rev.actQueued)
		}
		s.ActivatorQueue = rev.queueMax
		e.res.Revisions = append(e.res.Revisions, s)
	}
}

// noteState records rev's state if its pod counts, desired scale or SKS mode changed.
func (e *engine) noteState(rev *revision) {
	st := State{Time: e.now, Revision: rev.name(), Ready: rev.readyPods, Actual: int32(len(rev.pods)),
		Desired: rev.desiredScale, Mode: rev.sksMode}
	prev := rev.state
	rev.state = st
	if e.spec.Discard.Events || (rev.hasState && prev.Ready == st.Ready && prev.Actual == st.Actual &&
		prev.Desired == st.Desired && prev.Mode == st.Mode) {
		return
	}
	rev.hasState = true
	e.res.States = append(e.res.States, st)
}

// queued changes the number of requests buffered for rev in the activators and keeps the most
// of each second after time zero: a second starts at the depth the last change left.
func (e *engine) queued(rev *revision, delta int) {
	before := rev.actQueued
	rev.actQueued += delta
	if e.started {
		e.fillQueue(rev, int(e.rel(e.now)/time.Second), before)
	}
}

// fillQueue extends rev's per-second maxima through second sec, the seconds without a change
// at depth, and raises second sec to the current depth.
func (e *engine) fillQueue(rev *revision, sec, depth int) {
	for len(rev.queueMax) <= sec {
		rev.queueMax = append(rev.queueMax, depth)
	}
	rev.queueMax[sec] = max(rev.queueMax[sec], rev.actQueued)
}

// createInitial creates initial configuration k with its first revision.
func (e *engine) createInitial(k int) {
	if err := e.createConfiguration(e.spec.Configurations[k]); err != nil {
		e.err = err
		return
	}
	e.revisions[len(e.revisions)-1].initial = true
}
