package scenarios

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Stream is one load stream: requests to one target host, paced by a sequence of phases.
type Stream struct {
	// Name labels the stream in reports and expectations. Default: the target's service, then
	// "/" and its tag if any, then "#" and its index if that is taken.
	Name string `json:"name,omitempty"`
	// Target is where the requests go.
	Target Target `json:"target"`
	// Start is when the stream's first phase begins. Default 0.
	Start Duration `json:"start,omitempty"`
	// Phases run one after another. At least one.
	Phases []Phase `json:"phases"`
}

// Target is the host and request a stream sends.
type Target struct {
	// Service is the Knative Service or Route whose URL is the target.
	Service string `json:"service"`
	// Tag sends to the tag's URL (tag-service…) instead of the main one; the tag must be in the
	// service's traffic block or set by a setTraffic action.
	Tag string `json:"tag,omitempty"`
	// ClusterLocal sends to the cluster-local host (name.namespace.svc.cluster.local) through
	// the cluster-local gateway.
	ClusterLocal bool `json:"clusterLocal,omitempty"`
	// Path is the request path and query, e.g. "/?sleep=100" (Knative's autoscale test image).
	// Default "/".
	Path string `json:"path,omitempty"`
	// Headers are added to every request. Host comes from the target and cannot be set here.
	Headers map[string]string `json:"headers,omitempty"`
}

// String renders t as "service", "service/tag", with " (cluster-local)" if so.
func (t Target) String() string {
	s := t.Service
	if t.Tag != "" {
		s += "/" + t.Tag
	}
	if t.ClusterLocal {
		s += " (cluster-local)"
	}
	return s
}

// StreamName returns the name of stream i of s: its name, or by default its target's service,
// then "/" and its tag if any, then "#" and i if an earlier stream has that name.
func (s *Scenario) StreamName(i int) string {
	w := s.Spec.Workload
	if w[i].Name != "" {
		return w[i].Name
	}
	name := w[i].Target.Service
	if w[i].Target.Tag != "" {
		name += "/" + w[i].Target.Tag
	}
	for j := range i {
		if s.StreamName(j) == name {
			return name + "#" + strconv.Itoa(i)
		}
	}
	return name
}

// End is when the stream's last phase ends.
func (s Stream) End() time.Duration {
	end := s.Start.D()
	for _, p := range s.Phases {
		if l := p.Pacing(); l != nil {
			end += l.Length()
		}
	}
	return end
}

// Phase is one stretch of a stream's load. Exactly one field is set.
type Phase struct {
	// Constant sends at a fixed rate (open model).
	Constant *ConstantPhase `json:"constant,omitempty"`
	// Ramp changes the rate linearly.
	Ramp *RampPhase `json:"ramp,omitempty"`
	// Step raises (or lowers) the rate in equal steps, each held for an equal time.
	Step *StepPhase `json:"step,omitempty"`
	// Sine varies the rate as a sine wave.
	Sine *SinePhase `json:"sine,omitempty"`
	// Burst sends a number of requests at once, or spread over a short time.
	Burst *BurstPhase `json:"burst,omitempty"`
	// Idle sends nothing.
	Idle *IdlePhase `json:"idle,omitempty"`
	// Concurrent runs closed-model clients: each sends its next request when the last answers.
	Concurrent *ConcurrentPhase `json:"concurrent,omitempty"`
	// Trace replays recorded arrival times.
	Trace *TracePhase `json:"trace,omitempty"`
}

// Pacing is what every phase kind implements.
type Pacing interface {
	// Kind is the phase's key in YAML: "constant", "ramp", ...
	Kind() string
	// Length is how long the phase lasts.
	Length() time.Duration
	// Describe says what the phase sends, for reports: "constant 50/s for 30s".
	Describe() string
	validate(v *validator, path string)
}

var (
	_ Pacing = (*ConstantPhase)(nil)
	_ Pacing = (*RampPhase)(nil)
	_ Pacing = (*StepPhase)(nil)
	_ Pacing = (*SinePhase)(nil)
	_ Pacing = (*BurstPhase)(nil)
	_ Pacing = (*IdlePhase)(nil)
	_ Pacing = (*ConcurrentPhase)(nil)
	_ Pacing = (*TracePhase)(nil)
)

// Pacing returns the phase's one set kind, or nil if none is set.
func (p Phase) Pacing() Pacing {
	if ls := p.loads(); len(ls) > 0 {
		return ls[0]
	}
	return nil
}

// loads returns every set kind (more than one is a validation error).
func (p Phase) loads() []Pacing {
	var out []Pacing
	add := func(set bool, l Pacing) {
		if set {
			out = append(out, l)
		}
	}
	add(p.Constant != nil, p.Constant)
	add(p.Ramp != nil, p.Ramp)
	add(p.Step != nil, p.Step)
	add(p.Sine != nil, p.Sine)
	add(p.Burst != nil, p.Burst)
	add(p.Idle != nil, p.Idle)
	add(p.Concurrent != nil, p.Concurrent)
	add(p.Trace != nil, p.Trace)
	return out
}

// phaseKinds lists the YAML keys of Phase, for messages.
const phaseKinds = "constant, ramp, step, sine, burst, idle, concurrent or trace"

// ConstantPhase sends Rate requests per second for Duration.
type ConstantPhase struct {
	// Rate is the request rate: a number per second or "50/s".
	Rate Rate `json:"rate"`
	// Duration is how long the phase lasts.
	Duration Duration `json:"duration"`
}

// Kind implements Pacing.
func (*ConstantPhase) Kind() string { return "constant" }

// Length implements Pacing.
func (c *ConstantPhase) Length() time.Duration { return c.Duration.D() }

// Describe implements Pacing.
func (c *ConstantPhase) Describe() string {
	return fmt.Sprintf("constant %s for %s", c.Rate, c.Duration)
}

// RampPhase changes the rate linearly from From to To over Duration.
type RampPhase struct {
	// From is the rate at the start.
	From Rate `json:"from"`
	// To is the rate at the end.
	To Rate `json:"to"`
	// Duration is how long the ramp lasts.
	Duration Duration `json:"duration"`
}

// Kind implements Pacing.
func (*RampPhase) Kind() string { return "ramp" }

// Length implements Pacing.
func (r *RampPhase) Length() time.Duration { return r.Duration.D() }

// Describe implements Pacing.
func (r *RampPhase) Describe() string {
	return fmt.Sprintf("ramp %s → %s over %s", r.From, r.To, r.Duration)
}

// StepPhase holds Steps equal rate levels from From to To, each for Duration/Steps: from 1000
// to 3000 in 3 steps over 6m is 1000, 2000, 3000 requests per second for 2m each (Knative's
// load-test benchmark).
type StepPhase struct {
	// From is the first level's rate.
	From Rate `json:"from"`
	// To is the last level's rate.
	To Rate `json:"to"`
	// Steps is the number of levels, at least 2.
	Steps int `json:"steps"`
	// Duration is the whole phase; each level lasts Duration/Steps.
	Duration Duration `json:"duration"`
}

// Kind implements Pacing.
func (*StepPhase) Kind() string { return "step" }

// Length implements Pacing.
func (s *StepPhase) Length() time.Duration { return s.Duration.D() }

// Levels returns the rate of each step.
func (s *StepPhase) Levels() []Rate {
	out := make([]Rate, 0, max(s.Steps, 0))
	for i := range max(s.Steps, 0) {
		if s.Steps == 1 {
			out = append(out, s.From)
			break
		}
		out = append(out, s.From+(s.To-s.From)*Rate(i)/Rate(s.Steps-1))
	}
	return out
}

// Describe implements Pacing.
func (s *StepPhase) Describe() string {
	levels := make([]string, 0, s.Steps)
	for _, l := range s.Levels() {
		levels = append(levels, l.String())
	}
	each := time.Duration(0)
	if s.Steps > 0 {
		each = s.Duration.D() / time.Duration(s.Steps)
	}
	return fmt.Sprintf("steps %s, %s each", strings.Join(levels, " → "), each)
}

// SinePhase varies the rate as Mean + Amplitude·sin(2π t / Period), starting at the mean and
// rising (vegeta's SinePacer).
type SinePhase struct {
	// Mean is the average rate.
	Mean Rate `json:"mean"`
	// Amplitude is the largest deviation from the mean; at most Mean.
	Amplitude Rate `json:"amplitude"`
	// Period is the length of one cycle.
	Period Duration `json:"period"`
	// Duration is how long the phase lasts.
	Duration Duration `json:"duration"`
}

// Kind implements Pacing.
func (*SinePhase) Kind() string { return "sine" }

// Length implements Pacing.
func (s *SinePhase) Length() time.Duration { return s.Duration.D() }

// Describe implements Pacing.
func (s *SinePhase) Describe() string {
	return fmt.Sprintf("sine %s ± %s, period %s, for %s", s.Mean, s.Amplitude.String(), s.Period, s.Duration)
}

// BurstPhase sends Requests requests spread evenly over Within; with Within 0 they all leave at
// once, in parallel (Knative's scale-from-zero benchmark; a burst from zero, #9888).
type BurstPhase struct {
	// Requests is how many requests the burst sends, at least 1.
	Requests int `json:"requests"`
	// Within is the time the burst is spread over. Default 0: all at once.
	Within Duration `json:"within,omitempty"`
}

// Kind implements Pacing.
func (*BurstPhase) Kind() string { return "burst" }

// Length implements Pacing.
func (b *BurstPhase) Length() time.Duration { return b.Within.D() }

// Describe implements Pacing.
func (b *BurstPhase) Describe() string {
	if b.Within == 0 {
		return fmt.Sprintf("burst of %d requests at once", b.Requests)
	}
	return fmt.Sprintf("burst of %d requests within %s", b.Requests, b.Within)
}

// IdlePhase sends nothing for Duration.
type IdlePhase struct {
	// Duration is how long the stream stays idle.
	Duration Duration `json:"duration"`
}

// Kind implements Pacing.
func (*IdlePhase) Kind() string { return "idle" }

// Length implements Pacing.
func (i *IdlePhase) Length() time.Duration { return i.Duration.D() }

// Describe implements Pacing.
func (i *IdlePhase) Describe() string { return "idle for " + i.Duration.String() }

// ConcurrentPhase runs Clients closed-model clients for Duration: each sends a request, waits
// for its outcome, waits Think, and sends the next (Knative's TestSingleConcurrency uses 5).
type ConcurrentPhase struct {
	// Clients is the number of concurrent clients, at least 1.
	Clients int `json:"clients"`
	// Think is the pause between a response and the client's next request. Default 0.
	Think Duration `json:"think,omitempty"`
	// Duration is how long the clients keep sending.
	Duration Duration `json:"duration"`
}

// Kind implements Pacing.
func (*ConcurrentPhase) Kind() string { return "concurrent" }

// Length implements Pacing.
func (c *ConcurrentPhase) Length() time.Duration { return c.Duration.D() }

// Describe implements Pacing.
func (c *ConcurrentPhase) Describe() string {
	s := fmt.Sprintf("%d concurrent clients for %s", c.Clients, c.Duration)
	if c.Think > 0 {
		s += fmt.Sprintf(", %s think time", c.Think)
	}
	return s
}

// TracePhase replays request arrival times: from File, or listed inline in Arrivals (exactly one).
// The phase lasts until its last arrival.
type TracePhase struct {
	// File is a text file, relative to the scenario file, with one arrival time per line as
	// seconds from the phase start (0.25) or a Go duration (250ms); '#' starts a comment.
	// The times must not decrease.
	File string `json:"file,omitempty"`
	// Arrivals are the arrival times, from the phase start, not decreasing. The loader fills
	// them from File.
	Arrivals []Duration `json:"arrivals,omitempty"`
}

// Kind implements Pacing.
func (*TracePhase) Kind() string { return "trace" }

// Length implements Pacing.
func (t *TracePhase) Length() time.Duration {
	if len(t.Arrivals) == 0 {
		return 0
	}
	return t.Arrivals[len(t.Arrivals)-1].D()
}

// Describe implements Pacing.
func (t *TracePhase) Describe() string {
	src := "inline"
	if t.File != "" {
		src = t.File
	}
	return fmt.Sprintf("trace %s: %d requests over %s", src, len(t.Arrivals), t.Length())
}

// MarshalJSON leaves out the arrivals read from File, so the output loads again.
func (t TracePhase) MarshalJSON() ([]byte, error) {
	type plain TracePhase
	if t.File != "" {
		t.Arrivals = nil
	}
	return json.Marshal(plain(t))
}
