package reportstest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/servingsim/servingsim/reports"
)

// Options shape the synthetic run; zero values take the defaults.
type Options struct {
	// Requests spread evenly over the run (default 3000).
	Requests int
	// Seed of the latency and traffic-split draws (default 1).
	Seed uint64
	// Latency is the mean latency of a warm request (default 5ms).
	Latency time.Duration
	// MaxPods caps hello-00001's desired scale (default 4); change it to make decisions diverge.
	MaxPods int32
}

// Revisions of the run: hello-00001 serves the default route alone until the rollout at 30s,
// then 90% of it; hello-00002 the other 10%; hello-00003 serves the "canary" tag URL and
// scales to zero at 50s.
const (
	Rev1, Rev2, Rev3 = "hello-00001", "hello-00002", "hello-00003"
	Namespace        = "split-rollout-1"
	RunDuration      = 60 * time.Second
	RolloutAt        = 30 * time.Second
)

// Started is the run's time zero.
var Started = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// readyAt is when each revision first has a ready pod: requests before it are cold starts.
var readyAt = map[string]time.Duration{Rev1: 1500 * time.Millisecond, Rev2: 31200 * time.Millisecond, Rev3: 2500 * time.Millisecond}

// TimeoutError is the error text of the run's client timeouts; it holds a URL, which reports
// must show as text only.
const TimeoutError = `Get "http://hello.split-rollout-1.example.com/": context deadline exceeded`

// SplitRollout builds the run: 60 s, streams "main" (80%) and "canary" (20%, tag canary), a
// rollout action at 30 s splitting main 90/10, every 97th request a 503, every 331st a client
// timeout; three expectations (cold-start latency passes, max pods fails, split passes with a
// p-value and interval), so the verdict is fail.
func SplitRollout(o Options) *reports.Run {
	if o.Requests == 0 {
		o.Requests = 3000
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Latency == 0 {
		o.Latency = 5 * time.Millisecond
	}
	if o.MaxPods == 0 {
		o.MaxPods = 4
	}
	rnd := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	r := &reports.Run{
		Version: reports.FormatVersion, Scenario: "split-rollout", File: "scenarios/testdata/split-rollout.yaml",
		Mode: "live", Seed: int64(o.Seed), Started: Started, Duration: RunDuration, Verdict: reports.Fail,
	}

	responses, transportErrors := 0, 0
	for i := range o.Requests {
		at := arrival(i, o.Requests)
		q := reports.Request{Stream: "main"}
		url := "http://hello." + Namespace + ".example.com/"
		switch {
		case i%5 == 4:
			q.Stream, q.Tag, q.Revision = "canary", "canary", Rev3
			url = "http://canary-hello." + Namespace + ".example.com/"
		case at >= RolloutAt && rnd.Float64() < 0.1:
			q.Revision = Rev2
		default:
			q.Revision = Rev1
		}
		latency := time.Duration(rnd.ExpFloat64()*float64(o.Latency)) + 500*time.Microsecond
		if ready := readyAt[q.Revision]; at < ready && (q.Revision != Rev2 || at >= RolloutAt) {
			q.ColdStart = true
			latency += ready - at
		}
		res := vegeta.Result{Attack: q.Stream, Seq: uint64(i), Code: http.StatusOK, Timestamp: Started.Add(at),
			Latency: latency, BytesIn: 12, Method: http.MethodGet, URL: url}
		switch {
		case i%331 == 330:
			res.Code, res.Error, res.BytesIn, res.Latency = 0, TimeoutError, 0, 2*time.Second
			q.Revision, q.ColdStart = "", false
			transportErrors++
		case i%97 == 96:
			res.Code, res.Error = http.StatusServiceUnavailable, "503 Service Unavailable"
			responses++
		default:
			responses++
		}
		q.Result = res
		r.Requests = append(r.Requests, q)
	}
	r.Accounting = reports.Accounting{Sent: o.Requests, Responses: responses, Errors: transportErrors}

	addSeries(r, o.MaxPods)
	addEvents(r)
	addExpectations(r)
	return r
}

// arrival is when request i of n is sent: the load ramps up linearly from half the average
// rate at the start to 1.5 times it at the end (the CDF F(t) = (t + t²/T) / 2T, inverted).
func arrival(i, n int) time.Duration {
	u := float64(i) / float64(n)
	return time.Duration(float64(RunDuration) * (math.Sqrt(1+8*u) - 1) / 2)
}

// podsAt is a revision's desired, ready and existing pods at second t.
func podsAt(rev string, t int, maxPods int32) (desired, ready, actual int32) {
	switch rev {
	case Rev1:
		desired = min(maxPods, 1+int32(t)/8)
		if t >= 2 {
			ready = min(maxPods, 1+int32(t-2)/8)
		}
	case Rev2:
		desired = 1
		if t >= 32 {
			ready = 1
		}
	case Rev3:
		if t < 50 {
			desired = 1
		}
		if t >= 3 && t < 52 {
			ready = 1
		}
	}
	return desired, ready, max(desired, ready)
}

func addSeries(r *reports.Run, maxPods int32) {
	type key struct {
		rev string
		sec int
	}
	served, errs := map[key]int{}, map[key]int{}
	for _, q := range r.Requests {
		k := key{q.Revision, int(q.Result.Timestamp.Sub(Started) / time.Second)}
		served[k]++
		if q.Result.Code != http.StatusOK {
			errs[k]++
		}
	}
	for t := range int(RunDuration / time.Second) {
		for _, rev := range []string{Rev1, Rev2, Rev3} {
			if rev == Rev2 && time.Duration(t)*time.Second < RolloutAt {
				continue
			}
			desired, ready, actual := podsAt(rev, t, maxPods)
			rps := float64(served[key{rev, t}])
			mode := "Serve"
			if ready == 0 {
				mode = "Proxy"
			}
			s := reports.Sample{
				Time: time.Duration(t) * time.Second, Namespace: Namespace, Revision: rev,
				DesiredPods: desired, ReadyPods: ready, ActualPods: actual,
				Stable: rps * 0.013, Panic: rps*0.013 + 0.1 + 0.2, Panicking: rev == Rev1 && t >= 2 && t < 8, Mode: mode,
				RPS: rps, Concurrency: rps / 3, Errors: errs[key{rev, t}],
			}
			if ready == 0 && desired > 0 {
				s.ActivatorQueue = served[key{rev, t}]
			}
			r.Series = append(r.Series, s)
			if t%2 == 0 {
				r.Decisions = append(r.Decisions, reports.Decision{
					Time: s.Time + 250*time.Millisecond, Namespace: Namespace, Revision: rev, ReadyPods: ready,
					Stable: s.Stable, Panic: s.Panic, Target: 10, DesiredPods: desired,
					ExcessBurstCapacity: 200 - int32(rps), Panicking: s.Panicking, Mode: mode,
				})
			}
		}
	}
}

func addEvents(r *reports.Run) {
	r.Events = []reports.Event{
		{Time: 0, Kind: "pod", Subject: "hello-00001-deployment-7c9f", Message: "created, scheduling"},
		{Time: 1500 * time.Millisecond, Kind: "pod", Subject: "hello-00001-deployment-7c9f", Message: "ready after 1.5s, image pulled"},
		{Time: 2 * time.Second, Kind: "sks", Subject: Rev1, Message: "Proxy → Serve"},
		{Time: 3 * time.Second, Kind: "sks", Subject: Rev3, Message: "Proxy → Serve"},
		{Time: RolloutAt, Kind: "action", Subject: "service/hello", Message: `updateService: new revision hello-00002, traffic "90/10"`},
		{Time: 32 * time.Second, Kind: "sks", Subject: Rev2, Message: "Proxy → Serve"},
		{Time: 52 * time.Second, Kind: "sks", Subject: Rev3, Message: "Serve → Proxy"},
	}
}

func addExpectations(r *reports.Run) {
	p, interval := 0.4213, [2]float64{0.0871, 0.1124}
	r.Expectations = []reports.ExpectationResult{
		{Kind: "coldStart", Description: "p95 cold-start latency < 3s | at least 1 cold start", Passed: true,
			Observed: fmt.Sprintf("%d cold starts", countCold(r))},
		{Kind: "maxPods", Description: "hello-00001 max pods ≤ 3", Passed: false, Observed: "4 pods",
			Detail: "hello-00001 reached 4 ready pods at 26s\nwith target 10 per pod"},
		{Kind: "trafficSplit", Description: "hello-00002 gets 10% of main", Passed: true, Observed: "9.8%",
			PValue: &p, Interval: &interval},
	}
}

func countCold(r *reports.Run) int {
	n := 0
	for _, q := range r.Requests {
		if q.ColdStart {
			n++
		}
	}
	return n
}
