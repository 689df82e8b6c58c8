package virtual

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/servingsim/servingsim/stack/podruntime"
)

// oneService is a Knative Service with the default autoscaling, a lognormal service time and a
// one-second pod startup, under the given phases.
func oneService(tb testing.TB, phases ...Phase) Spec {
	tb.Helper()
	var d time.Duration
	for _, p := range phases {
		d += p.Length()
	}
	return Spec{
		Seed: 1,
		Configurations: []Configuration{{Name: "svc", Revision: RevisionSpec{Name: "svc-00001",
			App: appCfg(tb, "lognormal(50ms,0.5)"), Startup: podruntime.StartupModel{Startup: podruntime.Const(time.Second)}}}},
		Routes:   []Route{{Name: "svc", Traffic: []TrafficTarget{{ConfigurationName: "svc", LatestRevision: true, Percent: 100}}}},
		Streams:  []Stream{{Name: "svc", Route: "svc", Phases: phases}},
		Duration: d,
	}
}

// The benchmarks report the figures issue #6 asks for (docs/benchmarks.md "Virtual time"):
// sim-h/s, simulated hours per wall second; sim-req/s, simulated requests per wall second; and
// for BenchmarkMemoryPerRevision, B/revision, the engine's live heap per revision.

// BenchmarkDay simulates a 24 h day of one service at 10 requests per second, keeping only the
// summaries: simulated requests per wall second and simulated hours per wall second.
func BenchmarkDay(b *testing.B) {
	spec := oneService(b, Constant{Rate: 10, Duration: 24 * time.Hour})
	spec.Discard = Discard{Requests: true, Samples: true, Decisions: true, Events: true}
	benchRun(b, spec)
}

// BenchmarkHour100RPS simulates one hour at 100 requests per second with the full record.
func BenchmarkHour100RPS(b *testing.B) {
	benchRun(b, oneService(b, Constant{Rate: 100, Duration: time.Hour}))
}

func benchRun(b *testing.B, spec Spec) {
	b.ReportAllocs()
	var sent int
	var simulated time.Duration
	start := time.Now()
	for b.Loop() {
		res, err := Run(context.Background(), spec)
		if err != nil {
			b.Fatal(err)
		}
		sent += res.Sent
		simulated += res.End
	}
	wall := time.Since(start).Seconds()
	b.ReportMetric(float64(sent)/wall, "sim-req/s")
	b.ReportMetric(simulated.Hours()/wall, "sim-h/s")
}

// manyServices is n Knative Services, each with its own Poisson stream at rate requests per
// second for d, recording only the summaries.
func manyServices(tb testing.TB, n int, rate float64, d time.Duration) Spec {
	spec := Spec{Seed: 1, Duration: d, Arrivals: Poisson, Timing: Timing{CreateSpacing: -1},
		Discard: Discard{Requests: true, Samples: true, Decisions: true, Events: true}}
	app := appCfg(tb, "lognormal(50ms,0.5)")
	for i := range n {
		name := "svc-" + strconv.Itoa(i)
		spec.Configurations = append(spec.Configurations, Configuration{Name: name, Revision: RevisionSpec{Name: name + "-00001",
			App: app, Startup: podruntime.StartupModel{Startup: podruntime.Const(time.Second)}}})
		spec.Routes = append(spec.Routes, Route{Name: name, Traffic: []TrafficTarget{{ConfigurationName: name, LatestRevision: true, Percent: 100}}})
		spec.Streams = append(spec.Streams, Stream{Name: name, Route: name, Phases: []Phase{Constant{Rate: rate, Duration: d}}})
	}
	return spec
}

// BenchmarkRevisions1 simulates one hour of one service at 5 requests per second, recording
// only the summaries: the per-revision load of BenchmarkRevisions100.
func BenchmarkRevisions1(b *testing.B) { benchRun(b, manyServices(b, 1, 5, time.Hour)) }

// BenchmarkRevisions100 simulates one hour of 100 services at 5 requests per second each
// (1.8 M requests, the activator in the path of every one). Target: ≥ 1 sim-h/s.
func BenchmarkRevisions100(b *testing.B) { benchRun(b, manyServices(b, 100, 5, time.Hour)) }

// BenchmarkRevisions3000 simulates one hour of 3,000 services at 0.2 requests per second each
// (a sparse, trace-like load: most revisions scale to zero between requests). Target: the
// hour in under 60 s, i.e. > 0.06 sim-h/s.
func BenchmarkRevisions3000(b *testing.B) { benchRun(b, manyServices(b, 3000, 0.2, time.Hour)) }

// BenchmarkMemoryPerRevision reports the live heap of an engine that has run 10 minutes of
// 3,000 services at 0.2 requests per second, per revision: every pod, collector, decider,
// throttle and stat the engine keeps, with the summaries only.
func BenchmarkMemoryPerRevision(b *testing.B) {
	const n = 3000
	spec := manyServices(b, n, 0.2, 10*time.Minute)
	var perRevision float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		e, err := newEngine(spec)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.run(context.Background()); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(e)
		perRevision = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
	}
	b.ReportMetric(perRevision, "B/revision")
}
