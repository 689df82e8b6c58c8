package activator

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/servingsim/servingsim/stack/rng"
)

// Load-balancing policies of the throttler (§4), named for snapshots.
const (
	PolicyRandomChoice2  = "random-choice-2"
	PolicyFirstAvailable = "first-available"
	PolicyRoundRobin     = "round-robin"
)

// PolicyFor is the load-balancing policy Knative picks for containerConcurrency cc: random
// choice of 2 for 0 (no per-pod limit), first available up to 3, round robin above.
func PolicyFor(cc int) string {
	switch {
	case cc <= 0:
		return PolicyRandomChoice2
	case cc <= 3:
		return PolicyFirstAvailable
	}
	return PolicyRoundRobin
}

// Throttler is one revision's throttler in one activator (§4 Per-revision throttler): the
// revision breaker (queue depth 10,000) whose capacity follows the backends, one tracker per
// healthy pod, this activator's share of those pods, and the load-balancing policy that picks
// a pod for each admitted request. It starts with no backends, so requests wait (buffering at
// zero) until UpdateBackends brings some. It reads no clock and starts no goroutines; the only
// randomness is rnd, used by random choice of 2.
type Throttler struct {
	cc      int
	policy  string
	breaker *Breaker
	rnd     *rng.Stream

	reenqueued atomic.Int64 // requests waiting for pod capacity after a failed pick

	mu       sync.Mutex
	pods     map[string]*podTracker // healthy backends by dest
	sorted   []*podTracker          // the same, in IP order
	assigned []*podTracker          // this activator's share, in IP order
	index    int                    // this activator's index, −1 until known
	count    int                    // number of activators in the revision's path
	rrNext   int                    // round robin: where the next scan starts
	changed  chan struct{}          // closed when pod capacity changes; made only when someone waits
}

// podTracker is one healthy pod. With CC > 0 it is the pod's own breaker of capacity CC,
// used only through non-blocking reservations (Knative's podTracker.Reserve); with CC = 0 it
// just counts in-flight requests, the "weight" random choice of 2 compares.
type podTracker struct {
	dest     string
	capacity int // CC; 0 = no per-pod limit
	inFlight int
}

func (p *podTracker) available() bool { return p.capacity == 0 || p.inFlight < p.capacity }

// NewThrottler returns the throttler of a revision with containerConcurrency cc (0 =
// unlimited). rnd drives random choice of 2; nil uses a fixed-seed stream.
func NewThrottler(cc int, rnd *rng.Stream) *Throttler {
	cc = max(cc, 0)
	if rnd == nil {
		rnd = rng.New(1).Stream("activator/lb")
	}
	return &Throttler{
		cc: cc, policy: PolicyFor(cc), rnd: rnd,
		breaker: NewBreaker(RevisionQueueDepth, 0),
		pods:    map[string]*podTracker{},
		index:   -1,
	}
}

// ContainerConcurrency is the revision's containerConcurrency.
func (t *Throttler) ContainerConcurrency() int { return t.cc }

// UpdateBackends replaces the healthy pods (probed dests). Trackers of pods that stay keep
// their in-flight counts; pods that leave stop getting requests while the ones they hold
// finish.
func (t *Throttler) UpdateBackends(dests []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	pods := make(map[string]*podTracker, len(dests))
	sorted := make([]*podTracker, 0, len(dests))
	for _, d := range SortIPs(dests) {
		p := t.pods[d]
		if p == nil {
			p = &podTracker{dest: d, capacity: t.cc}
		}
		pods[d] = p
		sorted = append(sorted, p)
	}
	t.pods, t.sorted = pods, sorted
	t.recomputeLocked()
}

// UpdateActivators sets this activator's index among count activators (from
// ActivatorPosition); index −1 means unknown, and the activator takes every pod.
func (t *Throttler) UpdateActivators(index, count int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.index == index && t.count == count {
		return
	}
	t.index, t.count = index, count
	t.recomputeLocked()
}

// recomputeLocked reassigns pods and resizes the revision breaker (§4 Capacity): CC × pods
// assigned to this activator, or unlimited for CC = 0, and 0 without backends.
func (t *Throttler) recomputeLocked() {
	t.assigned = AssignPods(t.sorted, t.index, t.count)
	capacity := 0
	switch {
	case len(t.sorted) == 0:
	case t.cc == 0:
		capacity = UnlimitedCapacity
	default:
		capacity = min(t.cc*len(t.assigned), UnlimitedCapacity)
	}
	t.breaker.SetCapacity(capacity)
	t.signalLocked()
}

func (t *Throttler) signalLocked() {
	if t.changed != nil {
		close(t.changed)
		t.changed = nil
	}
}

// Try runs fn with a pod's dest once the revision breaker admits the request and a pod can
// take it (§4 Try loop). It waits in the breaker until there is capacity or ctx ends; when the
// breaker admits but no assigned pod has room (breaker and pod capacity are not updated
// atomically), the request gives its slot back and re-enqueues once pod capacity changes. It
// returns ErrRequestQueueFull when the queue is full, ctx's error when ctx ends first (fn does
// not run then), or fn's error. There is no retry once fn ran.
func (t *Throttler) Try(ctx context.Context, fn func(dest string) error) error {
	for {
		if err := t.breaker.Acquire(ctx); err != nil {
			return err
		}
		p, changed := t.acquirePod()
		if p != nil {
			return t.run(p, fn)
		}
		t.breaker.Release()
		t.reenqueued.Add(1)
		select {
		case <-changed:
			t.reenqueued.Add(-1)
		case <-ctx.Done():
			t.reenqueued.Add(-1)
			return ctx.Err()
		}
	}
}

// run calls fn on p, releasing the pod and the breaker slot however fn ends (the reverse
// proxy panics with http.ErrAbortHandler when a client goes away mid-response).
func (t *Throttler) run(p *podTracker, fn func(dest string) error) error {
	defer t.breaker.Release()
	defer t.releasePod(p)
	return fn(p.dest)
}

// acquirePod reserves a pod by the policy, or returns the channel that signals the next
// change of pod capacity.
func (t *Throttler) acquirePod() (*podTracker, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var p *podTracker
	switch t.policy {
	case PolicyRandomChoice2:
		p = t.randomChoice2()
	case PolicyFirstAvailable:
		p = t.firstAvailable()
	default:
		p = t.roundRobin()
	}
	if p == nil {
		if t.changed == nil {
			t.changed = make(chan struct{})
		}
		return nil, t.changed
	}
	p.inFlight++
	return p, nil
}

func (t *Throttler) releasePod(p *podTracker) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p.inFlight--
	t.signalLocked()
}

// randomChoice2 draws two distinct assigned pods and takes the one with fewer requests in
// flight, a fair coin breaking ties (Knative's randomChoice2Policy; CC = 0 only, no limits).
// With one pod there is no draw, with two both are the contestants.
func (t *Throttler) randomChoice2() *podTracker {
	ts := t.assigned
	l := len(ts)
	switch l {
	case 0:
		return nil
	case 1:
		return ts[0]
	}
	r1, r2 := 0, 1
	if l > 2 {
		r1, r2 = t.rnd.IntN(l), t.rnd.IntN(l-1)
		if r2 >= r1 { // draw from [0,l) without r1
			r2++
		}
	}
	pick, alt := ts[r1], ts[r2]
	if pick.inFlight > alt.inFlight || (pick.inFlight == alt.inFlight && t.rnd.IntN(2) == 0) {
		pick = alt
	}
	return pick
}

// firstAvailable takes the first assigned pod, in IP order, that has room.
func (t *Throttler) firstAvailable() *podTracker {
	for _, p := range t.assigned {
		if p.available() {
			return p
		}
	}
	return nil
}

// roundRobin scans the assigned pods starting after the last pick and takes the first with
// room; the start resets to 0 when the pod list shrank below it.
func (t *Throttler) roundRobin() *podTracker {
	l := len(t.assigned)
	if t.rrNext >= l {
		t.rrNext = 0
	}
	for i := range l {
		idx := (t.rrNext + i) % l
		if p := t.assigned[idx]; p.available() {
			t.rrNext = idx + 1
			return p
		}
	}
	return nil
}

// PodState is one healthy pod as the throttler sees it.
type PodState struct {
	Dest     string
	InFlight int
	Assigned bool // in this activator's share
}

// ThrottlerState is a throttler's counts at one instant, for observability.
type ThrottlerState struct {
	ContainerConcurrency int
	Policy               string
	// Capacity is the revision breaker's capacity (UnlimitedCapacity for CC = 0 with backends).
	Capacity int
	// InFlight is the number of requests admitted (picking or proxying).
	InFlight int
	// Queued is the number of requests buffered: waiting in the revision breaker or for pod
	// capacity after a failed pick.
	Queued int
	// HealthyPods and AssignedPods count the backends and this activator's share of them.
	HealthyPods, AssignedPods int
	// ActivatorIndex (−1 unknown) and NumActivators locate this activator in the revision's path.
	ActivatorIndex, NumActivators int
	// Pods are the healthy pods in IP order.
	Pods []PodState
}

// State returns the throttler's counts.
func (t *Throttler) State() ThrottlerState {
	b := t.breaker.State()
	t.mu.Lock()
	defer t.mu.Unlock()
	s := ThrottlerState{
		ContainerConcurrency: t.cc, Policy: t.policy,
		Capacity: b.Capacity, InFlight: b.InFlight, Queued: b.Waiting + int(t.reenqueued.Load()),
		HealthyPods: len(t.sorted), AssignedPods: len(t.assigned),
		ActivatorIndex: t.index, NumActivators: t.count,
	}
	assigned := make(map[*podTracker]bool, len(t.assigned))
	for _, p := range t.assigned {
		assigned[p] = true
	}
	for _, p := range t.sorted {
		s.Pods = append(s.Pods, PodState{Dest: p.dest, InFlight: p.inFlight, Assigned: assigned[p]})
	}
	return s
}
