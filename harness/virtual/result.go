package virtual

import "time"

// Result is what a virtual run recorded. Times are offsets from time zero: the moment every
// initial revision was Ready, when the load starts (as in a live run).
type Result struct {
	// Bootstrap is the virtual time from creating the objects to time zero.
	Bootstrap time.Duration
	// End is when the run stopped: the later of Spec.Duration and the last request's outcome.
	End time.Duration
	// Streams names the streams, by index of Request.Stream.
	Streams []string
	// Requests in send order (unless discarded).
	Requests []Request
	// Samples are every revision's state each second from time zero (unless discarded).
	Samples []Sample
	// Decisions are every 2s decider tick and poke, from the revision's creation (unless
	// discarded).
	Decisions []Decision
	// Events are pod lifecycle steps, SKS mode switches and actions (unless discarded),
	// including those before time zero (negative times).
	Events []Event
	// States are every change of a revision's ready, existing and desired pods or SKS mode,
	// in time order, from its creation (unless Events are discarded).
	States []State
	// Revisions summarise each revision over the whole run after time zero.
	Revisions []RevisionSummary
	// Routes are each route's traffic at the end of the run.
	Routes []RouteState
	// Sent, Responses and Errors account for every request: Sent = Responses + Errors.
	Sent, Responses, Errors int
	// EventsProcessed counts the engine's events, for benchmarks.
	EventsProcessed uint64
}

// Request is one request's outcome.
type Request struct {
	Stream int32
	// Seq numbers the stream's requests from 0.
	Seq      uint64
	Sent     time.Duration
	Latency  time.Duration
	Code     uint16 // 0: no response (client timeout)
	Error    string
	Revision string // the revision the route's split chose
	// Served says the app answered (200, 500, or 503 beyond its own concurrency limit), as
	// opposed to the gateway, activator or queue-proxy, or no one.
	Served    bool
	ColdStart bool // the revision had no ready pod when the request arrived
}

// Sample is one revision's state at one second. RPS, Concurrency and Errors are what the
// load generator saw for the revision in the second before Time.
type Sample struct {
	Time           time.Duration
	Revision       string
	DesiredPods    int32 // the PA's desiredScale; -1 unknown
	ReadyPods      int32
	ActualPods     int32 // every pod that exists: starting, ready or terminating
	Stable, Panic  float64
	Panicking      bool
	Mode           string
	ActivatorQueue int
	RPS            float64
	Concurrency    float64
	Errors         int
}

// Decision is one autoscaler tick for one revision (§3.4).
type Decision struct {
	Time                time.Duration
	Revision            string
	ReadyPods           int32
	Stable, Panic       float64
	Target              float64
	DesiredPods         int32 // before min/max bounds; -1 no decision
	ExcessBurstCapacity int32
	Panicking           bool
	Mode                string
}

// Event kinds.
const (
	EventPod    = "pod"
	EventSKS    = "sks"
	EventAction = "action"
)

// Event is something that happened besides requests and decisions.
type Event struct {
	Time    time.Duration
	Kind    string
	Subject string
	Message string
}

// RevisionSummary is one revision's totals after time zero, for capacity planning.
type RevisionSummary struct {
	Name          string
	Configuration string
	// Created is when the revision was created (negative: before time zero).
	Created time.Duration
	// PodSeconds is the integral of existing pods (starting, ready, terminating) over time.
	PodSeconds float64
	// PeakPods and PeakReady are the most pods that existed / were ready at once.
	PeakPods, PeakReady int32
	// PodsStarted counts pods created after time zero.
	PodsStarted int
	// Requests, Errors (no response or status ≥ 500) and ColdStarts count the requests the
	// route's split sent to the revision.
	Requests, Errors, ColdStarts int
	// MaxAppConcurrency is the most requests any one pod's app worked on at once.
	MaxAppConcurrency int
	// ActivatorQueue is the most requests buffered in the activators for the revision in each
	// second after time zero (index = second; unless Samples are discarded).
	ActivatorQueue []int
}

// State is a revision's pod counts, desired scale and SKS mode from Time until its next State.
type State struct {
	Time                   time.Duration
	Revision               string
	Ready, Actual, Desired int32
	Mode                   string
}

// RouteState is where a route sends traffic: each revision's share of the main host and the
// revision of each tag.
type RouteState struct {
	Name    string
	Percent map[string]float64
	Tags    map[string]string
}
