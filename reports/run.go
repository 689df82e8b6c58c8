package reports

import (
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// FormatVersion is the version of Run's JSON encoding (summary.json and recordings).
const FormatVersion = "servingsim.dev/v1alpha1"

// Verdict is a run's outcome.
type Verdict string

// Verdicts.
const (
	Pass  Verdict = "pass"  // every expectation held and every request is accounted for
	Fail  Verdict = "fail"  // an expectation failed
	Error Verdict = "error" // the run itself could not complete (bad input, stack failure)
)

// Run is everything one scenario run recorded. Times are offsets from the run's time zero
// (the moment every service of the scenario was Ready, when the workload starts).
type Run struct {
	Version  string        `json:"version"`
	Scenario string        `json:"scenario"`
	File     string        `json:"file,omitempty"`
	Mode     string        `json:"mode"` // live or virtual
	Seed     int64         `json:"seed"`
	Started  time.Time     `json:"started"` // wall-clock (live) or virtual time of time zero
	Duration time.Duration `json:"duration"`
	Verdict  Verdict       `json:"verdict"`
	// Error says why the run could not complete (Verdict Error).
	Error        string              `json:"error,omitempty"`
	Expectations []ExpectationResult `json:"expectations"`
	Accounting   Accounting          `json:"accounting"`
	// Requests in send order, across every workload stream.
	Requests  []Request  `json:"-"`
	Series    []Sample   `json:"-"`
	Decisions []Decision `json:"-"`
	Events    []Event    `json:"-"`
}

// ExpectationResult is one expectation's outcome with the observed value, readable on its own.
type ExpectationResult struct {
	Kind        string `json:"kind"`
	Description string `json:"description"` // what was expected, e.g. "p95 cold-start latency ≤ 2s"
	Passed      bool   `json:"passed"`
	Observed    string `json:"observed"` // e.g. "1.42s over 12 cold starts"
	// Detail explains a failure or the statistics behind a verdict.
	Detail string `json:"detail,omitempty"`
	// PValue and Interval are set by statistical checks (traffic split).
	PValue   *float64    `json:"pValue,omitempty"`
	Interval *[2]float64 `json:"interval,omitempty"`
}

// Accounting proves that every request sent has exactly one outcome (checked on every run).
type Accounting struct {
	Sent      int `json:"sent"`
	Responses int `json:"responses"` // any HTTP status
	Errors    int `json:"errors"`    // transport errors and client timeouts (code 0)
	// Unaccounted is Sent − Responses − Errors; anything but 0 fails the run.
	Unaccounted int `json:"unaccounted"`
}

// Request is one request's outcome. Result is vegeta's (timestamp, latency, code, error, bytes),
// so vegeta's encoders and metrics apply to Run.Requests as they are.
type Request struct {
	Stream string        `json:"stream"` // the workload stream that sent it
	Result vegeta.Result `json:"result"`
	// Revision that served it, when known (the app reports it); "" otherwise.
	Revision string `json:"revision,omitempty"`
	// Tag of the URL it was sent to ("" for the default route).
	Tag string `json:"tag,omitempty"`
	// ColdStart marks a request that waited for a scale from zero: its revision had no ready pod
	// when it arrived.
	ColdStart bool `json:"coldStart,omitempty"`
}

// Sample is one revision's state in one second of the run.
type Sample struct {
	Time      time.Duration `json:"time"`
	Namespace string        `json:"namespace"`
	Revision  string        `json:"revision"`
	// DesiredPods is the PA's desired scale (-1 unknown); ReadyPods its ready pods; ActualPods
	// every pod that exists (starting, ready or terminating).
	DesiredPods int32 `json:"desiredPods"`
	ReadyPods   int32 `json:"readyPods"`
	ActualPods  int32 `json:"actualPods"`
	// Stable and Panic are the KPA's latest window averages; Panicking its panic mode.
	Stable    float64 `json:"stable"`
	Panic     float64 `json:"panic"`
	Panicking bool    `json:"panicking"`
	// Mode is the SKS mode: Serve or Proxy.
	Mode string `json:"mode"`
	// ActivatorQueue is requests buffered in the activators for this revision.
	ActivatorQueue int `json:"activatorQueue"`
	// RPS, Concurrency and Errors are what the load generator saw for this revision in this
	// second: requests completed, average in flight, and non-2xx or failed requests.
	RPS         float64 `json:"rps"`
	Concurrency float64 `json:"concurrency"`
	Errors      int     `json:"errors"`
}

// Decision is one autoscaler tick for one revision (§3.4).
type Decision struct {
	Time                time.Duration `json:"time"`
	Namespace           string        `json:"namespace"`
	Revision            string        `json:"revision"`
	ReadyPods           int32         `json:"readyPods"`
	Stable              float64       `json:"stable"`
	Panic               float64       `json:"panic"`
	Target              float64       `json:"target"`
	DesiredPods         int32         `json:"desiredPods"` // before min/max bounds; -1 no decision
	ExcessBurstCapacity int32         `json:"excessBurstCapacity"`
	Panicking           bool          `json:"panicking"`
	Mode                string        `json:"mode"`
}

// Event is something that happened during the run besides requests and decisions: an action
// applied, a pod started or stopped, an SKS mode switch.
type Event struct {
	Time    time.Duration `json:"time"`
	Kind    string        `json:"kind"` // action, pod, sks
	Subject string        `json:"subject"`
	Message string        `json:"message"`
}
