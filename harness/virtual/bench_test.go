package virtual

import (
	"context"
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

// BenchmarkRevisions100 simulates one hour of 100 services at 5 requests per second each.
func BenchmarkRevisions100(b *testing.B) { benchRun(b, manyServices(b, 100, 5, time.Hour)) }

// BenchmarkRevisions3000 simulates one hour of 3,000 services at 0.2 requests per second each
// (a sparse, trace-like load: most revisions scale to zero between requests).
func BenchmarkRevisions3000(b *testing.B) { benchRun(b, manyServices(b, 3000, 0.2, time.Hour)) }
