package scenarios

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"sigs.k8s.io/yaml"
)

// baseScenario is a valid scenario of 14 lines; test cases append spec fields from line 15 on.
const baseScenario = `apiVersion: servingsim.dev/v1alpha1
kind: Scenario
metadata:
  name: t
spec:
  services:
    - apiVersion: serving.knative.dev/v1
      kind: Service
      metadata: {name: hello}
      spec:
        template:
          spec:
            containers:
              - image: ghcr.io/knative/helloworld-go:latest
`

const onePhase = `  workload:
    - target: {service: hello}
      phases:
`

// TestParse_BadInputsNameFileLineAndField holds the loader's promise: every problem is named
// with its file, line, column and field path, says what is valid, and all are reported at once,
// sorted by line.
func TestParse_BadInputsNameFileLineAndField(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"rate is not a rate", baseScenario + onePhase + "        - constant: {rate: fast, duration: 30s}\n",
			[]string{`t.yaml:18:28: spec.workload[0].phases[0].constant.rate: "fast" is not a rate; use a number per second like 50 or "50/s" (also "3000/m", "1/ms")`}},
		{"duration without unit", baseScenario + onePhase + "        - constant:\n            rate: 50/s\n            duration: 30\n",
			[]string{`t.yaml:20:23: spec.workload[0].phases[0].constant.duration: 30 is not a duration; use a Go duration like "30s", "1m30s" or "250ms"`}},
		{"misspelt field gets a suggestion", baseScenario + "  workloads: []\n",
			[]string{`t.yaml:15:3: spec.workloads: unknown field "workloads"; did you mean "workload"? (valid: stack, services, workload, actions, expect)`}},
		{"misspelt phase kind is not also reported empty", baseScenario + onePhase + "        - constnt: {rate: 1, duration: 1s}\n",
			[]string{`t.yaml:18:11: spec.workload[0].phases[0].constnt: unknown field "constnt"; did you mean "constant"? (valid: constant, ramp, step, sine, burst, idle, concurrent, trace)`}},
		{"empty phase", baseScenario + onePhase + "        - {}\n",
			[]string{`t.yaml:18:11: spec.workload[0].phases[0]: empty phase; want exactly one of constant, ramp, step, sine, burst, idle, concurrent or trace`}},
		{"two kinds in one phase", baseScenario + onePhase + "        - idle: {duration: 1s}\n          constant: {rate: 1, duration: 1s}\n",
			[]string{`t.yaml:18:11: spec.workload[0].phases[0]: phase sets 2 kinds; want exactly one of constant, ramp, step, sine, burst, idle, concurrent or trace`}},
		{"rate above the bound", baseScenario + onePhase + "        - constant: {rate: 60000/s, duration: 1s}\n",
			[]string{`t.yaml:18:28: spec.workload[0].phases[0].constant.rate: 60000/s is above the limit of 50000/s`}},
		{"rate zero", baseScenario + onePhase + "        - constant: {rate: 0, duration: 1s}\n",
			[]string{`t.yaml:18:28: spec.workload[0].phases[0].constant.rate: 0/s; want a rate > 0 like 50 or "50/s"`}},
		{"longer than an hour", baseScenario + onePhase + "        - constant: {rate: 1, duration: 50m}\n        - idle: {duration: 11m}\n",
			[]string{`t.yaml:16:7: spec.workload[0]: ends at 1h1m0s; a scenario may last at most 1h0m0s`}},
		{"missing duration", baseScenario + onePhase + "        - ramp: {from: 1, to: 10}\n",
			[]string{`t.yaml:18:11: spec.workload[0].phases[0].ramp.duration: required; want a duration > 0 like "30s"`}},
		{"unknown target", baseScenario + "  workload:\n    - target: {service: helo}\n      phases: [{idle: {duration: 1s}}]\n",
			[]string{`t.yaml:16:25: spec.workload[0].target.service: "helo" is not a Knative Service or Route in spec.services (hello)`}},
		{"undeclared tag", baseScenario + "  workload:\n    - target: {service: hello, tag: blue}\n      phases: [{idle: {duration: 1s}}]\n",
			[]string{`t.yaml:16:37: spec.workload[0].target.tag: hello has no traffic tags; tags come from its spec.traffic or a setTraffic action`}},
		{"tag set by an action is known", baseScenario + "  workload:\n    - target: {service: hello, tag: blue}\n      phases: [{idle: {duration: 1s}}]\n" +
			"  actions:\n    - at: 1s\n      setTraffic: {service: hello, traffic: [{tag: blue, revisionName: hello-00001, percent: 100}]}\n",
			nil},
		{"host header", baseScenario + "  workload:\n    - target: {service: hello, headers: {Host: x}}\n      phases: [{idle: {duration: 1s}}]\n",
			[]string{`t.yaml:16:48: spec.workload[0].target.headers.Host: the Host header comes from the target (service, tag, clusterLocal); leave it out`}},
		{"unknown ConfigMap and a bad Knative value", baseScenario + "  stack:\n    configOverrides:\n      config-autoscaler: {stable-window: 5s}\n      config-nope: {a: b}\n",
			[]string{
				`t.yaml:17:42: spec.stack.configOverrides.config-autoscaler.stable-window: "5s" is not valid: want a whole-second duration in [6s, 1h]`,
				`t.yaml:18:7: spec.stack.configOverrides.config-nope: unknown ConfigMap "config-nope"; want one of config-autoscaler, config-defaults, config-deployment, config-domain, config-features, config-gc, config-network`,
			}},
		{"bad distribution", baseScenario + "  stack:\n    podStartup: {startup: lognormal(1s)}\n",
			[]string{`t.yaml:16:27: spec.stack.podStartup.startup: distribution "lognormal(1s)": lognormal takes (median, sigma); want a duration like "2s", "uniform(1s,3s)", "exponential(500ms)" or "lognormal(1s,0.5)"`}},
		{"wrong apiVersion and missing kind", strings.Replace(strings.Replace(baseScenario, "servingsim.dev/v1alpha1", "servingsim.dev/v1", 1), "kind: Scenario\n", "", 1),
			[]string{
				`t.yaml:1:1: kind: required; want Scenario`,
				`t.yaml:1:13: apiVersion: "servingsim.dev/v1" is not supported; want servingsim.dev/v1alpha1`,
			}},
		{"duplicate key", baseScenario + "  workload: []\n  workload: []\n",
			[]string{`t.yaml:16:3: spec.workload: duplicate key (first at line 15)`}},
		{"YAML syntax error", baseScenario + "  workload: [\n",
			[]string{`t.yaml:15: YAML syntax: did not find expected node content`}},
		{"empty file", "# nothing\n",
			[]string{`t.yaml: empty file; want a Scenario (apiVersion: servingsim.dev/v1alpha1, kind: Scenario)`}},
		{"two documents", baseScenario + "---\n" + baseScenario,
			[]string{`t.yaml:16: 2 YAML documents; a scenario file holds exactly one`}},
		{"Knative's validation of an inline object", strings.Replace(baseScenario, "          spec:\n", "          spec:\n            containerConcurrency: -1\n", 1),
			[]string{`t.yaml:13:35: spec.services[0].spec.template.spec.containerConcurrency: expected 0 <= -1 <= 1000`}},
		{"unknown Knative field", strings.Replace(baseScenario, "latest\n", "latest\n                imag: x\n", 1),
			[]string{`t.yaml:15:17: spec.services[0].spec.template.spec.containers[0].imag: unknown field; Knative's API has no such field`}},
		{"services entry with file and an object", baseScenario + "    - file: x.yaml\n      kind: Service\n",
			[]string{`t.yaml:15:7: spec.services[1]: a services entry is either {file: PATH} or an inline Knative object, not both`}},
		{"unknown expectation", baseScenario + "  expect:\n    - coldstart: {service: hello}\n",
			[]string{`t.yaml:16:7: spec.expect[0].coldstart: unknown field "coldstart"; did you mean "coldStart"? (valid: coldStart, pods, maxPods, reaches, scalesToZero, panic, sksModeSwitches, trafficSplit, appConcurrency, latency, errorRate, statusCodes, throughput)`}},
		{"split shares not 100", baseScenario + "  expect:\n    - trafficSplit: {service: hello, shares: [{revision: hello-00001, percent: 60}]}\n",
			[]string{`t.yaml:16:38: spec.expect[0].trafficSplit.shares: percents add up to 60; want 100`}},
		{"bad count and revision", baseScenario + "  expect:\n    - pods: {service: hello, revision: world-00001, at: 5s, count: \"5..2\"}\n" +
			"    - sksModeSwitches: {service: hello, count: many}\n",
			[]string{
				`t.yaml:16:40: spec.expect[0].pods.revision: "world-00001" is not a revision of hello; its revisions are named hello-<suffix> (e.g. hello-00001)`,
				`t.yaml:16:68: spec.expect[0].pods.count: 5..2 is an empty range; want min ≤ max, both ≥ 0`,
				`t.yaml:17:48: spec.expect[1].sksModeSwitches.count: "many" is not a count; use a whole number like 3, a range "2..5", ">=3" or "<=2"`,
			}},
		{"action needs a time and one effect", baseScenario + "  actions:\n    - killPod: {service: hello}\n    - at: 1s\n",
			[]string{
				`t.yaml:16:7: spec.actions[0]: want at (a time) or when (a condition)`,
				`t.yaml:17:7: spec.actions[1]: empty action; want exactly one of updateService, setTraffic, setConfig, killPod, failPod or setApp`,
			}},
		{"patch that Knative rejects", baseScenario + "  actions:\n    - at: 1s\n      updateService:\n        name: hello\n        patch: {spec: {template: {spec: {containerConcurrency: 2000}}}}\n",
			[]string{`t.yaml:19:64: spec.actions[0].updateService.patch.spec.template.spec.containerConcurrency: after the patch: expected 0 <= 2000 <= 1000`}},
		{"setConfig checked with Knative's parser", baseScenario + "  actions:\n    - at: 1s\n      setConfig: {configMap: config-autoscaler, data: {max-scale-up-rate: \"1\"}}\n",
			[]string{`t.yaml:17:75: spec.actions[0].setConfig.data.max-scale-up-rate: "1" is not valid: want a value > 1`}},
		{"cluster-local service needs a cluster-local target", strings.Replace(baseScenario, "metadata: {name: hello}", "metadata: {name: hello, labels: {networking.knative.dev/visibility: cluster-local}}", 1) +
			"  workload:\n    - target: {service: hello}\n      phases: [{idle: {duration: 1s}}]\n",
			[]string{`t.yaml:16:7: spec.workload[0].target.clusterLocal: hello is cluster-local (label networking.knative.dev/visibility: cluster-local), so it has no external URL; set clusterLocal: true`}},
		{"unknown stream; default stream names count", baseScenario + onePhase + "        - constant: {rate: 1, duration: 1s}\n  expect:\n" +
			"    - latency: {stream: hello, percentiles: {p95: 1s}}\n    - latency: {stream: nope, percentiles: {p95: 1s}}\n",
			[]string{`t.yaml:21:25: spec.expect[1].latency.stream: "nope" is not the name of a stream in spec.workload (hello)`}},
		{"all problems at once, by line", baseScenario + "  stack: {seed: -1}\n" + onePhase + "        - constant: {rate: fast, duration: 30s}\n  expect:\n    - errorRate: {max: 2}\n",
			[]string{
				`t.yaml:15:17: spec.stack.seed: -1 is negative; want a seed ≥ 0 (0: the runner's --seed)`,
				`t.yaml:19:28: spec.workload[0].phases[0].constant.rate: "fast" is not a rate; use a number per second like 50 or "50/s" (also "3000/m", "1/ms")`,
				`t.yaml:21:24: spec.expect[0].errorRate.max: 2 is not in [0, 1]; want a probability like 0.01 or "1%"`,
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse([]byte(c.yaml), "t.yaml")
			if c.want == nil {
				if err != nil {
					t.Fatalf("Parse() = %v, want no error", err)
				}
				return
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Parse() = %v, %v; want an ErrorList", s, err)
			}
			got := strings.Split(list.Error(), "\n")
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("Parse() errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParse_ServiceAndTraceFiles reads services and traces relative to the scenario file;
// their own problems are located in their own files.
func TestParse_ServiceAndTraceFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("knative/split.yaml", `apiVersion: serving.knative.dev/v1
kind: Configuration
metadata: {name: blue}
spec:
  template:
    spec:
      containers: [{image: x}]
---
apiVersion: serving.knative.dev/v1
kind: Route
metadata: {name: split}
spec:
  traffic:
    - {configurationName: blue, percent: 100, tag: b}
`)
	write("arrivals.txt", "# seconds from the phase start\n0\n0.25\n500ms\n2\n")
	scenario := `apiVersion: servingsim.dev/v1alpha1
kind: Scenario
metadata: {name: files}
spec:
  services:
    - file: knative/split.yaml
  workload:
    - target: {service: split, tag: b}
      phases:
        - trace: {file: arrivals.txt}
`
	s, err := Load(write("files.yaml", scenario))
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	if got := len(s.Objects()); got != 2 {
		t.Errorf("Objects() = %d objects, want the 2 documents of knative/split.yaml", got)
	}
	if got, want := s.Objects()[1].GetName(), "split"; got != want {
		t.Errorf("second object = %q, want %q", got, want)
	}
	wantArrivals := []Duration{0, Duration(250 * time.Millisecond), Duration(500 * time.Millisecond), Duration(2 * time.Second)}
	if diff := cmp.Diff(wantArrivals, s.Spec.Workload[0].Phases[0].Trace.Arrivals); diff != "" {
		t.Errorf("trace arrivals (-want +got):\n%s", diff)
	}
	if got := s.Duration(); got != 2*time.Second {
		t.Errorf("Duration() = %s, want the last arrival, 2s", got)
	}

	write("knative/split.yaml", "apiVersion: serving.knative.dev/v1\nkind: Route\nmetadata: {name: split}\nspec:\n  traffic:\n    - {configurationName: blue, percent: 101, tag: b}\n")
	write("arrivals.txt", "0\n1\n0.5\nsoon\n")
	_, err = Load(filepath.Join(dir, "files.yaml"))
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Load() = %v, want an ErrorList", err)
	}
	got := strings.ReplaceAll(list.Error(), dir+string(filepath.Separator), "")
	want := strings.Join([]string{ // the scenario file first, then the others by name
		`arrivals.txt:3:1: arrival 500ms is before the previous one (1s); arrival times must not decrease`,
		`arrivals.txt:4:1: "soon" is not an arrival time; use seconds from the phase start (0.25) or a Go duration (250ms)`,
		`knative/split.yaml:5:3: spec.traffic: Traffic targets sum to 101, want 100`,
		`knative/split.yaml:6:42: spec.traffic[0].percent: expected 0 <= 101 <= 100`,
	}, "\n")
	if got != want {
		t.Errorf("Load() errors:\n%s\nwant:\n%s", got, want)
	}

	if err := os.Remove(filepath.Join(dir, "arrivals.txt")); err != nil {
		t.Fatal(err)
	}
	write("knative/split.yaml", "")
	_, err = Load(filepath.Join(dir, "files.yaml"))
	got = strings.ReplaceAll(fmtErr(err), dir+string(filepath.Separator), "")
	want = "files.yaml:6:13: spec.services[0].file: knative/split.yaml holds no Knative objects\n" +
		"files.yaml:8:25: spec.workload[0].target.service: \"split\" is not a Knative Service or Route in spec.services (none defined)\n" +
		"files.yaml:10:25: spec.workload[0].phases[0].trace.file: cannot read arrivals.txt: no such file or directory"
	if got != want {
		t.Errorf("Load() errors:\n%s\nwant:\n%s", got, want)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestParse_AliasesExpandWithinBounds: anchors work, and an alias bomb is refused rather than
// expanded without limit.
func TestParse_AliasesExpandWithinBounds(t *testing.T) {
	if _, err := CatalogScenario("sks-flapping"); err != nil { // uses &onoff / *onoff
		t.Fatalf("sks-flapping: %v", err)
	}
	// Ten to the seventh strings inside an inline object, where any YAML is allowed.
	bomb := baseScenario + "    - apiVersion: serving.knative.dev/v1\n      kind: Service\n      a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g"} {
		bomb += "      " + name + ": &" + name + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = name
	}
	_, err := Parse([]byte(bomb), "t.yaml")
	if err == nil || !strings.Contains(err.Error(), "document expands to more than 200000 nodes") {
		t.Errorf("Parse(alias bomb) = %v, want the node limit error", err)
	}
}

// TestRoundTrip_CatalogMarshalsAndLoadsBack: a scenario marshalled to YAML loads back to the
// same value, so Go-built scenarios can be written out and reports can embed their scenario.
func TestRoundTrip_CatalogMarshalsAndLoadsBack(t *testing.T) {
	all, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{} // every file a catalog scenario may refer to (services, traces)
	if err := fs.WalkDir(catalog, "catalog", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := catalog.ReadFile(p)
		fsys[p] = &fstest.MapFile{Data: b}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		b, err := yaml.Marshal(s)
		if err != nil {
			t.Fatalf("%s: Marshal: %v", s.Metadata.Name, err)
		}
		fsys["catalog/rt.yaml"] = &fstest.MapFile{Data: b}
		back, err := ParseFS(fsys, "catalog/rt.yaml")
		if err != nil {
			t.Fatalf("%s: loading the marshalled scenario: %v\n%s", s.Metadata.Name, err, b)
		}
		if diff := cmp.Diff(s, back, cmpopts.IgnoreUnexported(Scenario{}, Service{})); diff != "" {
			t.Errorf("%s: round trip (-loaded +reloaded):\n%s", s.Metadata.Name, diff)
		}
	}
}

func TestCatalogScenario_ByNameOrFile(t *testing.T) {
	for _, name := range []string{"cold-start", "cold-start.yaml"} {
		s, err := CatalogScenario(name)
		if err != nil || s.Metadata.Name != "cold-start" {
			t.Errorf("CatalogScenario(%q) = %v, %v; want cold-start", name, s, err)
		}
	}
	_, err := CatalogScenario("nope")
	if err == nil || !strings.Contains(err.Error(), `the catalog has no scenario "nope" (it has blue-green, burst-to-panic,`) {
		t.Errorf("CatalogScenario(nope) = %v, want an error listing the catalog", err)
	}
	b, err := CatalogFile("hello.yaml")
	if err != nil || !strings.Contains(string(b), "kind: Service") {
		t.Errorf("CatalogFile(hello.yaml) = %q, %v; want Knative's hello-world Service", b, err)
	}
}
