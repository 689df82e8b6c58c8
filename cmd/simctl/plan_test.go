package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlan_SweepWritesTableCSVAndPlot(t *testing.T) {
	dir := t.TempDir()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"plan", "--scenario", "burst-to-panic", "--set", "target=5,20", "--out", dir})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"plan burst-to-panic: 2 variants", "POD-S", "P95-MS", "MEM-MIB", "plan.csv"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	csvData, err := os.ReadFile(filepath.Join(dir, planCSVFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(csvData)), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "knob_target,pod_seconds,") || !strings.HasPrefix(lines[1], "5,") || !strings.HasPrefix(lines[2], "20,") {
		t.Errorf("plan.csv:\n%s\nwant a header and the rows for target 5 and 20", csvData)
	}
	svg, err := os.ReadFile(filepath.Join(dir, planSVGFile))
	if err != nil || !bytes.Contains(svg, []byte("<svg")) {
		t.Errorf("plan.svg: %v, want an SVG", err)
	}
}

func TestPlan_TraceFromFile(t *testing.T) {
	dir := t.TempDir()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"plan", "--scenario", "hello", "--trace", "../../scenarios/traces/azure2021-synthetic.csv",
		"--trace-format", "azure2021", "--function", "cron-batch", "--minutes", "20", "--out", dir})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	csvData, _ := os.ReadFile(filepath.Join(dir, planCSVFile))
	lines := strings.Split(strings.TrimSpace(string(csvData)), "\n")
	// Two batches of 40 in the first 20 minutes (at 0 and 15 min).
	if len(lines) != 2 || strings.Split(lines[1], ",")[6] != "80" {
		t.Errorf("plan.csv:\n%s\nwant one variant with 80 requests", csvData)
	}
}

func TestPlan_BadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--scenario", "burst-to-panic", "--set", "speed=1"}, `unknown knob "speed"`},
		{[]string{"--scenario", "burst-to-panic", "--trace", "nope.csv"}, "nope.csv"},
		{[]string{"--scenario", "no-such-scenario"}, "no catalog scenario"},
		{[]string{"--set", "target=1"}, `"scenario" not set`},
	} {
		root := newRootCommand()
		root.SetOut(&bytes.Buffer{})
		root.SetErr(&bytes.Buffer{})
		root.SetArgs(append([]string{"plan", "--out", t.TempDir()}, tc.args...))
		err := root.Execute()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("simctl plan %v: error %v, want %q", tc.args, err, tc.want)
		}
		var ee *exitError
		if err != nil && !strings.Contains(tc.want, "not set") && (!errors.As(err, &ee) || ee.code != exitBadInput) {
			t.Errorf("simctl plan %v: error %v, want exit code %d", tc.args, err, exitBadInput)
		}
	}
}

func TestPlan_HelpHasExamples(t *testing.T) {
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"plan", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Examples:", "simctl plan --scenario burst-to-panic --set target=5,10,20", "--trace-format",
		"--function", "--set", "container-concurrency", "activator-capacity", "plan.svg"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("simctl plan --help lacks %q", want)
		}
	}
}
