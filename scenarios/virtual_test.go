package scenarios

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/servingsim/servingsim/reports"
)

// Every catalog scenario runs in virtual mode and meets its expectations.
func TestRunVirtual_Catalog(t *testing.T) {
	all, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		t.Run(s.Metadata.Name, func(t *testing.T) {
			run, err := Run(context.Background(), s, RunOptions{Mode: ModeVirtual})
			if err != nil {
				t.Fatalf("virtual run: %v", err)
			}
			if run.Mode != ModeVirtual || run.Seed != DefaultSeed || run.Accounting.Sent == 0 || run.Accounting.Unaccounted != 0 {
				t.Errorf("run = mode %s, seed %d, accounting %+v; want virtual, seed %d, requests all accounted for",
					run.Mode, run.Seed, run.Accounting, DefaultSeed)
			}
			if len(run.Series) == 0 || len(run.Decisions) == 0 {
				t.Errorf("run has %d samples and %d decisions, want both", len(run.Series), len(run.Decisions))
			}
			if run.Verdict != reports.Pass {
				for _, e := range run.Expectations {
					if !e.Passed {
						t.Errorf("%s: observed %s; %s", e.Description, e.Observed, e.Detail)
					}
				}
			}
		})
	}
}

// The same seed gives byte-identical run directories (summary.json, timeseries.csv and the
// rest); another seed gives other requests.
func TestRunVirtual_SameSeedSameFiles(t *testing.T) {
	s, err := CatalogScenario("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	write := func(seed int64) string {
		run, err := Run(context.Background(), s, RunOptions{Mode: ModeVirtual, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := reports.WriteDir(dir, run); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	a, b, c := write(5), write(5), write(6)
	read := func(dir, name string) []byte {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	entries, err := os.ReadDir(a)
	if err != nil || len(entries) == 0 {
		t.Fatalf("run directory: %v entries, %v", len(entries), err)
	}
	for _, e := range entries {
		if !bytes.Equal(read(a, e.Name()), read(b, e.Name())) {
			t.Errorf("%s differs between two runs with seed 5", e.Name())
		}
	}
	for _, name := range []string{reports.SummaryFile, reports.TimeseriesFile} {
		if len(read(a, name)) == 0 {
			t.Errorf("%s is empty", name)
		}
	}
	if bytes.Equal(read(a, reports.RequestsFile), read(c, reports.RequestsFile)) {
		t.Errorf("seeds 5 and 6 gave identical requests")
	}
}

// Actions run against the engine: a setTraffic when the revision is ready, a setConfig, a
// killPod (the Deployment replaces the pod) and a setApp.
func TestRunVirtual_Actions(t *testing.T) {
	s := &Scenario{APIVersion: APIVersion, Kind: Kind, Metadata: Metadata{Name: "virtual-actions"}}
	svc, err := Inline(map[string]any{
		"apiVersion": "serving.knative.dev/v1", "kind": "Service", "metadata": map[string]any{"name": "hello"},
		"spec": map[string]any{"template": map[string]any{
			"metadata": map[string]any{"annotations": map[string]any{"autoscaling.knative.dev/min-scale": "2"}},
			"spec":     map[string]any{"containers": []any{map[string]any{"image": "ghcr.io/knative/helloworld-go:latest"}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) *Duration { v := Duration(d); return &v }
	rate := 0.5
	s.Spec = Spec{
		Services: []Service{svc},
		Workload: []Stream{{Target: Target{Service: "hello"}, Phases: []Phase{{Constant: &ConstantPhase{Rate: 20, Duration: Duration(20 * time.Second)}}}}},
		Actions: []Action{
			{At: at(2 * time.Second), KillPod: &KillPod{Service: "hello"}},
			{At: at(4 * time.Second), SetConfig: &SetConfig{ConfigMap: "config-autoscaler", Data: map[string]string{"max-scale-down-rate": "4"}}},
			{At: at(10 * time.Second), SetApp: &SetApp{Service: "hello", ErrorRate: (*Fraction)(&rate)}},
		},
		Expect: []Expectation{
			{Pods: &PodsExpect{Service: "hello", From: at(0), To: at(20 * time.Second), Measure: MeasureActual, Count: AtLeast(2)}},
			{ErrorRate: &ErrorRateExpect{Scope: Scope{To: at(9 * time.Second)}}},
		},
	}
	run, err := Run(context.Background(), s, RunOptions{Mode: ModeVirtual})
	if err != nil {
		t.Fatal(err)
	}
	if run.Verdict != reports.Pass {
		t.Errorf("verdict %s: %+v", run.Verdict, run.Expectations)
	}
	var actions, killed int
	for _, e := range run.Events {
		switch {
		case e.Kind == "action":
			actions++
		case e.Kind == "pod" && bytes.HasPrefix([]byte(e.Message), []byte("terminating")) && e.Time == 2*time.Second:
			killed++
		}
	}
	if actions != 3 || killed != 1 {
		t.Errorf("%d action events and %d pods killed at 2s, want 3 and 1", actions, killed)
	}
	failed := 0
	for _, q := range run.Requests {
		if q.Result.Code == 500 {
			failed++
		}
	}
	if n := len(run.Requests); failed < n/8 || failed > n/2 {
		t.Errorf("%d of %d requests failed after setApp errorRate 50%% for the last half, want about a quarter", failed, n)
	}
}

// BenchmarkRunVirtual_Hour100RPS runs a one-hour scenario at 100 requests per second in
// virtual mode, end to end: conversion, simulation, series, expectations.
func BenchmarkRunVirtual_Hour100RPS(b *testing.B) {
	s, err := New("virtual-hour").
		WithService(map[string]any{"apiVersion": "serving.knative.dev/v1", "kind": "Service", "metadata": map[string]any{"name": "hello"},
			"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"image": "hello"}}}}}}).
		Stack(Stack{App: AppModel{ServiceTime: "lognormal(50ms,0.5)"}}).
		Constant("hello", 100, time.Hour).
		Expect(&ErrorRateExpect{}).
		Build()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		run, err := Run(context.Background(), s, RunOptions{Mode: ModeVirtual})
		if err != nil || run.Verdict != reports.Pass {
			b.Fatalf("verdict %s: %v", run.Verdict, err)
		}
	}
}
