package virtual

import (
	"errors"
	"fmt"
	"math"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/servingsim/servingsim/stack/rng"
)

// Phase is one stretch of a stream's load, the same kinds the live load generator
// (harness/load) runs: Constant, Ramp, Step, Sine, Burst, Idle and Trace (open model) and
// Concurrent (closed model).
type Phase interface {
	// Kind names the phase type as scenarios do: constant, ramp, step, ...
	Kind() string
	// Length is how long the phase lasts.
	Length() time.Duration
	check() error
}

// ArrivalProcess is how open-model phases place requests in time.
type ArrivalProcess int

const (
	// Paced sends the k-th request when k requests are due, as the live load generator's
	// vegeta pacers do: the same schedule as a live run, without its jitter.
	Paced ArrivalProcess = iota
	// Poisson draws a non-homogeneous Poisson process with the phase's rate: the k-th request
	// comes when the integral of the rate reaches the sum of k unit exponential draws.
	Poisson
)

// Constant sends Rate requests per second for Duration.
type Constant struct {
	Rate     float64
	Duration time.Duration
}

// Ramp changes the rate linearly from From to To over Duration.
type Ramp struct {
	From, To float64
	Duration time.Duration
}

// Step holds Steps equal levels from From to To, each for Duration/Steps.
type Step struct {
	From, To float64
	Steps    int
	Duration time.Duration
}

// Sine varies the rate as Mean + Amp·sin(2πt/Period), starting at the mean and rising.
type Sine struct {
	Mean, Amp float64
	Period    time.Duration
	Duration  time.Duration
}

// Burst sends Requests requests spread evenly over Within, or all at once with Within 0.
type Burst struct {
	Requests int
	Within   time.Duration
}

// Idle sends nothing for Duration.
type Idle struct{ Duration time.Duration }

// Concurrent runs Clients closed-model clients for Duration: each sends a request, waits for
// its outcome and Think, and sends the next while the phase lasts.
type Concurrent struct {
	Clients  int
	Think    time.Duration
	Duration time.Duration
}

// Trace sends a request at each arrival offset (not decreasing) from the phase start.
type Trace struct{ Arrivals []time.Duration }

// Kind implements Phase.
func (Constant) Kind() string { return "constant" }

// Kind implements Phase.
func (Ramp) Kind() string { return "ramp" }

// Kind implements Phase.
func (Step) Kind() string { return "step" }

// Kind implements Phase.
func (Sine) Kind() string { return "sine" }

// Kind implements Phase.
func (Burst) Kind() string { return "burst" }

// Kind implements Phase.
func (Idle) Kind() string { return "idle" }

// Kind implements Phase.
func (Concurrent) Kind() string { return "concurrent" }

// Kind implements Phase.
func (Trace) Kind() string { return "trace" }

// Length implements Phase.
func (p Constant) Length() time.Duration { return p.Duration }

// Length implements Phase.
func (p Ramp) Length() time.Duration { return p.Duration }

// Length implements Phase.
func (p Step) Length() time.Duration { return p.Duration }

// Length implements Phase.
func (p Sine) Length() time.Duration { return p.Duration }

// Length implements Phase.
func (p Burst) Length() time.Duration { return p.Within }

// Length implements Phase.
func (p Idle) Length() time.Duration { return p.Duration }

// Length implements Phase.
func (p Concurrent) Length() time.Duration { return p.Duration }

// Length implements Phase.
func (p Trace) Length() time.Duration {
	if len(p.Arrivals) == 0 {
		return 0
	}
	return p.Arrivals[len(p.Arrivals)-1]
}

func rateOK(r float64) bool { return r >= 0 && !math.IsNaN(r) && !math.IsInf(r, 0) }

func (p Constant) check() error {
	if !(p.Rate > 0) || !rateOK(p.Rate) || p.Duration <= 0 {
		return fmt.Errorf("want rate > 0 and duration > 0, got %g for %s", p.Rate, p.Duration)
	}
	return nil
}

func (p Ramp) check() error {
	if !rateOK(p.From) || !rateOK(p.To) || p.From+p.To == 0 || p.Duration <= 0 {
		return fmt.Errorf("want rates ≥ 0 (not both 0) and duration > 0, got %g → %g over %s", p.From, p.To, p.Duration)
	}
	return nil
}

func (p Step) check() error {
	if !rateOK(p.From) || !rateOK(p.To) || p.Steps < 1 || p.Duration <= 0 {
		return fmt.Errorf("want rates ≥ 0, steps ≥ 1 and duration > 0, got %g → %g in %d over %s", p.From, p.To, p.Steps, p.Duration)
	}
	return nil
}

func (p Sine) check() error {
	if !(p.Mean > 0) || !rateOK(p.Amp) || p.Amp >= p.Mean || p.Period <= 0 || p.Duration <= 0 {
		return fmt.Errorf("want 0 ≤ amp < mean, period and duration > 0, got %g ± %g, %s, %s", p.Mean, p.Amp, p.Period, p.Duration)
	}
	return nil
}

func (p Burst) check() error {
	if p.Requests < 1 || p.Within < 0 {
		return fmt.Errorf("want requests ≥ 1 and within ≥ 0, got %d within %s", p.Requests, p.Within)
	}
	return nil
}

func (p Idle) check() error {
	if p.Duration <= 0 {
		return errors.New("want duration > 0")
	}
	return nil
}

func (p Concurrent) check() error {
	if p.Clients < 1 || p.Duration <= 0 || p.Think < 0 {
		return fmt.Errorf("want clients ≥ 1, think ≥ 0 and duration > 0, got %d, %s, %s", p.Clients, p.Think, p.Duration)
	}
	return nil
}

func (p Trace) check() error {
	for i, a := range p.Arrivals {
		if a < 0 || (i > 0 && a < p.Arrivals[i-1]) {
			return fmt.Errorf("arrival %d (%s) is negative or before the previous one", i, a)
		}
	}
	return nil
}

// schedule yields an open-model phase's send times, as offsets from the phase start.
type schedule interface {
	next() (time.Duration, bool)
}

// scheduleOf returns the send times of an open-model phase under process, drawing from r for
// Poisson arrivals; nil for Idle and Concurrent.
func scheduleOf(p Phase, process ArrivalProcess, r *rng.Stream) schedule {
	if process == Poisson {
		if prof := profileOf(p); prof != nil {
			return &poissonSchedule{prof: prof, r: r, limit: prof.total()}
		}
	}
	switch p := p.(type) {
	case Constant:
		cp := vegetaRate(p.Rate)
		interval := cp.Per.Nanoseconds() / int64(cp.Freq) // as ConstantPacer computes it
		return newPacerSchedule(cp, uint64(p.Duration.Nanoseconds()/max(interval, 1)), p.Duration)
	case Ramp:
		slope := (p.To - p.From) / p.Duration.Seconds()
		if p.From > 0 && math.Abs(slope) <= 0.1*p.From*p.From { // harness/load: where LinearPacer is accurate
			planned := uint64(math.Floor((p.From+p.To)/2*p.Duration.Seconds() + 1e-9))
			return newPacerSchedule(vegeta.LinearPacer{StartAt: vegetaRate(p.From), Slope: slope}, planned, p.Duration)
		}
		return newProfileSchedule(profileOf(p))
	case Step, Burst:
		if b, ok := p.(Burst); ok && b.Within == 0 {
			return &atOnce{n: b.Requests}
		}
		return newProfileSchedule(profileOf(p))
	case Sine:
		sp := vegeta.SinePacer{Period: p.Period, Mean: vegetaRate(p.Mean), Amp: vegetaRate(p.Amp), StartAt: vegeta.MeanUp}
		mean := float64(sp.Mean.Freq) / float64(sp.Mean.Per)
		amp := float64(sp.Amp.Freq) / float64(sp.Amp.Per)
		t := float64(p.Duration)
		due := mean*t + amp*float64(p.Period)/(2*math.Pi)*(1-math.Cos(2*math.Pi*t/float64(p.Period)))
		return newPacerSchedule(sp, uint64(math.Floor(due+1e-9)), p.Duration)
	case Trace:
		return &traceSchedule{arrivals: p.Arrivals}
	}
	return nil
}

// pacerSchedule runs a vegeta pacer the way the live load generator does, with an attacker
// that is never late: sleep for the pacer's wait, send, ask again; stop after the planned
// requests or when the next one would be due after the phase plus its catch-up grace.
type pacerSchedule struct {
	pacer   vegeta.Pacer
	planned uint64
	until   time.Duration
	hits    uint64
	elapsed time.Duration
	done    bool
}

func newPacerSchedule(p vegeta.Pacer, planned uint64, length time.Duration) *pacerSchedule {
	return &pacerSchedule{pacer: p, planned: planned, until: length + max(length/10, 100*time.Millisecond)}
}

func (s *pacerSchedule) next() (time.Duration, bool) {
	if s.done || s.hits >= s.planned {
		s.done = true
		return 0, false
	}
	wait, stop := s.pacer.Pace(s.elapsed, s.hits)
	if stop || s.elapsed+max(wait, 0) > s.until {
		s.done = true
		return 0, false
	}
	s.elapsed += max(wait, 0)
	s.hits++
	return s.elapsed, true
}

// profileSchedule sends the k-th request (from 1) when the integral of the rate reaches k:
// harness/load's segment pacer for steps, spread bursts and ramps from low rates.
type profileSchedule struct {
	prof    profile
	planned uint64
	hits    uint64
}

func newProfileSchedule(p profile) *profileSchedule {
	return &profileSchedule{prof: p, planned: uint64(math.Floor(p.total() + 1e-9))}
}

func (s *profileSchedule) next() (time.Duration, bool) {
	if s.hits >= s.planned {
		return 0, false
	}
	s.hits++
	return s.prof.at(float64(s.hits)), true
}

// poissonSchedule places arrivals at the integral's inverse of a unit-rate Poisson process.
type poissonSchedule struct {
	prof  profile
	r     *rng.Stream
	limit float64
	sum   float64
}

func (s *poissonSchedule) next() (time.Duration, bool) {
	s.sum += s.r.ExpFloat64()
	if s.sum > s.limit {
		return 0, false
	}
	return s.prof.at(s.sum), true
}

type atOnce struct{ n, sent int }

func (s *atOnce) next() (time.Duration, bool) {
	if s.sent >= s.n {
		return 0, false
	}
	s.sent++
	return 0, true
}

type traceSchedule struct {
	arrivals []time.Duration
	i        int
}

func (s *traceSchedule) next() (time.Duration, bool) {
	if s.i >= len(s.arrivals) {
		return 0, false
	}
	s.i++
	return s.arrivals[s.i-1], true
}

// profile is a phase's expected requests over time: total is ∫rate over the phase, at(n) the
// offset at which the integral reaches n (≤ total).
type profile interface {
	total() float64
	at(n float64) time.Duration
}

func profileOf(p Phase) profile {
	switch p := p.(type) {
	case Constant:
		return segments{{length: p.Duration, from: p.Rate, to: p.Rate}}
	case Ramp:
		return segments{{length: p.Duration, from: p.From, to: p.To}}
	case Step:
		segs := make(segments, p.Steps)
		each := p.Duration / time.Duration(p.Steps)
		for i := range segs {
			r := p.From
			if p.Steps > 1 {
				r = p.From + float64(i)*(p.To-p.From)/float64(p.Steps-1)
			}
			segs[i] = segment{length: each, from: r, to: r}
		}
		return segs
	case Burst:
		if p.Within > 0 {
			r := float64(p.Requests) / p.Within.Seconds()
			return segments{{length: p.Within, from: r, to: r}}
		}
	case Sine:
		return sineProfile{mean: p.Mean, amp: p.Amp, period: p.Period.Seconds(), length: p.Duration}
	}
	return nil
}

// segment is a stretch over which the rate moves linearly from `from` to `to`.
type segment struct {
	length   time.Duration
	from, to float64
}

// hits is ∫rate over the first tau of the segment.
func (s segment) hits(tau time.Duration) float64 {
	t := tau.Seconds()
	return s.from*t + (s.to-s.from)/s.length.Seconds()*t*t/2
}

// timeFor inverts hits in the numerically stable form 2n/(b + √(b² + 2an)).
func (s segment) timeFor(n float64) time.Duration {
	a := (s.to - s.from) / s.length.Seconds()
	b := s.from
	den := b + math.Sqrt(math.Max(b*b+2*a*n, 0))
	if den <= 0 {
		return s.length
	}
	return min(time.Duration(2*n/den*float64(time.Second)), s.length)
}

type segments []segment

func (ss segments) total() float64 {
	var n float64
	for _, s := range ss {
		n += s.hits(s.length)
	}
	return n
}

func (ss segments) at(n float64) time.Duration {
	var start time.Duration
	for _, s := range ss {
		h := s.hits(s.length)
		if n <= h {
			return start + s.timeFor(n)
		}
		n -= h
		start += s.length
	}
	return start
}

// sineProfile is vegeta's SinePacer's integral: M·t + (A·P/2π)(1 − cos 2πt/P), starting at the
// mean and rising; it increases strictly since A < M, so bisection inverts it.
type sineProfile struct {
	mean, amp, period float64
	length            time.Duration
}

func (s sineProfile) hits(t float64) float64 {
	return s.mean*t + s.amp*s.period/(2*math.Pi)*(1-math.Cos(2*math.Pi*t/s.period))
}

func (s sineProfile) total() float64 { return s.hits(s.length.Seconds()) }

func (s sineProfile) at(n float64) time.Duration {
	lo, hi := 0.0, s.length.Seconds()
	for range 64 {
		mid := (lo + hi) / 2
		if s.hits(mid) < n {
			lo = mid
		} else {
			hi = mid
		}
	}
	return time.Duration(hi * float64(time.Second))
}

// vegetaRate converts requests per second to a vegeta.Rate as harness/load does: whole rates
// per second exactly, fractional ones as one request per interval.
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

// expectedRequests estimates how many requests the open-model phases of streams send, to size
// the result up front (closed-model phases are not counted).
func expectedRequests(streams []Stream) int {
	n := 0.0
	for _, st := range streams {
		for _, p := range st.Phases {
			switch p := p.(type) {
			case Burst:
				n += float64(p.Requests)
			case Trace:
				n += float64(len(p.Arrivals))
			default:
				if prof := profileOf(p); prof != nil {
					n += prof.total()
				}
			}
		}
	}
	return int(min(n*1.01+16, 1<<26))
}
