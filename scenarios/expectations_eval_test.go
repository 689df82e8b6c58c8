package scenarios

import (
	"math"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/servingsim/servingsim/reports"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// evalScenario is a scenario with two streams to one Service, expectations appended by tests.
const evalScenario = `apiVersion: servingsim.dev/v1alpha1
kind: Scenario
metadata: {name: eval}
spec:
  services:
    - apiVersion: serving.knative.dev/v1
      kind: Service
      metadata: {name: hello}
      spec:
        template:
          spec:
            containers: [{image: ghcr.io/knative/helloworld-go:latest}]
        traffic:
          - {revisionName: hello-00001, percent: 90}
          - {latestRevision: true, percent: 10, tag: canary}
  workload:
    - name: main
      target: {service: hello}
      phases:
        - constant: {rate: 10/s, duration: 10s}
        - idle: {duration: 10s}
    - name: canary
      target: {service: hello, tag: canary}
      phases:
        - constant: {rate: 1/s, duration: 10s}
  expect:
`

func parseEval(t *testing.T, expect string) *Scenario {
	t.Helper()
	s, err := Parse([]byte(evalScenario+expect), "eval.yaml")
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	return s
}

// req is a request sent at offset at, answered with code after lat, served by rev.
func req(stream, rev string, at, lat time.Duration, code uint16) reports.Request {
	r := reports.Request{Stream: stream, Revision: rev, Result: vegeta.Result{Timestamp: t0.Add(at), Latency: lat, Code: code}}
	if code == 0 {
		r.Result.Error = "context deadline exceeded"
	}
	if stream == "canary" {
		r.Tag = "canary"
	}
	return r
}

func st(at time.Duration, rev string, ready, actual, desired int32, mode string) RevisionState {
	return RevisionState{Time: at, Revision: rev, Ready: ready, Actual: actual, Desired: desired, Mode: mode}
}

// evalRecord is a run of evalScenario: hello-00001 scales from zero (cold start until 1.5s),
// reaches 3 pods at 4s, is back at zero at 17s; hello-00002 serves the canary tag.
func evalRecord() *Record {
	s := time.Second
	rec := &Record{
		Run: &reports.Run{Started: t0, Duration: 20 * s, Accounting: reports.Accounting{Sent: 0}},
		States: []RevisionState{
			st(-2*s, "hello-00001", 0, 0, 0, "Proxy"),
			st(-s, "hello-00002", 1, 1, 1, "Serve"),
			st(200*time.Millisecond, "hello-00001", 0, 1, 1, "Proxy"),
			st(1500*time.Millisecond, "hello-00001", 1, 1, 1, "Proxy"),
			st(3*s, "hello-00001", 1, 1, 3, "Serve"),
			st(4*s, "hello-00001", 3, 3, 3, "Serve"),
			st(12*s, "hello-00001", 3, 3, 0, "Proxy"),
			st(17*s, "hello-00001", 0, 3, 0, "Proxy"),
			st(19*s, "hello-00001", 0, 0, 0, "Proxy"),
		},
		Revisions: map[string][]string{"hello": {"hello-00001", "hello-00002"}},
		Routing: map[string]Routing{"hello": {Percent: map[string]float64{"hello-00001": 90, "hello-00002": 10},
			Tags: map[string]string{"canary": "hello-00002"}}},
		AppMaxInFlight: map[string]int{"hello-00001": 4, "hello-00002": 1},
	}
	rec.Run.Requests = append(rec.Run.Requests,
		req("main", "hello-00001", 0, 1600*time.Millisecond, 200),
		req("main", "hello-00001", 100*time.Millisecond, 1500*time.Millisecond, 200))
	for i := 15; i < 100; i++ {
		code, rev := uint16(200), "hello-00001"
		switch {
		case i%10 == 0:
			rev = "hello-00002" // the 90/10 split
		case i == 55:
			code, rev = 503, ""
		case i == 77:
			code, rev = 0, ""
		}
		rec.Run.Requests = append(rec.Run.Requests, req("main", rev, time.Duration(i)*100*time.Millisecond, 10*time.Millisecond, code))
	}
	for i := range 10 {
		rec.Run.Requests = append(rec.Run.Requests, req("canary", "hello-00002", time.Duration(i)*s, 5*time.Millisecond, 200))
	}
	rec.Run.Decisions = []reports.Decision{
		{Time: 1 * s, Revision: "hello-00001", DesiredPods: 1, ReadyPods: 0},
		{Time: 3 * s, Revision: "hello-00001", DesiredPods: 3, ReadyPods: 1, Panic: 2.5, Panicking: true},
		{Time: 5 * s, Revision: "hello-00001", DesiredPods: 3, ReadyPods: 3, Panicking: true},
		{Time: 11 * s, Revision: "hello-00001", DesiredPods: 0, ReadyPods: 3},
	}
	rec.Run.Accounting.Sent = len(rec.Run.Requests)
	rec.MarkColdStarts()
	return rec
}

// TestEvaluate_EachKindAgainstARecordedRun: every expectation kind, met and unmet, with the
// observed value it reports.
func TestEvaluate_EachKindAgainstARecordedRun(t *testing.T) {
	for _, tc := range []struct {
		name, expect string
		pass         bool
		observed     string // a substring of Observed
	}{
		{"one cold start", `coldStart: {service: hello, count: 1, percentiles: {max: 2s}}`, true, "1 cold start, 2 requests waited, max 1.6s"},
		{"cold-start latency", `coldStart: {service: hello, percentiles: {p50: 1s}}`, false, "p50 1.5s over 2 requests"},
		{"two cold starts wanted", `coldStart: {service: hello, revision: hello-00001, count: 2}`, false, "1 cold start"},
		{"reaches in time", `reaches: {service: hello, revision: hello-00001, pods: 3, within: 5s}`, true, "reached 3 at 4s"},
		{"reaches too late", `reaches: {service: hello, revision: hello-00001, pods: 3, within: 3s}`, false, "reached 3 only at 4s"},
		{"never reaches", `reaches: {service: hello, revision: hello-00001, pods: 4, within: 10s}`, false, "peaked at 3 (at 4s)"},
		{"desired reaches", `reaches: {service: hello, revision: hello-00001, measure: desired, pods: 3, within: 3s}`, true, "reached 3 at 3s"},
		{"latest created by default", `pods: {service: hello, at: 5s, count: 1}`, true, "1 ready pods of hello-00002 at 5s"},
		{"pods at", `pods: {service: hello, revision: hello-00001, at: 5s, count: 3}`, true, "3 ready pods"},
		{"pods window", `pods: {service: hello, revision: hello-00001, from: 4s, to: 16s, count: ">=3"}`, true, "3 ready pods of hello-00001 throughout"},
		{"pods window broken", `pods: {service: hello, revision: hello-00001, from: 4s, to: 18s, count: ">=3"}`, false, "0 to 3"},
		{"actual pods", `maxPods: {service: hello, revision: hello-00001, measure: actual, max: 2}`, false, "peaked at 3 (at 4s)"},
		{"max pods", `maxPods: {service: hello, revision: hello-00001, max: 3}`, true, "peaked at 3"},
		{"scales to zero", `scalesToZero: {service: hello, revision: hello-00001, after: 10s, within: 8s}`, true, "from 17s (7s after 10s)"},
		{"scales to zero late", `scalesToZero: {service: hello, revision: hello-00001, after: 10s, within: 5s}`, false, "only at 17s"},
		{"panic entered", `panic: {service: hello, revision: hello-00001, entered: true, from: 2s, to: 4s}`, true, "entered panic at 3s"},
		{"panic before window", `panic: {service: hello, revision: hello-00001, entered: true, from: 4s}`, false, "did not enter panic in 2 ticks"},
		{"no panic", `panic: {service: hello, revision: hello-00001, entered: false}`, false, "panicking at 3s"},
		{"no panic late", `panic: {service: hello, revision: hello-00001, entered: false, from: 10s}`, true, "not panicking in 1 tick"},
		{"sks switches", `sksModeSwitches: {service: hello, revision: hello-00001, count: 2}`, true, "2 switches of hello-00001"},
		{"sks no switches", `sksModeSwitches: {service: hello, revision: hello-00001, count: 0}`, false, "2 switches"},
		{"declared split", `trafficSplit: {service: hello, from: 1s}`, true, "hello-00001 90.36% (75/83), hello-00002 9.64% (8/83)"},
		{"wrong split", `trafficSplit: {service: hello, shares: [{revision: hello-00001, percent: 50}, {tag: canary, percent: 50}]}`, false, "hello-00001 90.59% (77/85)"},
		{"tag URL", `trafficSplit: {service: hello, tag: canary}`, true, "hello-00002 100% (10/10)"},
		{"app concurrency", `appConcurrency: {service: hello, max: 1}`, false, "at most 4 requests at once in one pod (hello-00001)"},
		{"app concurrency of one", `appConcurrency: {service: hello, revision: hello-00002, max: 1}`, true, "at most 1 request at once"},
		{"latency of a stream", `latency: {stream: canary, percentiles: {p99: 5ms}}`, true, "p99 5ms over 10 requests"},
		{"latency of everything", `latency: {percentiles: {p95: 20ms, max: 1s}}`, false, "max 1.6s over 97 requests"},
		{"errors", `errorRate: {service: hello, max: 0}`, false, "2.06% (2 of 97 failed)"},
		{"errors allowed", `errorRate: {stream: main, max: 3%}`, true, "2.3% (2 of 87 failed)"},
		{"no errors in a window", `errorRate: {stream: main, from: 8s, max: 0}`, true, "0% (0 of 20 failed)"},
		{"status codes", `statusCodes: {service: hello, tag: canary, codes: {"200": 10}}`, true, "200: 10"},
		{"status classes", `statusCodes: {codes: {2xx: ">=100", 5xx: 1, error: 0}}`, false, "2xx: 95, 5xx: 1, error: 1"},
		{"throughput of offered", `throughput: {stream: main, minOfOffered: 85%}`, true, "86 of 100 offered answered"},
		{"throughput of offered unmet", `throughput: {stream: main, minOfOffered: 90%}`, false, "86 of 100 offered answered"},
		{"throughput rate", `throughput: {service: hello, tag: canary, min: 1}`, true, "10 of 10 offered answered, 1/s over 10s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := parseEval(t, "    - "+tc.expect+"\n")
			rec := evalRecord()
			Evaluate(s, rec)
			got := rec.Run.Expectations[0]
			if got.Passed != tc.pass || !strings.Contains(got.Observed, tc.observed) {
				t.Errorf("Evaluate(%s) = passed %v, observed %q (detail %q); want passed %v, observed containing %q",
					tc.expect, got.Passed, got.Observed, got.Detail, tc.pass, tc.observed)
			}
			wantVerdict := reports.Fail
			if tc.pass {
				wantVerdict = reports.Pass
			}
			if rec.Run.Verdict != wantVerdict {
				t.Errorf("verdict = %s, want %s", rec.Run.Verdict, wantVerdict)
			}
		})
	}
}

// TestEvaluate_AccountingIsAlwaysChecked: a request with no outcome fails the run even with no
// expectation (design: nothing lost), and an Error verdict is kept.
func TestEvaluate_AccountingIsAlwaysChecked(t *testing.T) {
	s := parseEval(t, "    - errorRate: {stream: canary, max: 0}\n")
	rec := evalRecord()
	Evaluate(s, rec)
	last := rec.Run.Expectations[len(rec.Run.Expectations)-1]
	if rec.Run.Verdict != reports.Pass || last.Kind != KindAccounting || !last.Passed || last.Observed != "97 sent, 96 responses, 1 errors" {
		t.Fatalf("balanced run: verdict %s, last check %+v; want pass with accounting 110 sent, 109 responses, 1 errors", rec.Run.Verdict, last)
	}
	rec = evalRecord()
	rec.Run.Accounting.Sent++
	Evaluate(s, rec)
	last = rec.Run.Expectations[len(rec.Run.Expectations)-1]
	if rec.Run.Verdict != reports.Fail || last.Passed || rec.Run.Accounting.Unaccounted != 1 {
		t.Errorf("one request lost: verdict %s, accounting %+v; want fail with 1 unaccounted", rec.Run.Verdict, rec.Run.Accounting)
	}
	rec = evalRecord()
	rec.Run.Verdict = reports.Error
	Evaluate(s, rec)
	if rec.Run.Verdict != reports.Error || len(rec.Run.Expectations) != 2 {
		t.Errorf("errored run: verdict %s with %d results, want error with both results", rec.Run.Verdict, len(rec.Run.Expectations))
	}
}

// TestEvaluate_TrafficSplitReportsPValueAndInterval: the split test's statistics (§7.2
// TestBlueGreenRoute's binomial interval, a χ² goodness of fit).
func TestEvaluate_TrafficSplitReportsPValueAndInterval(t *testing.T) {
	s := parseEval(t, "    - trafficSplit: {service: hello, from: 1s, confidence: 0.99}\n")
	rec := evalRecord()
	Evaluate(s, rec)
	got := rec.Run.Expectations[0]
	lo, hi := BinomialInterval(83, 0.9, 0.99)
	wantP := distuv.ChiSquared{K: 1}.Survival((75-74.7)*(75-74.7)/74.7 + (8-8.3)*(8-8.3)/8.3)
	if got.PValue == nil || math.Abs(*got.PValue-wantP) > 1e-9 {
		t.Errorf("p-value = %+v, want %g", got, wantP)
	}
	if got.Interval == nil || got.Interval[0] != float64(lo)/83 || got.Interval[1] != float64(hi)/83 {
		t.Errorf("interval = %v, want [%d, %d]/83", got.Interval, lo, hi)
	}
}

// TestMarkColdStarts: a request is a cold start when its revision had no ready pod at send time.
func TestMarkColdStarts(t *testing.T) {
	rec := evalRecord()
	var cold []time.Duration
	for _, q := range rec.Run.Requests {
		if q.ColdStart {
			cold = append(cold, q.Result.Timestamp.Sub(t0))
		}
	}
	if len(cold) != 2 || cold[0] != 0 || cold[1] != 100*time.Millisecond {
		t.Errorf("cold starts sent at %v, want [0s 100ms]", cold)
	}
}

// TestBuildSeries: one sample per revision and second, with the state at the second's start
// and what completed within it.
func TestBuildSeries(t *testing.T) {
	rec := evalRecord()
	rec.Namespace = "ns"
	rec.ActivatorQueue = map[string][]int{"hello-00001": {2, 0}}
	rec.BuildSeries()
	byKey := map[string]reports.Sample{}
	for _, s := range rec.Run.Series {
		byKey[s.Revision+"@"+s.Time.String()] = s
	}
	if n := len(rec.Run.Series); n != 42 {
		t.Errorf("%d samples, want 21 seconds × 2 revisions = 42", n)
	}
	s0 := byKey["hello-00001@0s"]
	if s0.ReadyPods != 0 || s0.DesiredPods != 0 || s0.Mode != "Proxy" || s0.ActivatorQueue != 2 || s0.Namespace != "ns" {
		t.Errorf("hello-00001 at 0s = %+v, want 0 ready, desired 0, Proxy, queue 2", s0)
	}
	s1 := byKey["hello-00001@1s"]
	// The two cold requests end at 1.6s and 1.6s, in flight through second 1 up to then; five
	// 10ms requests are sent at 1.5–1.9s.
	if s1.RPS != 7 || s1.ReadyPods != 0 || math.Abs(s1.Concurrency-(0.6+0.6+0.05)) > 1e-9 {
		t.Errorf("hello-00001 at 1s = %+v, want 7 rps, 0 ready, concurrency 1.25", s1)
	}
	s3 := byKey["hello-00001@3s"]
	if !s3.Panicking || s3.Panic != 2.5 || s3.DesiredPods != 3 || s3.Mode != "Serve" {
		t.Errorf("hello-00001 at 3s = %+v, want panicking at 2.5, desired 3, Serve", s3)
	}
}

// TestBinomialInterval agrees with a direct scan of the CDF (the e2e suite's computation).
func TestBinomialInterval(t *testing.T) {
	scan := func(n int, p, conf float64) (int, int) {
		b := distuv.Binomial{N: float64(n), P: p}
		tail := (1 - conf) / 2
		lo, hi := 0, n
		for k := 0; k <= n; k++ {
			if b.CDF(float64(k)) > tail {
				lo = k
				break
			}
		}
		for k := n; k >= 0; k-- {
			if b.Survival(float64(k-1)) > tail {
				hi = k
				break
			}
		}
		return lo, hi
	}
	for _, tc := range []struct {
		n       int
		p, conf float64
	}{{2000, 0.5, 0.999}, {200, 0.5, 0.999}, {359, 0.1, 0.999}, {94, 0.9, 0.99}, {10, 0.3, 0.95}, {1, 0.5, 0.5}} {
		lo, hi := BinomialInterval(tc.n, tc.p, tc.conf)
		wlo, whi := scan(tc.n, tc.p, tc.conf)
		if lo != wlo || hi != whi {
			t.Errorf("BinomialInterval(%d, %g, %g) = [%d, %d], want [%d, %d]", tc.n, tc.p, tc.conf, lo, hi, wlo, whi)
		}
	}
	if lo, hi := BinomialInterval(50, 1, 0.999); lo != 50 || hi != 50 {
		t.Errorf("BinomialInterval(50, 1, ·) = [%d, %d], want [50, 50]", lo, hi)
	}
	if lo, hi := BinomialInterval(50, 0, 0.999); lo != 0 || hi != 0 {
		t.Errorf("BinomialInterval(50, 0, ·) = [%d, %d], want [0, 0]", lo, hi)
	}
}

func TestChiSquarePValue(t *testing.T) {
	for _, tc := range []struct {
		obs  []int
		exp  []float64
		want float64
	}{
		{[]int{50, 50}, []float64{0.5, 0.5}, 1},
		{[]int{60, 40}, []float64{0.5, 0.5}, distuv.ChiSquared{K: 1}.Survival(4)},
		{[]int{10, 0}, []float64{1, 0}, 1},
		{[]int{9, 1}, []float64{1, 0}, 0},
		{[]int{30, 30, 40}, []float64{0.3, 0.3, 0.4}, 1},
	} {
		if got := chiSquarePValue(tc.obs, tc.exp); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("chiSquarePValue(%v, %v) = %g, want %g", tc.obs, tc.exp, got, tc.want)
		}
	}
}

func TestStatistic_NearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 10; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[Percentile]time.Duration{"min": 1, "p10": 1, "p50": 5, "p90": 9, "p95": 10, "p99.9": 10, "max": 10} {
		if got := statistic(d, p); got != want*time.Millisecond {
			t.Errorf("statistic(1..10ms, %s) = %s, want %s", p, got, want*time.Millisecond)
		}
	}
	if got := statistic(d, "mean"); got != 5500*time.Microsecond {
		t.Errorf("statistic(1..10ms, mean) = %s, want 5.5ms", got)
	}
}

// TestOffered integrates each phase kind's planned requests over a window, as load plans them.
func TestOffered(t *testing.T) {
	s := time.Second
	stream := func(start time.Duration, phases ...Phase) Stream {
		return Stream{Start: Duration(start), Phases: phases}
	}
	for _, tc := range []struct {
		name     string
		st       Stream
		from, to time.Duration
		want     float64
		closed   bool
	}{
		{"constant", stream(0, Phase{Constant: &ConstantPhase{Rate: 10, Duration: Duration(5 * s)}}), 0, time.Hour, 50, false},
		{"constant window", stream(0, Phase{Constant: &ConstantPhase{Rate: 10, Duration: Duration(5 * s)}}), 2 * s, 3 * s, 10, false},
		{"start offset", stream(2*s, Phase{Constant: &ConstantPhase{Rate: 10, Duration: Duration(5 * s)}}), 0, 3 * s, 10, false},
		{"ramp", stream(0, Phase{Ramp: &RampPhase{From: 0, To: 10, Duration: Duration(10 * s)}}), 0, time.Hour, 50, false},
		{"steps", stream(0, Phase{Step: &StepPhase{From: 100, To: 300, Steps: 3, Duration: Duration(15 * s)}}), 0, time.Hour, 3000, false},
		{"steps window", stream(0, Phase{Step: &StepPhase{From: 100, To: 300, Steps: 3, Duration: Duration(15 * s)}}), 4 * s, 6 * s, 300, false},
		{"sine period", stream(0, Phase{Sine: &SinePhase{Mean: 10, Amplitude: 5, Period: Duration(4 * s), Duration: Duration(8 * s)}}), 0, time.Hour, 80, false},
		{"burst at once", stream(0, Phase{Idle: &IdlePhase{Duration: Duration(s)}}, Phase{Burst: &BurstPhase{Requests: 5}}), 0, time.Hour, 5, false},
		{"burst outside", stream(0, Phase{Idle: &IdlePhase{Duration: Duration(s)}}, Phase{Burst: &BurstPhase{Requests: 5}}), 2 * s, time.Hour, 0, false},
		{"spread burst", stream(0, Phase{Burst: &BurstPhase{Requests: 10, Within: Duration(s)}}), 0, 500 * time.Millisecond, 5, false},
		{"trace", stream(0, Phase{Trace: &TracePhase{Arrivals: []Duration{0, Duration(s), Duration(2 * s)}}}), 0, time.Hour, 3, false},
		{"closed", stream(0, Phase{Concurrent: &ConcurrentPhase{Clients: 5, Duration: Duration(s)}}), 0, time.Hour, 0, true},
	} {
		got, closed := tc.st.offered(tc.from, tc.to)
		if math.Abs(got-tc.want) > 1e-9 || closed != tc.closed {
			t.Errorf("%s: offered(%s, %s) = %g, closed %v; want %g, %v", tc.name, tc.from, tc.to, got, closed, tc.want, tc.closed)
		}
	}
}
