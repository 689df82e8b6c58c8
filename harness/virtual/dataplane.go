package virtual

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/servingsim/servingsim/stack/activator"
	"github.com/servingsim/servingsim/stack/app"
	"github.com/servingsim/servingsim/stack/queueproxy"
)

// Load: streams move through their phases; open-model phases send on their schedule, closed
// ones keep one request per client in flight.

// nextPhase starts phase s.phase+1 at engine time at (or ends the stream).
func (e *engine) nextPhase(s *streamState, at time.Duration) {
	k := s.phase + 1
	if k >= len(s.spec.Phases) {
		s.lastStarted = true
		e.streamMaybeDone(s)
		return
	}
	if at > e.now {
		e.schedule(at, evArrival, s.id, int32(k), phaseStart)
		return
	}
	e.startPhase(s, k)
}

// phaseStart marks an evArrival that starts phase aux (gen is otherwise unused for arrivals).
const phaseStart = 1

func (e *engine) startPhase(s *streamState, k int) {
	s.phase = k
	p := s.spec.Phases[k]
	switch p := p.(type) {
	case Concurrent:
		end := e.now + p.Duration
		for range p.Clients {
			s.clients = append(s.clients, clientState{end: end, think: p.Think})
			s.activeClients++
			e.schedule(e.now, evClientSend, s.id, int32(len(s.clients)-1), 0)
		}
	case Idle:
	default:
		if sch := scheduleOf(p, e.spec.Arrivals, s.arrivals); sch != nil {
			for len(s.scheds) <= k {
				s.scheds = append(s.scheds, nil)
				s.phaseStart = append(s.phaseStart, 0)
			}
			s.scheds[k], s.phaseStart[k] = sch, e.now
			s.activeScheds++
			e.pace(s, k)
		}
	}
	e.nextPhase(s, e.now+p.Length())
}

// pace schedules phase k's next send, or retires its schedule.
func (e *engine) pace(s *streamState, k int) {
	if off, ok := s.scheds[k].next(); ok {
		e.scheduleHeap(s.phaseStart[k]+off, evArrival, s.id, int32(k), 0)
		return
	}
	s.scheds[k] = nil
	s.activeScheds--
	e.streamMaybeDone(s)
}

func (e *engine) arrival(s *streamState, k int, start bool) {
	if start {
		e.startPhase(s, k)
		return
	}
	e.send(s, -1)
	e.pace(s, k)
}

func (e *engine) clientSend(s *streamState, c int) {
	if e.now > s.clients[c].end {
		s.activeClients--
		e.streamMaybeDone(s)
		return
	}
	e.send(s, int32(c))
}

func (e *engine) streamMaybeDone(s *streamState) {
	s.done = s.lastStarted && s.activeScheds == 0 && s.activeClients == 0
}

// Requests: gateway → (activator →) queue-proxy → app, and back.

func (e *engine) alloc() int32 {
	if e.free >= 0 {
		id := e.free
		e.free = e.reqs[id].next
		return id
	}
	e.reqs = append(e.reqs, request{})
	return int32(len(e.reqs) - 1)
}

// send issues one request of stream s at now: the gateway picks the route's split (§6) and an
// address of the revision's public Endpoints: an activator in Proxy mode, a pod in Serve mode.
func (e *engine) send(s *streamState, client int32) {
	id := e.alloc()
	r := &e.reqs[id]
	gen := r.gen
	*r = request{gen: gen, stream: s.id, client: client, seq: s.seq, sent: e.now, next: -1}
	s.seq++
	e.outstanding++
	e.res.Sent++
	e.pushDeadline(e.clientDeadlines(), deadline{ticket{id: id, gen: gen}, e.now + e.spec.ClientTimeout})

	rev := s.route.choose(s.spec.Tag, e.gateway)
	if rev == nil {
		e.complete(id, http.StatusNotFound) // no route for the host (Envoy: 404)
		return
	}
	r.rev = rev
	r.coldStart = rev.readyPods == 0
	rev.clientIn(e.now)
	rev.sum.Requests++
	if r.coldStart {
		rev.sum.ColdStarts++
	}
	if t := rev.spec.Timeout; t > 0 && t < e.spec.ClientTimeout {
		e.pushDeadline(e.deadlineQueue(t, http.StatusGatewayTimeout), deadline{ticket{id: id, gen: gen}, e.now + t})
	}
	if rev.proxied {
		a := rev.subset[0]
		if len(rev.subset) > 1 {
			a = rev.subset[e.gateway.IntN(len(rev.subset))]
		}
		r.act, r.proxied = a, true
		e.scheduleLane(laneGateway, evActivatorIn, id, 0, gen)
		return
	}
	view := rev.gatewayView
	p := view[0]
	if len(view) > 1 {
		p = view[e.gateway.IntN(len(view))]
	}
	r.pod = p
	e.scheduleLane(laneGateway, evQueueProxyIn, id, 0, gen)
}

func (e *engine) clientDeadlines() *deadlineQueue {
	return e.deadlineQueue(e.spec.ClientTimeout, 0)
}

// choose draws the revision of the main host's splits with probability percent/Σpercent, as
// the gateway does (stack/gateway chooseSplit: one split takes no draw), or a tag host's
// revision; nil when the host has no route.
func (rt *route) choose(tag string, r interface{ IntN(int) int }) *revision {
	if tag != "" {
		for _, t := range rt.tags {
			if t.tag == tag {
				return t.rev
			}
		}
		return nil
	}
	splits := rt.main
	switch len(splits) {
	case 0:
		return nil
	case 1:
		return splits[0].rev
	}
	total := 0
	for _, s := range splits {
		total += max(s.percent, 0)
	}
	if total == 0 {
		return splits[r.IntN(len(splits))].rev
	}
	draw := r.IntN(total)
	for _, s := range splits {
		if draw -= max(s.percent, 0); draw < 0 {
			return s.rev
		}
	}
	return splits[len(splits)-1].rev
}

// activatorIn: the request reaches its activator (§4): the concurrency reporter counts it (the
// first request of a period sends the immediate stat, §3.3.3) and it waits in the revision's
// throttler.
func (e *engine) activatorIn(id int32) {
	r := &e.reqs[id]
	rev, a := r.rev, r.act
	th := e.throttleFor(rev, a)
	r.th = th
	if st, first := a.reportIn(e.now, th); first {
		e.recordStat(rev, st)
	}
	r.actCounted = true
	if th.queued == 0 && th.inFlight < th.capacity && e.admit(th, id, r) {
		return
	}
	if th.queued >= activator.RevisionQueueDepth {
		e.complete(id, http.StatusServiceUnavailable) // pending request queue full
		return
	}
	th.queue.push(ticket{id: id, gen: r.gen})
	th.queued++
	e.queued(rev, 1)
	r.thQueued = true
	e.dispatch1(th)
}

// dispatch1 admits queued requests while the revision breaker has capacity and a pod can take
// one, oldest first; a request that finds no pod with room waits at the head for the next
// change of pod capacity (Knative re-enqueues it).
func (e *engine) dispatch1(th *throttle) {
	for th.queued > 0 && th.inFlight < th.capacity {
		t := th.queue.front()
		r := &e.reqs[t.id]
		if r.gen != t.gen || r.done || !r.thQueued {
			th.queue.pop()
			continue
		}
		if !e.admit(th, t.id, r) {
			return
		}
		th.queue.pop()
		th.queued--
		e.queued(th.rev, -1)
		r.thQueued = false
	}
}

// admit takes a breaker slot and a pod for request id and sends it on; false when no pod of
// the activator's share has room.
func (e *engine) admit(th *throttle, id int32, r *request) bool {
	tr := e.pick(th)
	if tr == nil {
		return false
	}
	th.inFlight++
	tr.inFlight++
	r.track, r.pod = tr, tr.pod
	e.scheduleLane(laneActivator, evQueueProxyIn, id, 0, r.gen)
	return true
}

// pick chooses a pod of the activator's share by the revision's policy (§4): random choice of
// two for CC 0, first available up to CC 3, round robin above.
func (e *engine) pick(th *throttle) *tracker {
	ts := th.assigned
	switch th.policy {
	case activator.PolicyRandomChoice2:
		l := len(ts)
		switch l {
		case 0:
			return nil
		case 1:
			return ts[0]
		}
		r1, r2 := 0, 1
		rnd := th.rnd
		if l > 2 {
			r1, r2 = rnd.IntN(l), rnd.IntN(l-1)
			if r2 >= r1 {
				r2++
			}
		}
		pick, alt := ts[r1], ts[r2]
		if pick.inFlight > alt.inFlight || (pick.inFlight == alt.inFlight && rnd.IntN(2) == 0) {
			pick = alt
		}
		return pick
	case activator.PolicyFirstAvailable:
		for _, t := range ts {
			if t.available(th.cc) {
				return t
			}
		}
		return nil
	}
	l := len(ts)
	if th.rrNext >= l {
		th.rrNext = 0
	}
	for i := range l {
		idx := (th.rrNext + i) % l
		if t := ts[idx]; t.available(th.cc) {
			th.rrNext = idx + 1
			return t
		}
	}
	return nil
}

// queueProxyIn: the request reaches a pod's queue-proxy (§5): counted in its stats, then the
// breaker (CC in flight, 10×CC queued, 503 beyond) and the app.
func (e *engine) queueProxyIn(id int32) {
	r := &e.reqs[id]
	p := r.pod
	if !p.running() {
		code := uint16(http.StatusServiceUnavailable) // Envoy: upstream connect error
		if r.proxied {
			code = http.StatusBadGateway // the activator's proxy error
		}
		e.complete(id, code)
		return
	}
	if p.phase == podTerminating {
		p.lastTouch = e.now // a request restarts the drain's quiet period
	}
	p.stats.In(e.now, r.proxied)
	r.qpCounted = true
	p.qpIn++
	if cc := p.rev.spec.ContainerConcurrency; cc > 0 && p.qpActive >= cc {
		if p.qpQueued >= queueproxy.QueueDepthFactor*cc {
			e.complete(id, http.StatusServiceUnavailable) // pending request queue full
			return
		}
		p.qpQueue.push(ticket{id: id, gen: r.gen})
		p.qpQueued++
		r.qpQueued = true
		return
	}
	p.qpActive++
	r.qpActive = true
	e.appIn(id)
}

// appIn: the request reaches the user container, which may limit its own concurrency.
func (e *engine) appIn(id int32) {
	r := &e.reqs[id]
	p := r.pod
	if lim := p.app.Concurrency; lim > 0 && p.appActive >= lim {
		if p.app.Overflow == app.OverflowReject {
			r.served = true
			e.complete(id, http.StatusServiceUnavailable) // app concurrency limit reached
			return
		}
		p.appQueue.push(ticket{id: id, gen: r.gen})
		p.appQueued++
		r.appQueued = true
		return
	}
	e.serve(id)
}

// serve starts the app's work on a request: ?sleep= (with its jitter) or a service-time draw.
func (e *engine) serve(id int32) {
	r := &e.reqs[id]
	p := r.pod
	p.appActive++
	r.appActive = true
	if p.appActive > p.appMax {
		p.appMax = p.appActive
		p.rev.sum.MaxAppConcurrency = max(p.rev.sum.MaxAppConcurrency, p.appMax)
	}
	st := &e.streams[r.stream].spec
	var d time.Duration
	switch {
	case st.HasSleep:
		d = st.Sleep
		if st.SleepStddev > 0 {
			d = time.Duration(math.Max(0, float64(d)+float64(st.SleepStddev)*p.jitter().NormFloat64()))
		}
	case p.app.ServiceTime != nil:
		d = p.app.ServiceTime.Draw(p.serviceStream())
	}
	e.scheduleHeap(e.now+e.timing.QueueProxyHop+d, evServiceDone, id, 0, r.gen)
}

func (e *engine) serviceDone(id int32) {
	e.reqs[id].served = true
	p := e.reqs[id].pod
	code := uint16(http.StatusOK)
	if rate := p.app.ErrorRate; rate > 0 && p.errStream().Float64() < rate {
		code = http.StatusInternalServerError
	}
	e.complete(id, code)
}

// complete ends a request with code (0: no response): every component it holds lets go, in
// the order the handlers unwind (app, queue-proxy breaker and stats, activator), then the
// outcome is recorded and a closed-model client sends its next request.
func (e *engine) complete(id int32, code uint16) {
	e.finishWith(id, code, "")
}

// fail ends a request with code and an error text (timeouts).
func (e *engine) fail(id int32, code uint16, msg string) {
	e.finishWith(id, code, msg)
}

func (e *engine) finishWith(id int32, code uint16, msg string) {
	r := &e.reqs[id]
	r.done = true
	now := e.now
	if p := r.pod; p != nil {
		if r.appActive {
			p.appActive--
			e.appNext(p)
		}
		if r.appQueued {
			p.appQueued--
		}
		if r.qpActive {
			p.qpActive--
			e.qpNext(p)
		}
		if r.qpQueued {
			p.qpQueued--
		}
		if r.qpCounted {
			p.stats.Out(now, r.proxied)
			p.qpIn--
			if p.phase == podTerminating && p.qpIn == 0 {
				e.schedule(now, evPodDrain, int32(p.id), 0, p.generation)
			}
		}
	}
	if th := r.th; th != nil {
		if r.track != nil {
			r.track.inFlight--
			th.inFlight--
			e.dispatch1(th)
		}
		if r.thQueued {
			th.queued--
			e.queued(th.rev, -1)
		}
	}
	if r.actCounted {
		r.act.reportOut(now, r.th)
	}

	e.outstanding--
	e.lastDone = now
	failed := code == 0 || code >= 500
	if code == 0 {
		e.res.Errors++
	} else {
		e.res.Responses++
		if code < 200 || code >= 400 {
			msg = strconv.Itoa(int(code)) + " " + http.StatusText(int(code)) // vegeta's Error for a status
		}
	}
	revName := ""
	if rev := r.rev; rev != nil {
		revName = rev.name()
		rev.clientOut(now)
		rev.completed++
		if code < 200 || code >= 300 {
			rev.errors++
		}
		if failed {
			rev.sum.Errors++
		}
	}
	if !e.spec.Discard.Requests {
		e.res.Requests = append(e.res.Requests, Request{Stream: r.stream, Seq: r.seq, Sent: e.rel(r.sent),
			Latency: now - r.sent, Code: code, Error: msg, Revision: revName, Served: r.served, ColdStart: r.coldStart})
	}
	if c := r.client; c >= 0 {
		s := e.streams[r.stream]
		e.schedule(now+s.clients[c].think, evClientSend, s.id, c, 0)
	}
	gen := r.gen + 1
	*r = request{gen: gen, next: e.free}
	e.free = id
}

// qpNext lets the oldest request waiting in a pod's breaker through.
func (e *engine) qpNext(p *pod) {
	for p.qpQueued > 0 {
		t := p.qpQueue.pop()
		r := &e.reqs[t.id]
		if r.gen != t.gen || r.done || !r.qpQueued {
			continue
		}
		p.qpQueued--
		r.qpQueued = false
		p.qpActive++
		r.qpActive = true
		e.appIn(t.id)
		return
	}
}

// appNext starts the oldest request waiting inside the app.
func (e *engine) appNext(p *pod) {
	for p.appQueued > 0 {
		t := p.appQueue.pop()
		r := &e.reqs[t.id]
		if r.gen != t.gen || r.done || !r.appQueued {
			continue
		}
		p.appQueued--
		r.appQueued = false
		e.serve(t.id)
		return
	}
}
