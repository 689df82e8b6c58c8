package scenarios

import (
	"os"
	"strings"
	"testing"
)

// TestCatalog_EveryScenarioLoads parses and validates every bundled scenario (Knative's §7
// benchmarks, the issue 3/4 acceptance cases, the §8 regressions).
func TestCatalog_EveryScenarioLoads(t *testing.T) {
	files := catalogFiles()
	if len(files) < 10 {
		t.Fatalf("catalogFiles() = %d files, want the bundled catalog (≥ 10)", len(files))
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			s, err := ParseFS(catalog, f)
			if err != nil {
				t.Fatalf("ParseFS(%s) = %v", f, err)
			}
			if want := strings.TrimSuffix(strings.TrimPrefix(f, "catalog/"), ".yaml"); s.Metadata.Name != want {
				t.Errorf("%s: metadata.name = %q, want the file name %q", f, s.Metadata.Name, want)
			}
			if s.Metadata.Description == "" || s.Metadata.Labels["suite"] == "" {
				t.Errorf("%s: want a description and a suite label", f)
			}
			if len(s.Spec.Expect) == 0 {
				t.Errorf("%s: no expectations", f)
			}
			if d := s.Duration(); d < 0 || d > MaxDuration {
				t.Errorf("%s: Duration() = %s, want in [0, %s]", f, d, MaxDuration)
			}
		})
	}
}

// TestDocs_FormatGuideExampleLoadsAndNamesEveryKind keeps docs/scenario-format.md honest: its
// opening example is a valid scenario, and every phase, action and expectation kind is documented.
func TestDocs_FormatGuideExampleLoadsAndNamesEveryKind(t *testing.T) {
	b, err := os.ReadFile("../docs/scenario-format.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	_, rest, ok := strings.Cut(doc, "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/scenario-format.md has no yaml example")
	}
	if _, err := Parse([]byte(example), "scenario-format.md"); err != nil {
		t.Errorf("the opening example of docs/scenario-format.md does not load: %v", err)
	}
	var kinds []string
	for _, l := range allPhaseKinds() {
		kinds = append(kinds, l.Kind())
	}
	for _, e := range allEffectKinds() {
		kinds = append(kinds, e.Kind())
	}
	for _, c := range allCheckKinds() {
		kinds = append(kinds, c.Kind())
	}
	if len(kinds) != 8+6+13 {
		t.Fatalf("found %d kinds, want 27", len(kinds))
	}
	for _, k := range kinds {
		if !strings.Contains(doc, "| `"+k+"` |") {
			t.Errorf("docs/scenario-format.md has no table row for %q", k)
		}
	}
}

// allPhaseKinds, allEffectKinds and allCheckKinds return one value of every kind of each union.
func allPhaseKinds() []Pacing {
	return Phase{Constant: &ConstantPhase{}, Ramp: &RampPhase{}, Step: &StepPhase{}, Sine: &SinePhase{}, Burst: &BurstPhase{},
		Idle: &IdlePhase{}, Concurrent: &ConcurrentPhase{}, Trace: &TracePhase{}}.loads()
}

func allEffectKinds() []Effect {
	return Action{UpdateService: &UpdateService{}, SetTraffic: &SetTraffic{}, SetConfig: &SetConfig{}, KillPod: &KillPod{},
		FailPod: &FailPod{}, SetApp: &SetApp{}}.effects()
}

func allCheckKinds() []Check {
	return Expectation{ColdStart: &ColdStartExpect{}, Pods: &PodsExpect{}, MaxPods: &MaxPodsExpect{}, Reaches: &ReachesExpect{},
		ScalesToZero: &ScalesToZeroExpect{}, Panic: &PanicExpect{}, SKSModeSwitches: &SKSModeSwitchesExpect{},
		TrafficSplit: &TrafficSplitExpect{}, AppConcurrency: &AppConcurrencyExpect{}, Latency: &LatencyExpect{},
		ErrorRate: &ErrorRateExpect{}, StatusCodes: &StatusCodesExpect{}, Throughput: &ThroughputExpect{}}.checks()
}
