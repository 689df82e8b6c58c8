package scenarios

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Expectation is one assertion on a run's recorded data. Exactly one field is set.
type Expectation struct {
	// ColdStart: requests that waited for a scale from zero, their count and latency.
	ColdStart *ColdStartExpect `json:"coldStart,omitempty"`
	// Pods: a revision's pod count at a time, or throughout a window.
	Pods *PodsExpect `json:"pods,omitempty"`
	// MaxPods: a revision's pod count never exceeds a maximum.
	MaxPods *MaxPodsExpect `json:"maxPods,omitempty"`
	// Reaches: a revision's pod count reaches a number within a time.
	Reaches *ReachesExpect `json:"reaches,omitempty"`
	// ScalesToZero: a revision has no pods within a time after its load ends.
	ScalesToZero *ScalesToZeroExpect `json:"scalesToZero,omitempty"`
	// Panic: the autoscaler enters panic mode for a revision, or never does.
	Panic *PanicExpect `json:"panic,omitempty"`
	// SKSModeSwitches: how often the ServerlessService switches between Serve and Proxy.
	SKSModeSwitches *SKSModeSwitchesExpect `json:"sksModeSwitches,omitempty"`
	// TrafficSplit: the observed share of each revision against the declared percent.
	TrafficSplit *TrafficSplitExpect `json:"trafficSplit,omitempty"`
	// AppConcurrency: the most requests the app of a revision saw at once.
	AppConcurrency *AppConcurrencyExpect `json:"appConcurrency,omitempty"`
	// Latency: latency percentiles of requests.
	Latency *LatencyExpect `json:"latency,omitempty"`
	// ErrorRate: the share of requests that failed (no response or status ≥ 500).
	ErrorRate *ErrorRateExpect `json:"errorRate,omitempty"`
	// StatusCodes: how many requests got each status code.
	StatusCodes *StatusCodesExpect `json:"statusCodes,omitempty"`
	// Throughput: the achieved request rate.
	Throughput *ThroughputExpect `json:"throughput,omitempty"`
}

// Check is what every expectation kind implements.
type Check interface {
	// Kind is the expectation's key in YAML: "coldStart", ...
	Kind() string
	// Describe states the expectation in one line for reports: "cold starts of hello: exactly 1,
	// p95 ≤ 2s".
	Describe() string
	validate(v *validator, path string)
	// horizon is the latest scenario time the expectation looks at.
	horizon(s *Scenario) time.Duration
}

var (
	_ Check = (*ColdStartExpect)(nil)
	_ Check = (*PodsExpect)(nil)
	_ Check = (*MaxPodsExpect)(nil)
	_ Check = (*ReachesExpect)(nil)
	_ Check = (*ScalesToZeroExpect)(nil)
	_ Check = (*PanicExpect)(nil)
	_ Check = (*SKSModeSwitchesExpect)(nil)
	_ Check = (*TrafficSplitExpect)(nil)
	_ Check = (*AppConcurrencyExpect)(nil)
	_ Check = (*LatencyExpect)(nil)
	_ Check = (*ErrorRateExpect)(nil)
	_ Check = (*StatusCodesExpect)(nil)
	_ Check = (*ThroughputExpect)(nil)
)

const expectKinds = "coldStart, pods, maxPods, reaches, scalesToZero, panic, sksModeSwitches, trafficSplit, appConcurrency, latency, errorRate, statusCodes or throughput"

// Check returns the expectation's one set kind, or nil if none is set.
func (e Expectation) Check() Check {
	if cs := e.checks(); len(cs) > 0 {
		return cs[0]
	}
	return nil
}

func (e Expectation) checks() []Check {
	var out []Check
	add := func(set bool, c Check) {
		if set {
			out = append(out, c)
		}
	}
	add(e.ColdStart != nil, e.ColdStart)
	add(e.Pods != nil, e.Pods)
	add(e.MaxPods != nil, e.MaxPods)
	add(e.Reaches != nil, e.Reaches)
	add(e.ScalesToZero != nil, e.ScalesToZero)
	add(e.Panic != nil, e.Panic)
	add(e.SKSModeSwitches != nil, e.SKSModeSwitches)
	add(e.TrafficSplit != nil, e.TrafficSplit)
	add(e.AppConcurrency != nil, e.AppConcurrency)
	add(e.Latency != nil, e.Latency)
	add(e.ErrorRate != nil, e.ErrorRate)
	add(e.StatusCodes != nil, e.StatusCodes)
	add(e.Throughput != nil, e.Throughput)
	return out
}

// Pod counts an expectation can look at (the time series records all three per revision).
const (
	MeasureReady   = "ready"   // pods passing readiness
	MeasureDesired = "desired" // the autoscaler's desired scale (PA status.desiredScale)
	MeasureActual  = "actual"  // pods that exist, ready or not
)

// Percentiles maps statistics ("p95", "max", ...) to the bound each must meet.
type Percentiles map[Percentile]Bound

// Describe renders p sorted by statistic: "p50 ≤ 1s, p95 ≤ 2s".
func (p Percentiles) Describe() string {
	keys := slices.SortedFunc(maps.Keys(p), func(a, b Percentile) int {
		qa, _ := a.Quantile()
		qb, _ := b.Quantile()
		if qa != qb {
			if qa < qb {
				return -1
			}
			return 1
		}
		return strings.Compare(string(a), string(b))
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = string(k) + " " + p[k].Describe()
	}
	return strings.Join(parts, ", ")
}

// ColdStartExpect holds the requests to a service that waited for a scale from zero: how many
// there were and how long they took end to end.
type ColdStartExpect struct {
	// Service is the Knative Service or Configuration.
	Service string `json:"service"`
	// Revision narrows to one revision; default every revision of the service.
	Revision string `json:"revision,omitempty"`
	// Count is how many cold starts (scale-from-zero events) there must be.
	Count *Count `json:"count,omitempty"`
	// Percentiles bound the latency of requests that waited for a cold start.
	Percentiles Percentiles `json:"percentiles,omitempty"`
}

// Kind implements Check.
func (*ColdStartExpect) Kind() string { return "coldStart" }

// Describe implements Check.
func (c *ColdStartExpect) Describe() string {
	var parts []string
	if c.Count != nil {
		parts = append(parts, "count "+c.Count.Describe())
	}
	if len(c.Percentiles) > 0 {
		parts = append(parts, "latency "+c.Percentiles.Describe())
	}
	return "cold starts of " + revisionOf(c.Service, c.Revision) + ": " + strings.Join(parts, "; ")
}

func (*ColdStartExpect) horizon(*Scenario) time.Duration { return 0 }

// PodsExpect holds a revision's pod count at a time (At) or throughout a window (From..To).
type PodsExpect struct {
	// Service is the Knative Service or Configuration.
	Service string `json:"service"`
	// Revision names the revision; default the latest created one.
	Revision string `json:"revision,omitempty"`
	// Measure is which count: ready (default), desired or actual.
	Measure string `json:"measure,omitempty"`
	// At is the time to look; set At, or From and To.
	At *Duration `json:"at,omitempty"`
	// From starts the window the count must hold throughout.
	From *Duration `json:"from,omitempty"`
	// To ends the window.
	To *Duration `json:"to,omitempty"`
	// Count is the allowed count.
	Count Count `json:"count"`
}

// Kind implements Check.
func (*PodsExpect) Kind() string { return "pods" }

// Describe implements Check.
func (p *PodsExpect) Describe() string {
	when := ""
	switch {
	case p.At != nil:
		when = "at " + p.At.String()
	case p.From != nil && p.To != nil:
		when = "from " + p.From.String() + " to " + p.To.String()
	}
	return fmt.Sprintf("%s pods of %s %s: %s", measure(p.Measure), revisionOf(p.Service, p.Revision), when, p.Count.Describe())
}

func (p *PodsExpect) horizon(*Scenario) time.Duration {
	switch {
	case p.At != nil:
		return p.At.D()
	case p.To != nil:
		return p.To.D()
	}
	return 0
}

// MaxPodsExpect holds that a revision's pod count never exceeds Max during the run.
type MaxPodsExpect struct {
	// Service is the Knative Service or Configuration.
	Service string `json:"service"`
	// Revision names the revision; default the latest created one.
	Revision string `json:"revision,omitempty"`
	// Measure is which count: ready (default), desired or actual.
	Measure string `json:"measure,omitempty"`
	// Max is the most pods allowed.
	Max int `json:"max"`
}

// Kind implements Check.
func (*MaxPodsExpect) Kind() string { return "maxPods" }

// Describe implements Check.
func (m *MaxPodsExpect) Describe() string {
	return fmt.Sprintf("%s pods of %s never above %d", measure(m.Measure), revisionOf(m.Service, m.Revision), m.Max)
}

func (*MaxPodsExpect) horizon(*Scenario) time.Duration { return 0 }

// ReachesExpect holds that a revision's pod count reaches at least Pods within Within of After.
type ReachesExpect struct {
	// Service is the Knative Service or Configuration.
	Service string `json:"service"`
	// Revision names the revision; default the latest created one.
	Revision string `json:"revision,omitempty"`
	// Measure is which count: ready (default), desired or actual.
	Measure string `json:"measure,omitempty"`
	// Pods is the count to reach (at least).
	Pods int `json:"pods"`
	// Within is the time allowed, counted from After.
	Within Duration `json:"within"`
	// After is when the clock for Within starts. Default 0.
	After Duration `json:"after,omitempty"`
}

// Kind implements Check.
func (*ReachesExpect) Kind() string { return "reaches" }

// Describe implements Check.
func (r *ReachesExpect) Describe() string {
	s := fmt.Sprintf("%s pods of %s reach %d within %s", measure(r.Measure), revisionOf(r.Service, r.Revision), r.Pods, r.Within)
	if r.After > 0 {
		s += " after " + r.After.String()
	}
	return s
}

func (r *ReachesExpect) horizon(*Scenario) time.Duration { return r.After.D() + r.Within.D() }

// ScalesToZeroExpect holds that a revision has no pods within Within of After (default: the
// end of the last stream sending to the service).
type ScalesToZeroExpect struct {
	// Service is the Knative Service or Configuration.
	Service string `json:"service"`
	// Revision names the revision; default the latest created one.
	Revision string `json:"revision,omitempty"`
	// Within is the time allowed.
	Within Duration `json:"within"`
	// After is when the clock for Within starts. Default: when the service's load ends.
	After *Duration `json:"after,omitempty"`
}

// Kind implements Check.
func (*ScalesToZeroExpect) Kind() string { return "scalesToZero" }

// Describe implements Check.
func (z *ScalesToZeroExpect) Describe() string {
	after := "its load ends"
	if z.After != nil {
		after = z.After.String()
	}
	return fmt.Sprintf("%s scales to zero within %s after %s", revisionOf(z.Service, z.Revision), z.Within, after)
}

func (z *ScalesToZeroExpect) horizon(s *Scenario) time.Duration {
	start := s.loadEnd(z.Service)
	if z.After != nil {
		start = z.After.D()
	}
	return start + z.Within.D()
}

// PanicExpect holds that the autoscaler enters panic mode for a revision (Entered true) or never
// does (false), optionally only within From..To.
type PanicExpect struct {
	// Service is the Knative Service or Configuration.
	Service string `json:"service"`
	// Revision names the revision; default the latest created one.
	Revision string `json:"revision,omitempty"`
	// Entered is whether panic mode must be entered (true) or never entered (false).
	Entered *bool `json:"entered"`
	// From starts the window looked at. Default 0.
	From Duration `json:"from,omitempty"`
	// To ends the window. Default: the end of the run.
	To *Duration `json:"to,omitempty"`
}

// Kind implements Check.
func (*PanicExpect) Kind() string { return "panic" }

// Describe implements Check.
func (p *PanicExpect) Describe() string {
	verb := "never enters"
	if p.Entered != nil && *p.Entered {
		verb = "enters"
	}
	return fmt.Sprintf("autoscaler %s panic mode for %s%s", verb, revisionOf(p.Service, p.Revision), window(p.From, p.To))
}

func (p *PanicExpect) horizon(*Scenario) time.Duration {
	if p.To != nil {
		return p.To.D()
	}
	return 0
}

// SKSModeSwitchesExpect holds how many times a revision's ServerlessService switches between
// Serve and Proxy (knative-semantics.md §3.6; flapping is bug #11926).
type SKSModeSwitchesExpect struct {
	// Service is the Knative Service or Configuration.
	Service string `json:"service"`
	// Revision names the revision; default the latest created one.
	Revision string `json:"revision,omitempty"`
	// Count is the allowed number of switches.
	Count Count `json:"count"`
	// From starts the window looked at. Default 0.
	From Duration `json:"from,omitempty"`
	// To ends the window. Default: the end of the run.
	To *Duration `json:"to,omitempty"`
}

// Kind implements Check.
func (*SKSModeSwitchesExpect) Kind() string { return "sksModeSwitches" }

// Describe implements Check.
func (s *SKSModeSwitchesExpect) Describe() string {
	return fmt.Sprintf("SKS of %s switches mode %s times%s", revisionOf(s.Service, s.Revision), s.Count.Describe(), window(s.From, s.To))
}

func (s *SKSModeSwitchesExpect) horizon(*Scenario) time.Duration {
	if s.To != nil {
		return s.To.D()
	}
	return 0
}

// DefaultConfidence is the confidence level of a traffic-split test when none is given.
const DefaultConfidence = 0.999

// TrafficSplitExpect tests the observed share of each revision among the requests sent to a
// service's URL (or one tag's URL) against the declared percent: each observed share must lie
// in the binomial interval of the declared one at Confidence (Knative's TestBlueGreenRoute;
// knative-semantics.md §7.2).
type TrafficSplitExpect struct {
	// Service is the Knative Service or Route the requests were sent to.
	Service string `json:"service"`
	// Tag narrows to requests sent to this tag's URL (whose share must be 100% its revision).
	Tag string `json:"tag,omitempty"`
	// From starts the window of requests looked at (by send time). Default 0.
	From Duration `json:"from,omitempty"`
	// To ends the window. Default: the end of the run.
	To *Duration `json:"to,omitempty"`
	// Confidence is the confidence level of the test, in (0, 1). Default 0.999.
	Confidence Fraction `json:"confidence,omitempty"`
	// Shares are the expected shares. Default: the service's declared traffic block (or 100%
	// to the tag's revision for a tag URL).
	Shares []Share `json:"shares,omitempty"`
}

// Share is one expected share of a traffic split: a revision, named directly or by its tag.
type Share struct {
	// Revision names the revision.
	Revision string `json:"revision,omitempty"`
	// Tag names the revision by its traffic tag.
	Tag string `json:"tag,omitempty"`
	// Percent is the expected share, 0 to 100.
	Percent float64 `json:"percent"`
}

// Kind implements Check.
func (*TrafficSplitExpect) Kind() string { return "trafficSplit" }

// Describe implements Check.
func (t *TrafficSplitExpect) Describe() string {
	target := t.Service
	if t.Tag != "" {
		target += "/" + t.Tag
	}
	shares := "the declared traffic"
	if len(t.Shares) > 0 {
		parts := make([]string, len(t.Shares))
		for i, s := range t.Shares {
			who := s.Revision
			if who == "" {
				who = "tag " + s.Tag
			}
			parts[i] = formatFloat(s.Percent) + "% " + who
		}
		shares = strings.Join(parts, ", ")
	}
	conf := t.Confidence
	if conf == 0 {
		conf = DefaultConfidence
	}
	return fmt.Sprintf("requests to %s split %s (%s confidence)%s", target, shares, conf, window(t.From, t.To))
}

func (t *TrafficSplitExpect) horizon(*Scenario) time.Duration {
	if t.To != nil {
		return t.To.D()
	}
	return 0
}

// AppConcurrencyExpect holds that the app of a revision never worked on more than Max requests
// at once (Knative's TestSingleConcurrency: CC=1 means never two at once).
type AppConcurrencyExpect struct {
	// Service is the Knative Service or Configuration.
	Service string `json:"service"`
	// Revision names the revision; default every revision of the service.
	Revision string `json:"revision,omitempty"`
	// Max is the most requests allowed in the app at once, per pod.
	Max int `json:"max"`
}

// Kind implements Check.
func (*AppConcurrencyExpect) Kind() string { return "appConcurrency" }

// Describe implements Check.
func (a *AppConcurrencyExpect) Describe() string {
	return fmt.Sprintf("app of %s never sees more than %d request(s) at once per pod", revisionOf(a.Service, a.Revision), a.Max)
}

func (*AppConcurrencyExpect) horizon(*Scenario) time.Duration { return 0 }

// Scope selects the requests a request-level expectation looks at: one stream's, or those to
// one service (and tag), or all; optionally only those sent within From..To.
type Scope struct {
	// Stream narrows to one workload stream, by name.
	Stream string `json:"stream,omitempty"`
	// Service narrows to requests sent to this Knative Service or Route.
	Service string `json:"service,omitempty"`
	// Tag narrows to requests sent to this tag's URL of Service.
	Tag string `json:"tag,omitempty"`
	// From starts the window (by send time). Default 0.
	From Duration `json:"from,omitempty"`
	// To ends the window. Default: the end of the run.
	To *Duration `json:"to,omitempty"`
}

// Describe renders the scope: "requests of stream probe", "requests to hello/blue", "all
// requests", with the window.
func (s Scope) Describe() string {
	var who string
	switch {
	case s.Stream != "":
		who = "requests of stream " + s.Stream
	case s.Service != "" && s.Tag != "":
		who = "requests to " + s.Service + "/" + s.Tag
	case s.Service != "":
		who = "requests to " + s.Service
	default:
		who = "all requests"
	}
	return who + window(s.From, s.To)
}

func (s Scope) horizon() time.Duration {
	if s.To != nil {
		return s.To.D()
	}
	return 0
}

// LatencyExpect bounds latency percentiles of the requests in scope (successful or not).
type LatencyExpect struct {
	Scope `json:",inline"`
	// Percentiles bound the latency, e.g. {p95: 110ms, max: 10s}.
	Percentiles Percentiles `json:"percentiles"`
}

// Kind implements Check.
func (*LatencyExpect) Kind() string { return "latency" }

// Describe implements Check.
func (l *LatencyExpect) Describe() string {
	return "latency of " + l.Scope.Describe() + ": " + l.Percentiles.Describe()
}

func (l *LatencyExpect) horizon(*Scenario) time.Duration { return l.Scope.horizon() }

// ErrorRateExpect bounds the share of requests in scope that failed: no response, or a status
// of 500 or more.
type ErrorRateExpect struct {
	Scope `json:",inline"`
	// Max is the highest error rate allowed: 0 for none, 0.001 or "0.1%".
	Max Fraction `json:"max"`
}

// Kind implements Check.
func (*ErrorRateExpect) Kind() string { return "errorRate" }

// Describe implements Check.
func (e *ErrorRateExpect) Describe() string {
	if e.Max == 0 {
		return "no errors in " + e.Scope.Describe()
	}
	return "error rate of " + e.Scope.Describe() + " ≤ " + e.Max.String()
}

func (e *ErrorRateExpect) horizon(*Scenario) time.Duration { return e.Scope.horizon() }

// StatusCodesExpect bounds how many requests in scope got each status code.
type StatusCodesExpect struct {
	Scope `json:",inline"`
	// Codes maps a status ("200"), a class ("5xx") or "error" (no response) to the allowed count.
	Codes map[string]Count `json:"codes"`
}

// Kind implements Check.
func (*StatusCodesExpect) Kind() string { return "statusCodes" }

// Describe implements Check.
func (s *StatusCodesExpect) Describe() string {
	keys := slices.Sorted(maps.Keys(s.Codes))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + s.Codes[k].Describe()
	}
	return "status codes of " + s.Scope.Describe() + ": " + strings.Join(parts, ", ")
}

func (s *StatusCodesExpect) horizon(*Scenario) time.Duration { return s.Scope.horizon() }

// ThroughputExpect bounds the achieved rate of the requests in scope: responses per second over
// the scope's window, absolute (Min) or relative to the offered rate (MinOfOffered; Knative's
// benchmarks ask for the total within 0.1% of expected).
type ThroughputExpect struct {
	Scope `json:",inline"`
	// Min is the lowest achieved rate allowed.
	Min Rate `json:"min,omitempty"`
	// MinOfOffered is the lowest achieved share of the offered requests, e.g. "99.9%".
	MinOfOffered Fraction `json:"minOfOffered,omitempty"`
}

// Kind implements Check.
func (*ThroughputExpect) Kind() string { return "throughput" }

// Describe implements Check.
func (t *ThroughputExpect) Describe() string {
	var parts []string
	if t.Min > 0 {
		parts = append(parts, "at least "+t.Min.String())
	}
	if t.MinOfOffered > 0 {
		parts = append(parts, "at least "+t.MinOfOffered.String()+" of the offered requests")
	}
	return "throughput of " + t.Scope.Describe() + ": " + strings.Join(parts, " and ")
}

func (t *ThroughputExpect) horizon(*Scenario) time.Duration { return t.Scope.horizon() }

func measure(m string) string {
	if m == "" {
		return MeasureReady
	}
	return m
}

func window(from Duration, to *Duration) string {
	switch {
	case to != nil:
		return fmt.Sprintf(" from %s to %s", from, to)
	case from > 0:
		return " from " + from.String()
	}
	return ""
}
