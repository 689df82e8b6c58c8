package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/autoscaler"
)

var update = flag.Bool("update", false, "rewrite the golden files of cmd/simctl/testdata")

const decideTestdata = "testdata/decide"

// TestDecide_GoldenSteady replays testdata/decide/steady.csv (a ramp from 50 to 450 concurrent
// requests that panics, then settles at 280) with Knative's defaults and compares the decisions
// with steady.golden.csv. Regenerate with `go test ./cmd/simctl -run Decide -update`.
//
// The first rows, by hand (target 70, total 100, TBC 211, 1 ready pod): t=0 has no stat yet →
// -1 and the initial EBC 1·100 − 211 = −111; t=2 averages buckets 0,1 of 50 → ceil(50/70) = 1,
// EBC floor(100 − 211 − 50) = −161; at t=24 bucket 24 has no row yet, so the panic average is
// over buckets 19..23 = 50,75,100,125,150 → 100 → ceil(100/70) = 2 ≥ 2·1 → panic with 2 pods,
// and the stable one over 0..23: (20·50 + 75+100+125+150)/24 = 60.416666.
func TestDecide_GoldenSteady(t *testing.T) {
	var out bytes.Buffer
	if err := runDecide(decideOptions{Stats: filepath.Join(decideTestdata, "steady.csv"), Tick: autoscaler.TickInterval}, &out); err != nil {
		t.Fatalf("runDecide(steady.csv) = %v", err)
	}
	golden := filepath.Join(decideTestdata, "steady.golden.csv")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := out.String(); got != string(want) {
		t.Errorf("runDecide(steady.csv) differs from %s (run with -update to accept):\n%s", golden, firstDiff(got, string(want)))
	}
	for _, row := range []string{
		"0,1,0,0,-1,-111,false",
		"2,1,50,50,1,-161,false",
		"24,1,60.416666,100,2,-211,true",
	} {
		if !strings.Contains(out.String(), "\n"+row+"\n") {
			t.Errorf("runDecide(steady.csv) lacks the hand-checked row %q", row)
		}
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n got  " + gl + "\n want " + wl
		}
	}
	return ""
}

// writeTemp writes content to dir/name and returns the path.
func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const header = "time,ready_pods,pod,concurrency,proxied_concurrency,rps,proxied_rps\n"

func TestDecide_MalformedStatsNameLineAndColumn(t *testing.T) {
	cases := []struct {
		name, csv, want string
	}{
		{"empty file", "", "bad.csv: empty, want the header time,ready_pods,pod,concurrency,proxied_concurrency,rps,proxied_rps"},
		{"header only", header, "bad.csv: no stat rows after the header"},
		{"wrong header column", "time,ready,pod,concurrency,proxied_concurrency,rps,proxied_rps\n",
			`bad.csv:1:6: header "time,ready,pod,concurrency,proxied_concurrency,rps,proxied_rps", want time,ready_pods,pod,concurrency,proxied_concurrency,rps,proxied_rps`},
		{"short header", "time,ready_pods,pod\n",
			`bad.csv:1:17: header "time,ready_pods,pod", want time,ready_pods,pod,concurrency,proxied_concurrency,rps,proxied_rps`},
		{"concurrency not a number", header + "1,2,pod-1,5,0,1,0\n1.5,2,pod-1,abc,0,1,0\n",
			`bad.csv:3:13: concurrency "abc" is not a number`},
		{"comment lines still count", "# note\n" + header + "1,2,pod-1,5,0,x,0\n",
			`bad.csv:3:15: rps "x" is not a number`},
		{"NaN", header + "1,2,pod-1,NaN,0,1,0\n", `bad.csv:2:11: concurrency "NaN" is not a finite number`},
		{"negative", header + "1,2,pod-1,5,0,1,-2\n", `bad.csv:2:17: proxied_rps -2 is negative`},
		{"time goes back", header + "1,2,pod-1,5,0,1,0\n0.5,2,pod-1,5,0,1,0\n", `bad.csv:3:1: time 0.5 is before the previous row's 1`},
		{"bad time", header + "1s,2,pod-1,5,0,1,0\n", `bad.csv:2:1: time "1s" is not a number`},
		{"negative ready", header + "1,-1,pod-1,5,0,1,0\n", `bad.csv:2:3: ready_pods "-1" is not a whole number ≥ 0`},
		{"fractional ready", header + "1,2.5,pod-1,5,0,1,0\n", `bad.csv:2:3: ready_pods "2.5" is not a whole number ≥ 0`},
		{"empty pod", header + "1,2,,5,0,1,0\n", `bad.csv:2:5: pod is empty, want a pod name or activator`},
		{"too few fields", header + "1,2,pod-1,3\n",
			`bad.csv:2:11: 4 fields, want 7 (time,ready_pods,pod,concurrency,proxied_concurrency,rps,proxied_rps)`},
		{"too many fields", header + "1,2,pod-1,3,0,1,0,9\n",
			`bad.csv:2:19: 8 fields, want 7 (time,ready_pods,pod,concurrency,proxied_concurrency,rps,proxied_rps)`},
		{"bare quote", header + "1,2,po\"d,3,0,1,0\n", `bad.csv:2:7: bare " in non-quoted-field`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeTemp(t, "bad.csv", c.csv)
			err := runDecide(decideOptions{Stats: path, Tick: autoscaler.TickInterval}, &bytes.Buffer{})
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != exitBadInput {
				t.Fatalf("runDecide(%q) = %v, want an exitError with code %d", c.csv, err, exitBadInput)
			}
			if got := strings.ReplaceAll(err.Error(), filepath.Dir(path)+string(filepath.Separator), ""); got != c.want {
				t.Errorf("runDecide(%q) error = %q, want %q", c.csv, got, c.want)
			}
		})
	}
}

// TestDecide_ProcessExitsWithCode2OnBadInput runs simctl's main in a child process: bad input
// must exit 2 with the located message on stderr, good input 0.
func TestDecide_ProcessExitsWithCode2OnBadInput(t *testing.T) {
	if args := os.Getenv("SIMCTL_DECIDE_ARGS"); args != "" {
		os.Args = append([]string{"simctl"}, strings.Split(args, "\x1f")...)
		main()
		return
	}
	run := func(args ...string) (string, int) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDecide_ProcessExitsWithCode2OnBadInput$")
		cmd.Env = append(os.Environ(), "SIMCTL_DECIDE_ARGS="+strings.Join(args, "\x1f"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var xe *exec.ExitError
		if errors.As(err, &xe) {
			return stderr.String(), xe.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return stderr.String(), 0
	}
	bad := writeTemp(t, "bad.csv", header+"1,2,pod-1,5,0,1,0\n1.5,2,pod-1,abc,0,1,0\n")
	stderr, code := run("decide", "--stats", bad)
	if want := "simctl: " + bad + `:3:13: concurrency "abc" is not a number`; code != exitBadInput || !strings.Contains(stderr, want) {
		t.Errorf("simctl decide --stats bad.csv: exit %d, stderr %q; want exit 2 and %q", code, stderr, want)
	}
	if _, code := run("decide", "--stats", bad, "--tick", "0s"); code != exitBadInput {
		t.Errorf("simctl decide --tick 0s: exit %d, want 2", code)
	}
	if _, code := run("decide"); code != exitBadInput {
		t.Errorf("simctl decide without --stats: exit %d, want 2", code)
	}
	if stderr, code := run("decide", "--stats", filepath.Join(decideTestdata, "steady.csv")); code != exitOK {
		t.Errorf("simctl decide --stats steady.csv: exit %d, stderr %q, want 0", code, stderr)
	}
}

func TestDecide_HelpHasExample(t *testing.T) {
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"decide", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Examples:", "simctl decide --stats stats.csv", "time,ready_pods,pod,concurrency,proxied_concurrency,rps,proxied_rps",
		"time,ready_pods,stable,panic,desired_pods,excess_burst_capacity,panicking", "--revision", "--config", "--tick"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("simctl decide --help lacks %q:\n%s", want, out.String())
		}
	}
}

// TestDecide_RevisionAndConfigFlags checks the decider spec built from --revision and --config,
// each expectation worked out from §3.1/§3.2.
func TestDecide_RevisionAndConfigFlags(t *testing.T) {
	rev := filepath.Join(decideTestdata, "revision.yaml")
	svc := filepath.Join(decideTestdata, "service.yaml")
	cfg := filepath.Join(decideTestdata, "config-autoscaler.yaml")
	type want struct {
		metric               string
		target, total, tbc   float64
		stable, panic, delay time.Duration
		upRate               float64
		activation           int32
		aggregation          string
		scraped              bool
	}
	cases := []struct {
		name      string
		rev, conf string
		want      want
	}{
		{"defaults: CC 0 → total 100, target 70", "", "",
			want{"concurrency", 70, 100, 211, 60 * time.Second, 6 * time.Second, 0, 1000, 1, "linear", true}},
		{"Revision: CC 10 at 50% → target 5; window 20s → panic 2s", rev, "",
			want{"concurrency", 5, 10, 211, 20 * time.Second, 2 * time.Second, 10 * time.Second, 1000, 1, "weighted-exponential", true}},
		{"Service template: rps target 50 at 70% → 35; TBC -1 → no scrape target", svc, "",
			want{"rps", 35, 50, -1, 60 * time.Second, 6 * time.Second, 0, 1000, 3, "linear", false}},
		{"config: 80% of 100 → 80; 30s at 20% → 6s; TBC 0; up rate 10", "", cfg,
			want{"concurrency", 80, 100, 0, 30 * time.Second, 6 * time.Second, 0, 10, 1, "linear", true}},
		{"Revision over config: annotations win (50%, 20s at 20% → 4s)", rev, cfg,
			want{"concurrency", 5, 10, 0, 20 * time.Second, 4 * time.Second, 10 * time.Second, 10, 1, "weighted-exponential", true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ds, ms, err := loadDeciderSpec(c.rev, c.conf)
			if err != nil {
				t.Fatalf("loadDeciderSpec(%q, %q) = %v", c.rev, c.conf, err)
			}
			got := want{ds.ScalingMetric, ds.TargetValue, ds.TotalValue, ds.TargetBurstCapacity, ds.StableWindow, ds.PanicWindow,
				ds.ScaleDownDelay, ds.MaxScaleUpRate, ds.ActivationScale, ms.Aggregation, ms.Scraped}
			if got != c.want {
				t.Errorf("loadDeciderSpec(%q, %q) = %+v, want %+v", c.rev, c.conf, got, c.want)
			}
			if ds.StableWindow != ms.StableWindow || ds.PanicWindow != ms.PanicWindow || !ds.Reachable {
				t.Errorf("loadDeciderSpec(%q, %q): decider %+v and metric %+v windows differ or not reachable", c.rev, c.conf, ds, ms)
			}
		})
	}
}

func TestDecide_BadRevisionOrConfigIsBadInput(t *testing.T) {
	rev := func(body string) string {
		return "apiVersion: serving.knative.dev/v1\nkind: Revision\nmetadata:\n  name: r\n" + body
	}
	cases := []struct {
		name, file, content string
		isConfig            bool
		want                []string
	}{
		{"unknown field (strict)", "rev.yaml", rev("spec:\n  containerConcurency: 10\n"), false,
			[]string{"rev.yaml: ", `unknown field "containerConcurency"`}},
		{"wrong kind", "rev.yaml", "apiVersion: serving.knative.dev/v1\nkind: Route\n", false,
			[]string{`rev.yaml: apiVersion "serving.knative.dev/v1" kind "Route", want serving.knative.dev/v1 Configuration or Revision or Service`}},
		{"invalid annotation", "rev.yaml", rev("  annotations:\n    " + serving.TargetAnnotationKey + ": abc\n"), false,
			[]string{"rev.yaml: revision: ", "abc", serving.TargetAnnotationKey}},
		{"window out of bounds", "rev.yaml", rev("  annotations:\n    " + serving.WindowAnnotationKey + ": 2s\n"), false,
			[]string{"rev.yaml: revision: ", serving.WindowAnnotationKey}},
		{"negative containerConcurrency", "rev.yaml", rev("spec:\n  containerConcurrency: -1\n"), false,
			[]string{"rev.yaml: revision: ", "containerConcurrency"}},
		{"HPA class", "rev.yaml", rev("  annotations:\n    " + serving.ClassAnnotationKey + ": " + serving.HPAClass + "\n"), false,
			[]string{"rev.yaml: ", "decide replays the KPA"}},
		{"bad config value", "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-autoscaler\ndata:\n  max-scale-up-rate: \"0.5\"\n", true,
			[]string{"cm.yaml: ", "max-scale-up-rate", "0.5"}},
		{"other ConfigMap", "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-deployment\n", true,
			[]string{`cm.yaml: ConfigMap "config-deployment", want config-autoscaler`}},
	}
	stats := filepath.Join(decideTestdata, "steady.csv")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeTemp(t, c.file, c.content)
			o := decideOptions{Stats: stats, Tick: autoscaler.TickInterval, Revision: path}
			if c.isConfig {
				o.Revision, o.Config = "", path
			}
			var out bytes.Buffer
			err := runDecide(o, &out)
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != exitBadInput {
				t.Fatalf("runDecide(%s) = %v, want an exitError with code %d", c.file, err, exitBadInput)
			}
			msg := strings.ReplaceAll(err.Error(), filepath.Dir(path)+string(filepath.Separator), "")
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("runDecide(%s) error = %q, want it to contain %q", c.file, msg, w)
				}
			}
			if out.Len() != 0 {
				t.Errorf("runDecide(%s) wrote %q before failing, want nothing", c.file, out.String())
			}
		})
	}
}

// TestDecide_TicksRecordRowsUpToTheTick checks the replay loop on a tiny input: rows at or
// before a tick count for it, ready_pods follows the last recorded row, ticks stop at the last
// stat time, and a decider created with 2 ready pods starts in panic.
func TestDecide_TicksRecordRowsUpToTheTick(t *testing.T) {
	path := writeTemp(t, "s.csv", header+
		"0,2,pod-1,35,0,70,0\n"+
		"0,2,pod-2,35,0,70,0\n"+ // bucket 0: 70
		"1,3,pod-1,140,0,280,0\n"+ // bucket 1: 140; ready 3 from t=1
		"2.5,3,activator,70,0,140,0\n") // after tick 2
	var out bytes.Buffer
	if err := runDecide(decideOptions{Stats: path, Tick: time.Second}, &out); err != nil {
		t.Fatal(err)
	}
	// t=0: 70 → 1 pod, but created with 2 ready → panic holding 2; EBC floor(200 − 211 − 70) = −81.
	// t=1: (70+140)/2 = 105 → ceil(1.5) = 2 pods, still 2; EBC floor(300 − 211 − 105) = −16.
	// t=2: nothing written since bucket 1, so the averages still cover buckets 0 and 1 only (the
	// window does not count the seconds after the last write as zeros): 105 again.
	// No tick at 3: the last stat is at 2.5.
	want := "time,ready_pods,stable,panic,desired_pods,excess_burst_capacity,panicking\n" +
		"0,2,70,70,2,-81,true\n" +
		"1,3,105,105,2,-16,true\n" +
		"2,3,105,105,2,-16,true\n"
	if out.String() != want {
		t.Errorf("runDecide(tiny, tick 1s) =\n%s\nwant\n%s", out.String(), want)
	}
}
