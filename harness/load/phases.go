package load

import (
	"errors"
	"fmt"
	"math"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Phase is one stretch of a load profile. Rates are requests per second.
type Phase interface {
	// Kind names the phase type: constant, ramp, step, sine, idle, concurrent.
	Kind() string
	// Length is how long the phase lasts.
	Length() time.Duration
	// plan validates the phase against the rate bound and says how to run it.
	plan(maxRate float64) (plan, error)
}

// plan is how one phase runs: an open model (pacer, planned requests) or a closed one
// (clients), or nothing (idle).
type plan struct {
	pacer   vegeta.Pacer
	planned uint64        // requests the pacer schedules within the phase; 0 for closed/idle
	clients uint64        // closed model: that many workers, each sending back to back
	think   time.Duration // closed model: each worker's pause after an outcome
	// atOnce: all planned requests leave together (a burst with no spread): that many
	// workers, and no deadline but the plan.
	atOnce bool
}

// Constant sends Rate requests per second for Duration with vegeta's ConstantPacer: the k-th
// request is due at k/Rate, so exactly ⌊Rate·Duration⌋ are sent (vegeta's interval is whole
// nanoseconds).
type Constant struct {
	Rate     float64
	Duration time.Duration
}

// Ramp changes the rate linearly from From to To over Duration. It uses vegeta's LinearPacer
// where that pacer is accurate (From² ≥ 10·|slope|: the rate changes by under a tenth within one
// inter-arrival time). From lower rates, in particular from 0, LinearPacer waits 1/rate at the
// start rate and then bursts to catch up, so there the phase uses the same exact
// integral-inverting pacer as Step, with one linear segment. About (From+To)/2·Duration
// requests are sent.
type Ramp struct {
	From, To float64
	Duration time.Duration
}

// Step holds Steps rates for StepDuration each, evenly spaced from From to To (Steps = 1
// holds From). It sends exactly Σ rate·StepDuration requests (rounded down), with its own
// vegeta.Pacer as vegeta has no step pacer.
type Step struct {
	From, To     float64
	Steps        int
	StepDuration time.Duration
}

// Sine varies the rate as Mean + Amp·sin(2πt/Period), starting at the mean and rising, for
// Duration, with vegeta's SinePacer. Amp must be below Mean.
type Sine struct {
	Mean, Amp float64
	Period    time.Duration
	Duration  time.Duration
}

// Idle sends nothing for Duration.
type Idle struct {
	Duration time.Duration
}

// Concurrent is the closed model: Clients workers, each sending a request, waiting for its
// outcome (response or error), then Think, then sending the next, for Duration. A client whose
// think would end after Duration sends nothing more. Results' latencies exclude the think.
type Concurrent struct {
	Clients  int
	Think    time.Duration
	Duration time.Duration
}

// Burst sends Requests requests spread evenly over Within (the k-th due at k·Within/Requests),
// or, with Within 0, all at once in parallel (Knative's scale-from-zero benchmark).
type Burst struct {
	Requests int
	Within   time.Duration
}

// Trace replays arrival times, each an offset from the phase start (not decreasing). The
// phase lasts until the last arrival.
type Trace struct {
	Arrivals []time.Duration
}

// Bounds of a run.
const (
	// MaxRate is the highest rate any phase may ask for, and the ceiling of Options.MaxRate.
	MaxRate = 50_000
	// MaxTotalDuration bounds the sum of the phase lengths.
	MaxTotalDuration = time.Hour
	// MaxClients bounds Concurrent.Clients and the requests of a Burst sent at once.
	MaxClients = 10_000
)

// Kind implements Phase.
func (Constant) Kind() string { return "constant" }

// Kind implements Phase.
func (Ramp) Kind() string { return "ramp" }

// Kind implements Phase.
func (Step) Kind() string { return "step" }

// Kind implements Phase.
func (Sine) Kind() string { return "sine" }

// Kind implements Phase.
func (Idle) Kind() string { return "idle" }

// Kind implements Phase.
func (Concurrent) Kind() string { return "concurrent" }

// Kind implements Phase.
func (Burst) Kind() string { return "burst" }

// Kind implements Phase.
func (Trace) Kind() string { return "trace" }

// Length implements Phase.
func (p Constant) Length() time.Duration { return p.Duration }

// Length implements Phase.
func (p Ramp) Length() time.Duration { return p.Duration }

// Length implements Phase.
func (p Step) Length() time.Duration { return time.Duration(max(p.Steps, 0)) * p.StepDuration }

// Length implements Phase.
func (p Sine) Length() time.Duration { return p.Duration }

// Length implements Phase.
func (p Idle) Length() time.Duration { return p.Duration }

// Length implements Phase.
func (p Concurrent) Length() time.Duration { return p.Duration }

// Length implements Phase.
func (p Burst) Length() time.Duration { return p.Within }

// Length implements Phase.
func (p Trace) Length() time.Duration {
	if len(p.Arrivals) == 0 {
		return 0
	}
	return p.Arrivals[len(p.Arrivals)-1]
}

// errField is a validation error naming the offending field (prefixed with the phase's
// position by Options.validate).
func errField(field string, v any, why string) error {
	return fmt.Errorf("%s = %v %s", field, v, why)
}

func checkRate(field string, r, maxRate float64, allowZero bool) error {
	switch {
	case math.IsNaN(r) || math.IsInf(r, 0):
		return errField(field, r, "is not a number")
	case r < 0 || (!allowZero && r == 0):
		if allowZero {
			return errField(field, r, "must be ≥ 0")
		}
		return errField(field, r, "must be > 0")
	case r > maxRate:
		return errField(field, r, fmt.Sprintf("exceeds the rate bound %g (Options.MaxRate, at most %d)", maxRate, MaxRate))
	}
	return nil
}

func checkDuration(field string, d time.Duration) error {
	if d <= 0 {
		return errField(field, d, "must be > 0")
	}
	return nil
}

func (p Constant) plan(maxRate float64) (plan, error) {
	if err := errors.Join(checkRate("Rate", p.Rate, maxRate, false), checkDuration("Duration", p.Duration)); err != nil {
		return plan{}, err
	}
	cp := vegetaRate(p.Rate)
	interval := cp.Per.Nanoseconds() / int64(cp.Freq) // as ConstantPacer computes it
	return plan{pacer: cp, planned: uint64(p.Duration.Nanoseconds() / max(interval, 1))}, nil
}

// linearPacerAccuracy is the bound on slope/From² under which vegeta's LinearPacer is used.
const linearPacerAccuracy = 0.1

func (p Ramp) plan(maxRate float64) (plan, error) {
	if err := errors.Join(checkRate("From", p.From, maxRate, true), checkRate("To", p.To, maxRate, true),
		checkDuration("Duration", p.Duration)); err != nil {
		return plan{}, err
	}
	if p.From == 0 && p.To == 0 {
		return plan{}, errField("From and To", 0, "are both 0; use Idle")
	}
	slope := (p.To - p.From) / p.Duration.Seconds()
	planned := uint64(math.Floor((p.From+p.To)/2*p.Duration.Seconds() + 1e-9))
	if p.From > 0 && math.Abs(slope) <= linearPacerAccuracy*p.From*p.From {
		return plan{pacer: vegeta.LinearPacer{StartAt: vegetaRate(p.From), Slope: slope}, planned: planned}, nil
	}
	sp := newSegmentPacer([]segment{{length: p.Duration, from: p.From, to: p.To}})
	return plan{pacer: sp, planned: sp.planned()}, nil
}

func (p Step) plan(maxRate float64) (plan, error) {
	if p.Steps < 1 {
		return plan{}, errField("Steps", p.Steps, "must be ≥ 1")
	}
	if err := errors.Join(checkRate("From", p.From, maxRate, true), checkRate("To", p.To, maxRate, true),
		checkDuration("StepDuration", p.StepDuration)); err != nil {
		return plan{}, err
	}
	segs := make([]segment, p.Steps)
	for i := range segs {
		r := p.From
		if p.Steps > 1 {
			r = p.From + float64(i)*(p.To-p.From)/float64(p.Steps-1)
		}
		segs[i] = segment{length: p.StepDuration, from: r, to: r}
	}
	sp := newSegmentPacer(segs)
	if sp.planned() == 0 {
		return plan{}, errors.New("every step's rate is 0; use Idle")
	}
	return plan{pacer: sp, planned: sp.planned()}, nil
}

func (p Sine) plan(maxRate float64) (plan, error) {
	if err := errors.Join(checkRate("Mean", p.Mean, maxRate, false), checkRate("Amp", p.Amp, maxRate, true),
		checkDuration("Period", p.Period), checkDuration("Duration", p.Duration)); err != nil {
		return plan{}, err
	}
	if p.Amp >= p.Mean {
		return plan{}, errField("Amp", p.Amp, fmt.Sprintf("must be below Mean (%g): vegeta's SinePacer stops otherwise", p.Mean))
	}
	if p.Mean+p.Amp > maxRate {
		return plan{}, errField("Mean+Amp", p.Mean+p.Amp, fmt.Sprintf("exceeds the rate bound %g (Options.MaxRate)", maxRate))
	}
	sp := vegeta.SinePacer{Period: p.Period, Mean: vegetaRate(p.Mean), Amp: vegetaRate(p.Amp), StartAt: vegeta.MeanUp}
	// Hits due by Duration, as SinePacer integrates them: M·t + (A·P/2π)(cos O − cos(O + 2πt/P)).
	mean, amp := hitsPerNs(sp.Mean), hitsPerNs(sp.Amp)
	t := float64(p.Duration)
	due := mean*t + amp*float64(p.Period)/(2*math.Pi)*(math.Cos(sp.StartAt)-math.Cos(sp.StartAt+2*math.Pi*t/float64(p.Period)))
	return plan{pacer: sp, planned: uint64(math.Floor(due + 1e-9))}, nil
}

func (p Idle) plan(float64) (plan, error) {
	return plan{}, checkDuration("Duration", p.Duration)
}

func (p Concurrent) plan(float64) (plan, error) {
	if p.Clients < 1 || p.Clients > MaxClients {
		return plan{}, errField("Clients", p.Clients, fmt.Sprintf("must be in [1, %d]", MaxClients))
	}
	if err := checkDuration("Duration", p.Duration); err != nil {
		return plan{}, err
	}
	if p.Think < 0 || p.Think > MaxTotalDuration {
		return plan{}, errField("Think", p.Think, fmt.Sprintf("must be in [0, %s]", MaxTotalDuration))
	}
	// vegeta's zero ConstantPacer is an unbounded rate; with exactly Clients workers each tick
	// waits for a free worker, which is the closed model. The think happens in the worker,
	// in the targeter, before its next request.
	return plan{pacer: vegeta.ConstantPacer{}, clients: uint64(p.Clients), think: p.Think}, nil
}

func (p Burst) plan(maxRate float64) (plan, error) {
	switch {
	case p.Within < 0:
		return plan{}, errField("Within", p.Within, "must be ≥ 0")
	case p.Requests < 1:
		return plan{}, errField("Requests", p.Requests, "must be ≥ 1")
	case p.Within == 0 && p.Requests > MaxClients:
		return plan{}, errField("Requests", p.Requests, fmt.Sprintf("must be ≤ %d when sent at once (Within 0)", MaxClients))
	case p.Within == 0:
		// vegeta's zero ConstantPacer: no wait between requests.
		return plan{pacer: vegeta.ConstantPacer{}, planned: uint64(p.Requests), atOnce: true}, nil
	}
	rate := float64(p.Requests) / p.Within.Seconds()
	if err := checkRate("Requests/Within", rate, maxRate, false); err != nil {
		return plan{}, err
	}
	sp := newSegmentPacer([]segment{{length: p.Within, from: rate, to: rate}})
	return plan{pacer: sp, planned: uint64(p.Requests)}, nil
}

func (p Trace) plan(maxRate float64) (plan, error) {
	if len(p.Arrivals) == 0 {
		return plan{}, errField("Arrivals", "[]", "is empty")
	}
	lo := 0 // sliding one-second window [Arrivals[lo], Arrivals[i]] for the rate bound
	for i, a := range p.Arrivals {
		switch {
		case a < 0:
			return plan{}, errField(fmt.Sprintf("Arrivals[%d]", i), a, "must be ≥ 0")
		case i > 0 && a < p.Arrivals[i-1]:
			return plan{}, errField(fmt.Sprintf("Arrivals[%d]", i), a, fmt.Sprintf("is before Arrivals[%d] = %v", i-1, p.Arrivals[i-1]))
		}
		for a-p.Arrivals[lo] >= time.Second {
			lo++
		}
		if n := i - lo + 1; float64(n) > maxRate {
			return plan{}, errField(fmt.Sprintf("Arrivals[%d]", i), a, fmt.Sprintf("makes %d arrivals within one second, over the rate bound %g", n, maxRate))
		}
	}
	return plan{pacer: tracePacer(p.Arrivals), planned: uint64(len(p.Arrivals))}, nil
}

// tracePacer sends the k-th request at arrivals[k].
type tracePacer []time.Duration

var _ vegeta.Pacer = tracePacer(nil)

// Pace implements vegeta.Pacer.
func (t tracePacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= uint64(len(t)) {
		return 0, true
	}
	return t[hits] - elapsed, false // negative when behind: vegeta sends at once
}

// Rate implements vegeta.Pacer: arrivals in the second around elapsed.
func (t tracePacer) Rate(elapsed time.Duration) float64 {
	n := 0
	for _, a := range t {
		if (a - elapsed).Abs() <= time.Second/2 {
			n++
		}
	}
	return float64(n)
}

// vegetaRate converts requests per second to a vegeta.Rate: whole rates per second exactly,
// fractional ones as one request per interval (nanosecond precision).
func vegetaRate(r float64) vegeta.Rate {
	switch {
	case r <= 0:
		return vegeta.Rate{Freq: 0, Per: time.Second}
	case r == math.Trunc(r):
		return vegeta.Rate{Freq: int(r), Per: time.Second}
	default:
		return vegeta.Rate{Freq: 1, Per: time.Duration(math.Round(float64(time.Second) / r))}
	}
}

func hitsPerNs(r vegeta.Rate) float64 { return float64(r.Freq) / float64(r.Per) }
