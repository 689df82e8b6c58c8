package virtual

import (
	"context"
	"testing"
	"time"

	"github.com/servingsim/servingsim/stack/app"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/podruntime"
)

// appCfg is the app model with the given service-time distribution.
func appCfg(tb testing.TB, serviceTime string) app.Config {
	tb.Helper()
	cfg, err := app.ParseConfig(map[string]string{app.ServiceTimeKey: serviceTime}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// service is a Knative Service "svc": one Configuration with revision svc-00001 and a Route
// sending it 100%, with annotations on the revision template.
type service struct {
	annotations map[string]string
	cc          int
	serviceTime string
	startup     time.Duration
}

func (s service) revision(tb testing.TB, name string) RevisionSpec {
	st := s.serviceTime
	if st == "" {
		st = "100ms"
	}
	return RevisionSpec{Name: name, Annotations: s.annotations, ContainerConcurrency: s.cc, App: appCfg(tb, st),
		Startup: podruntime.StartupModel{Startup: podruntime.Const(s.startup)}}
}

// spec is a run of one Service under config overrides (config-autoscaler keys) and phases.
func (s service) spec(tb testing.TB, autoscaler map[string]string, phases ...Phase) Spec {
	tb.Helper()
	store := config.NewStore()
	if err := store.Update(config.AutoscalerConfigName, autoscaler); err != nil {
		tb.Fatal(err)
	}
	st := Stream{Name: "load", Route: "svc", Phases: phases}
	return Spec{
		Seed:           7,
		Config:         store.Load(),
		Configurations: []Configuration{{Name: "svc", Revision: s.revision(tb, "svc-00001")}},
		Routes:         []Route{{Name: "svc", Traffic: []TrafficTarget{{ConfigurationName: "svc", LatestRevision: true, Percent: 100}}}},
		Streams:        []Stream{st},
		Duration:       st.End(),
	}
}

func run(tb testing.TB, spec Spec) *Result {
	tb.Helper()
	res, err := Run(context.Background(), spec)
	if err != nil {
		tb.Fatal(err)
	}
	if res.Sent != res.Responses+res.Errors || len(res.Requests) != res.Sent && !spec.Discard.Requests {
		tb.Fatalf("accounting: sent %d, responses %d, errors %d, %d records", res.Sent, res.Responses, res.Errors, len(res.Requests))
	}
	return res
}

// zeroInitialScale lets a revision start at zero pods.
var zeroInitialScale = map[string]string{"allow-zero-initial-scale": "true"}

func annos(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}
