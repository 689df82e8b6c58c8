package virtual

import (
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/types"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/app"
	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/podruntime"
	"github.com/servingsim/servingsim/stack/queueproxy"
	"github.com/servingsim/servingsim/stack/rng"
)

// condition is a PodAutoscaler condition's status.
type condition uint8

const (
	condUnknown condition = iota
	condTrue
	condFalse
)

// SKS modes (knative-semantics.md §3.6).
const (
	ModeServe = "Serve"
	ModeProxy = "Proxy"
)

// configuration is a Configuration: its revisions in creation order.
type configuration struct {
	name        string
	revisions   []*revision
	latestReady *revision
}

func (c *configuration) latestCreated() *revision { return c.revisions[len(c.revisions)-1] }

// route is a Route: its traffic block, what it resolves to (the main host's weighted splits and
// each tag host's revision), and a traffic change waiting for the revisions it names to become
// Ready.
type route struct {
	name    string
	traffic []TrafficTarget
	pending []TrafficTarget
	hasPend bool
	main    []split
	tags    []tagged // in traffic-block order (tags are unique in a valid block)
}

type tagged struct {
	tag string
	rev *revision
}

type split struct {
	rev     *revision
	percent int
}

// revision is one Revision with everything the engine keeps for it: its PodAutoscaler (decider
// core, PA status), SKS, Deployment (pods), endpoint views and per-activator throttlers.
type revision struct {
	id     int
	key    types.NamespacedName
	config *configuration
	src    *rng.Source
	spec   RevisionSpec
	app    app.Config
	// created is the engine time the revision was created.
	created time.Duration

	// The PodAutoscaler: the object the decider spec is built from, the KPA's cores, the last
	// valid scale result, and the PA status (§3.5.7).
	pa           *autoscalingv1alpha1.PodAutoscaler
	dspec        autoscaler.DeciderSpec
	collector    *autoscaler.Collector
	scaler       *autoscaler.Scaler
	scrapeStream *rng.Stream
	last         autoscaler.ScaleResult
	pokePending  bool
	loops        bool // the KPA's scrape and decision loops run
	// reconcilePending and reconcileDue are the earliest queued PA reconcile.
	reconcilePending bool
	reconcileDue     time.Duration
	desiredScale     int32 // PA status desiredScale; -1 unknown
	active           condition
	activeReason     string
	activeSince      time.Duration
	initialized      bool // ScaleTargetInitialized
	ready            bool // the Revision's Ready condition
	replicas         int32
	// routes counts the routes sending to the revision; routed: some route has (it is
	// Unreachable once none does); initial: created at the start (time zero waits for it).
	routes  int
	routed  bool
	initial bool

	// The SKS: the mode the PA last set (spec), the mode the public endpoints follow (after the
	// SKS reconcile and the endpoints write), and the activator subset in Proxy mode.
	sksMode       string
	routedMode    string
	numActivators int32
	subset        []*activatorState
	proxied       bool          // the public endpoints point at activators
	proxySince    time.Duration // when proxied last became true

	// Pods: every pod that exists (starting, ready or terminating), the ready count, and the
	// three views of the ready ones, each in IP order: the private Endpoints, the activators'
	// probed backends and the public Endpoints the gateway reads in Serve mode.
	pods          []*pod
	readyPods     int32
	privateView   []*pod
	activatorView []*pod
	gatewayView   []*pod
	podSeq        int

	throttles []*throttle // by activator id, created on first use

	// Client-side accounting for the per-second samples and the summary.
	inflight   int
	area       float64 // request·seconds in flight since the last sample
	areaSince  time.Duration
	completed  int
	errors     int
	actQueued  int   // requests waiting in any activator for this revision
	queueMax   []int // the most of actQueued in each second after time zero
	state      State // the last recorded state
	hasState   bool
	sum        RevisionSummary
	podSeconds float64
	lastCount  time.Duration
}

func (r *revision) name() string { return r.key.Name }

// clientIn and clientOut track requests in flight as the load generator sees them.
func (r *revision) clientIn(now time.Duration) {
	r.integrate(now)
	r.inflight++
}

func (r *revision) clientOut(now time.Duration) {
	r.integrate(now)
	r.inflight--
}

func (r *revision) integrate(now time.Duration) {
	if now > r.areaSince {
		r.area += float64(r.inflight) * seconds(now-r.areaSince)
		r.areaSince = now
	}
}

// countPods adds pod-seconds of existing pods up to now.
func (r *revision) countPods(now time.Duration) {
	if now > r.lastCount {
		r.podSeconds += float64(len(r.pods)) * (now - r.lastCount).Seconds()
		r.lastCount = now
	}
}

// podPhase is where a pod is in its life.
type podPhase uint8

const (
	podStarting    podPhase = iota // created, not yet running (scheduling, pulling, starting)
	podRunning                     // containers run, not ready
	podReady                       // passing readiness
	podTerminating                 // deleted, draining
	podGone
)

// pod is one simulated pod: its plan, queue-proxy (stats, breaker) and app.
type pod struct {
	id    int
	ip    uint32 // sort key standing in for its IP; never reused
	name  string
	rev   *revision
	phase podPhase
	plan  podruntime.Plan

	created, started, readyAt time.Duration
	appStartup                time.Duration
	generation                uint32 // bumps on restart and deletion, voiding pending lifecycle events

	// Endpoint view memberships.
	inPrivate, inActivator, inGateway bool

	// Queue-proxy: stats (from running), the last complete 1s stat, breaker state.
	stats     queueproxy.StatsCore // valid while hasStats
	hasStats  bool
	lastStat  autoscaler.Stat
	qpIn      int // requests inside the queue-proxy (queued or proxied)
	qpActive  int // requests past the breaker
	qpQueued  int
	qpQueue   fifo
	lastTouch time.Duration
	deleted   time.Duration

	// App.
	app                  app.Config
	appActive, appQueued int
	appMax               int
	appQueue             fifo
	streams              [3]*rng.Stream // service time, errors, sleep jitter; made on first use
}

// Stream names follow stack/app's (app/<purpose>/<namespace>/<pod>), so a pod of the same name
// and seed draws the same service times in both modes.
var appStreamPurpose = [3]string{"service-time", "errors", "sleep-stddev"}

func (p *pod) stream(i int) *rng.Stream {
	if p.streams[i] == nil {
		p.streams[i] = p.rev.src.Stream("app/" + appStreamPurpose[i] + "/" + p.rev.key.Namespace + "/" + p.name)
	}
	return p.streams[i]
}

func (p *pod) serviceStream() *rng.Stream { return p.stream(0) }
func (p *pod) errStream() *rng.Stream     { return p.stream(1) }
func (p *pod) jitter() *rng.Stream        { return p.stream(2) }

func (p *pod) running() bool {
	return p.phase == podRunning || p.phase == podReady || p.phase == podTerminating
}

// insertByIP adds p to a view kept in IP order.
func insertByIP(view []*pod, p *pod) []*pod {
	i, found := slices.BinarySearchFunc(view, p.ip, func(q *pod, ip uint32) int { return int(q.ip) - int(ip) })
	if found {
		return view
	}
	return slices.Insert(view, i, p)
}

func removeByIP(view []*pod, p *pod) []*pod {
	i, found := slices.BinarySearchFunc(view, p.ip, func(q *pod, ip uint32) int { return int(q.ip) - int(ip) })
	if !found {
		return view
	}
	return slices.Delete(view, i, i+1)
}

// activatorState is one activator instance: its address and its concurrency reporter's
// revisions (the throttles whose stats it holds, see stats.go).
type activatorState struct {
	id        int
	ip        string
	name      string
	tracked   []*throttle
	reportBuf []keyedStat
}

// throttle is one revision's throttler in one activator (§4): the revision breaker's capacity
// and wait queue, one tracker per probed pod, this activator's share of them and the
// load-balancing policy. It mirrors stack/activator's Throttler, whose waiting is a blocking
// select, as event-driven state.
type throttle struct {
	rev      *revision
	act      *activatorState
	cc       int
	policy   string
	capacity int
	inFlight int
	queue    fifo
	queued   int
	trackers []*tracker // probed pods in IP order
	assigned []*tracker
	index    int
	count    int
	rrNext   int
	rnd      *rng.Stream // random choice of 2
	stats    activatorStats
}

// tracker is one pod as one activator's throttler sees it.
type tracker struct {
	pod      *pod
	inFlight int
}

func (t *tracker) available(cc int) bool { return cc == 0 || t.inFlight < cc }

// request is one request in flight. Slots are reused; gen tells incarnations apart. The flags
// say what the request holds, so ending it (a response, a timeout) releases exactly that.
type request struct {
	gen    uint32
	stream int32
	client int32 // closed-model client, -1 for open-model phases
	next   int32 // free list
	seq    uint64
	sent   time.Duration
	rev    *revision
	pod    *pod
	act    *activatorState
	th     *throttle
	track  *tracker
	done   bool

	coldStart, proxied, served    bool
	actCounted, thQueued          bool
	qpCounted, qpActive, qpQueued bool
	appActive, appQueued          bool
}

// streamState is one stream's progress through its phases. Open-model phases each have a
// schedule (their sends may overlap the next phase by the pacer's catch-up grace); closed-model
// clients each keep one request in flight.
type streamState struct {
	id            int32
	spec          Stream
	route         *route
	phase         int
	scheds        []schedule
	phaseStart    []time.Duration
	activeScheds  int
	clients       []clientState
	activeClients int
	lastStarted   bool
	seq           uint64
	arrivals      *rng.Stream
	done          bool
}

// clientState is one closed-model client.
type clientState struct {
	end   time.Duration // the client sends no request after its phase's end
	think time.Duration
}
