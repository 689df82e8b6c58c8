package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/servingsim/servingsim/reports"
)

// TestRun_MalformedScenarioExits2NamingTheLine: a scenario with a bad value is refused before
// anything starts, with its file, line and field (issue 5 acceptance).
func TestRun_MalformedScenarioExits2NamingTheLine(t *testing.T) {
	var out, progress bytes.Buffer
	err := runScenario(context.Background(), "testdata/run/malformed.yaml", runFlags{out: t.TempDir()}, &out, &progress)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitBadInput {
		t.Fatalf("runScenario(malformed) = %v, want exit %d", err, exitBadInput)
	}
	want := `testdata/run/malformed.yaml:18:28: spec.workload[0].phases[0].constant.rate: "fast" is not a rate`
	if !strings.Contains(progress.String(), want) {
		t.Errorf("stderr = %q, want it to contain %q", progress.String(), want)
	}
}

// TestRun_FailingScenarioExits1NamingTheExpectation runs a scenario whose expectation cannot
// hold: exit 1 naming it and the seed, the verdict and observed values printed, and the run
// directory written (issue 5 acceptance).
func TestRun_FailingScenarioExits1NamingTheExpectation(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real API server")
	}
	dir := filepath.Join(t.TempDir(), "run")
	var out, progress bytes.Buffer
	err := runScenario(context.Background(), "testdata/run/failing.yaml", runFlags{out: dir, seed: 3}, &out, &progress)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitExpectation {
		t.Fatalf("runScenario(failing) = %v, want exit %d\nstdout:\n%s\nstderr:\n%s", err, exitExpectation, out.String(), progress.String())
	}
	wantErr := "deliberately-failing failed (seed 3): status codes of requests to hello: 200 at least 1000: 200: 20"
	if err.Error() != wantErr {
		t.Errorf("error = %q, want %q", err, wantErr)
	}
	for _, want := range []string{
		"running deliberately-failing (live mode, seed 3)",
		"NAME    URL", "hello   http://hello.",
		"FAIL  deliberately-failing (seed 3)",
		"  ✓ no errors in requests to hello: 0% (0 of 20 failed)",
		"  ✗ status codes of requests to hello: 200 at least 1000: 200: 20",
		"  ✓ every request sent has exactly one outcome (a response or a counted error): 20 sent, 20 responses, 0 errors",
		"report: " + filepath.Join(dir, reports.HTMLFile),
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out.String())
		}
	}
	for _, f := range []string{reports.SummaryFile, reports.HTMLFile, reports.MarkdownFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("run directory: %v", err)
		}
	}
	run, err := reports.ReadDir(dir)
	if err != nil || run.Verdict != reports.Fail || len(run.Requests) != 20 {
		t.Errorf("reports.ReadDir = %v, %v; want the failed run with its 20 requests", run, err)
	}
}

func TestRun_HelpHasExamples(t *testing.T) {
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"run", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Examples:", "simctl run cold-start --out /tmp/cold", "--mode", "--seed", "--out", "Exit code 0", "default the quickstart"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("simctl run --help lacks %q:\n%s", want, out.String())
		}
	}
}

// TestRun_SeveralScenariosWriteJUnit runs a passing catalog scenario and the deliberately failing
// one in virtual time: exit 1 (the worst outcome), a run directory each, and a JUnit report with
// one case per scenario, the failing one carrying its expectation.
func TestRun_SeveralScenariosWriteJUnit(t *testing.T) {
	dir, junit := t.TempDir(), filepath.Join(t.TempDir(), "junit.xml")
	var out, progress bytes.Buffer
	err := runScenarios(context.Background(), []string{"hello", "testdata/run/failing.yaml"},
		runFlags{out: dir, mode: "virtual", junit: junit}, &out, &progress)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitExpectation {
		t.Fatalf("runScenarios = %v, want exit %d\n%s\n%s", err, exitExpectation, out.String(), progress.String())
	}
	for _, name := range []string{"hello", "failing"} {
		if _, err := os.Stat(filepath.Join(dir, name, reports.SummaryFile)); err != nil {
			t.Errorf("run directory of %s: %v", name, err)
		}
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<testsuite name="simctl run" tests="2" failures="1" errors="0"`,
		`<testcase name="hello" classname="servingsim.scenarios"`,
		`<failure message="deliberately-failing failed (seed 1): status codes of requests to hello: 200 at least 1000: 200: 20"></failure>`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JUnit report lacks %q:\n%s", want, b)
		}
	}
}
