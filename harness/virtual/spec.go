package virtual

import (
	"errors"
	"fmt"
	"time"

	"github.com/servingsim/servingsim/stack/app"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/podruntime"
)

// Spec is one virtual run: the Knative installation, its Configurations (each with a first
// Revision) and Routes, the load, the actions, and how long to run.
type Spec struct {
	// Seed seeds every random stream. 0 is a valid seed.
	Seed int64
	// Namespace of every object. Default "default".
	Namespace string
	// Config is the config-* snapshot in force at the start. Default config.Default().
	Config *config.Config
	// Activators is the number of activator instances (Knative's install: 1). 0 means 1.
	Activators int
	// Timing models the control plane's and network's reaction times. Zero fields take the
	// DefaultTiming values.
	Timing Timing
	// DrainQuietPeriod is how long a terminating pod's queue-proxy waits without requests
	// before it exits. Default queueproxy.DefaultDrainQuietPeriod (30s).
	DrainQuietPeriod time.Duration
	// Configurations are created at the start, each with its first revision.
	Configurations []Configuration
	// Routes send traffic to revisions; a Knative Service is one Configuration plus one Route
	// of the same name.
	Routes []Route
	// Streams are the load.
	Streams []Stream
	// Actions change the system while the load runs.
	Actions []Action
	// Duration is how long the run lasts from time zero. The run goes on past it until every
	// request sent has an outcome.
	Duration time.Duration
	// Arrivals is the arrival process of open-model phases. Default Paced.
	Arrivals ArrivalProcess
	// ClientTimeout bounds each request from send to response, like vegeta's client timeout.
	// Default 30s (vegeta.DefaultTimeout).
	ClientTimeout time.Duration
	// MaxBootstrap bounds the wait for time zero (every initial revision Ready). Default 10m
	// plus the initial configurations' creation spacing.
	MaxBootstrap time.Duration
	// Discard drops parts of the Result that large runs do not need.
	Discard Discard
}

// Discard selects parts of the Result not to keep; per-revision summaries are always kept.
type Discard struct {
	Requests, Samples, Decisions, Events bool
}

// Timing is the model of reaction times the discrete-event engine cannot derive: the control
// plane's watch-and-write chains and the network hops. DefaultTiming gives values close to
// what the live stack (envtest API server and in-process components on loopback) shows.
type Timing struct {
	// Reconcile is how long a decider's change, or a pod's readiness change, takes to reach the
	// PodAutoscaler reconciler and from it the Deployment's replicas.
	Reconcile time.Duration
	// Endpoints is a pod's Ready (or not-ready) transition → its revision's private Endpoints.
	Endpoints time.Duration
	// Probe is a new private endpoint → the activator's probe passed and it sends to the pod.
	Probe time.Duration
	// PublicEndpoints is a private endpoint change, or an SKS mode change, → the public
	// Endpoints the gateway routes by.
	PublicEndpoints time.Duration
	// GatewayHop is client → gateway → activator or queue-proxy.
	GatewayHop time.Duration
	// ActivatorHop is activator → queue-proxy.
	ActivatorHop time.Duration
	// QueueProxyHop is queue-proxy → app.
	QueueProxyHop time.Duration
	// ConditionPoll is how often when-actions' conditions are checked.
	ConditionPoll time.Duration
	// RouteReady is the last initial Revision Ready → every Route, Ingress and Service Ready:
	// time zero, when the load starts.
	RouteReady time.Duration
	// PodStart is a Deployment's scale-up → its first new pod running, before the pod's own
	// startup phases: the ReplicaSet's create, the pod runtime's watch and its status write.
	// Negative is none.
	PodStart time.Duration
	// PodSpacing is the time between the pods of one scale-up: the ReplicaSet creates them one
	// after another. Negative is none.
	PodSpacing time.Duration
	// CreateSpacing is the time between creating one initial Configuration (or Service) and
	// the next: the live stack applies spec.services in order through one API server.
	// Negative creates them all at once (capacity planning over many revisions).
	CreateSpacing time.Duration
}

// DefaultTiming is the reaction-time model used for zero Timing fields. The values come from
// the live stack on the project machine: a reconcile step is one or two API round trips of
// 10–20 ms (docs/benchmarks.md), an endpoints update about 50 ms from pod Ready to the
// Endpoints object, one more write for the SKS's public Endpoints, loopback HTTP hops of about
// 0.1–0.2 ms (the queue-proxy hop benchmark), a ksvc Ready about 200 ms after its creation
// with instant pods (p50 192 ms), and Services of one scenario created about 200 ms apart (a
// live scale-from-zero run's PodAutoscalers). A scale-up's pods run 45–130 ms after the
// decision in live catalog runs (load-test, burst-to-panic) with an instant pod model, about
// 25 ms apart: PodStart 50 ms after the reconcile, PodSpacing 25 ms.
var DefaultTiming = Timing{
	Reconcile:       20 * time.Millisecond,
	Endpoints:       50 * time.Millisecond,
	Probe:           5 * time.Millisecond,
	PublicEndpoints: 20 * time.Millisecond,
	GatewayHop:      200 * time.Microsecond,
	ActivatorHop:    150 * time.Microsecond,
	QueueProxyHop:   100 * time.Microsecond,
	ConditionPoll:   100 * time.Millisecond,
	RouteReady:      150 * time.Millisecond,
	CreateSpacing:   200 * time.Millisecond,
	PodStart:        50 * time.Millisecond,
	PodSpacing:      25 * time.Millisecond,
}

func (t Timing) withDefaults() Timing {
	d := DefaultTiming
	set := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	set(&t.Reconcile, d.Reconcile)
	set(&t.Endpoints, d.Endpoints)
	set(&t.Probe, d.Probe)
	set(&t.PublicEndpoints, d.PublicEndpoints)
	set(&t.GatewayHop, d.GatewayHop)
	set(&t.ActivatorHop, d.ActivatorHop)
	set(&t.QueueProxyHop, d.QueueProxyHop)
	set(&t.ConditionPoll, d.ConditionPoll)
	set(&t.RouteReady, d.RouteReady)
	set(&t.CreateSpacing, d.CreateSpacing)
	set(&t.PodStart, d.PodStart)
	set(&t.PodSpacing, d.PodSpacing)
	t.PodStart, t.PodSpacing = max(t.PodStart, 0), max(t.PodSpacing, 0)
	return t
}

// Configuration is a Knative Configuration: a stream of revisions of one template.
type Configuration struct {
	Name string
	// Revision is the first revision, created at the start.
	Revision RevisionSpec
}

// RevisionSpec is what the engine needs of a Revision, already defaulted by Knative's admission
// (the scenarios package runs the webhook's defaulting).
type RevisionSpec struct {
	Name string
	// Annotations are the revision template's annotations: autoscaling.knative.dev/* drive the
	// PodAutoscaler, sim.servingsim.dev/*-delay and fault keys each pod's plan.
	Annotations map[string]string
	// ContainerConcurrency is the hard per-pod limit; 0 is unlimited.
	ContainerConcurrency int
	// Timeout is the revision's timeoutSeconds: the activator and queue-proxy answer 504 after it.
	// Default 300s.
	Timeout time.Duration
	// App is the user container's model, as the app parses it from annotations and env.
	App app.Config
	// Startup is the pod lifecycle model (the template's annotations override phases per pod,
	// as in podruntime.DrawPlan).
	Startup podruntime.StartupModel
	// Faults are harness-wide faults (annotations override them).
	Faults podruntime.Faults
}

// Route is a Knative Route: a traffic block over revisions.
type Route struct {
	Name    string
	Traffic []TrafficTarget
}

// TrafficTarget is one entry of a traffic block (Knative's fields).
type TrafficTarget struct {
	Tag string
	// RevisionName pins a revision; otherwise ConfigurationName with LatestRevision follows its
	// latest ready revision.
	RevisionName      string
	ConfigurationName string
	LatestRevision    bool
	Percent           int
}

// Stream is one load stream: requests to one route's host (or a tag's), paced by phases.
type Stream struct {
	Name string
	// Route and Tag pick the host; ClusterLocal goes through the cluster-local gateway, which
	// routes the same way.
	Route        string
	Tag          string
	ClusterLocal bool
	// URL is what results record as the request URL.
	URL string
	// Sleep, when HasSleep, is the request's ?sleep= service time (instead of a draw from the
	// app's distribution), with SleepStddev as its normal jitter (?sleep-stddev=).
	Sleep, SleepStddev time.Duration
	HasSleep           bool
	// Start is when the first phase begins, from time zero.
	Start  time.Duration
	Phases []Phase
}

// End is when the stream's last phase ends, from time zero.
func (s Stream) End() time.Duration {
	end := s.Start
	for _, p := range s.Phases {
		end += p.Length()
	}
	return end
}

// Action changes the system during a run: at a time, or the first time When holds.
type Action struct {
	// Name describes the action in the event log.
	Name string
	// At is when the action runs, from time zero (ignored when When is set).
	At time.Duration
	// When, if set, runs the action the first time it holds, checked every ConditionPoll from
	// After on.
	When  func(q *Control) bool
	After time.Duration
	// Do applies the action.
	Do func(c *Control) error
}

func (s *Spec) validate() error {
	var errs []error
	if len(s.Configurations) == 0 {
		errs = append(errs, errors.New("virtual: no configurations"))
	}
	seen := map[string]bool{}
	for _, c := range s.Configurations {
		if c.Name == "" || c.Revision.Name == "" {
			errs = append(errs, fmt.Errorf("virtual: configuration %q: name and revision name are required", c.Name))
		}
		if seen[c.Revision.Name] {
			errs = append(errs, fmt.Errorf("virtual: revision %q is defined twice", c.Revision.Name))
		}
		seen[c.Revision.Name] = true
	}
	routes := map[string]bool{}
	for _, r := range s.Routes {
		routes[r.Name] = true
	}
	for _, st := range s.Streams {
		if !routes[st.Route] {
			errs = append(errs, fmt.Errorf("virtual: stream %q targets unknown route %q", st.Name, st.Route))
		}
		for i, p := range st.Phases {
			if err := p.check(); err != nil {
				errs = append(errs, fmt.Errorf("virtual: stream %q phase %d (%s): %w", st.Name, i, p.Kind(), err))
			}
		}
	}
	if s.Activators < 0 {
		errs = append(errs, fmt.Errorf("virtual: %d activators", s.Activators))
	}
	return errors.Join(errs...)
}
