package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/servingsim/servingsim/reports"
	"github.com/servingsim/servingsim/reports/reportstest"
)

// writeRunDir writes the synthetic split-rollout run (package reportstest) as a run directory.
func writeRunDir(t *testing.T, o reportstest.Options) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	if err := reports.WriteDir(dir, reportstest.SplitRollout(o)); err != nil {
		t.Fatal(err)
	}
	return dir
}

func fileText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantExit(t *testing.T, err error, code int, contains string) {
	t.Helper()
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != code || !strings.Contains(err.Error(), contains) {
		t.Errorf("error = %v, want exit %d containing %q", err, code, contains)
	}
}

func TestReport_RerendersIntoTheDirectory(t *testing.T) {
	dir := writeRunDir(t, reportstest.Options{Requests: 600})
	before := map[string]string{}
	for _, name := range []string{reports.MarkdownFile, reports.HTMLFile, reports.SummaryFile} {
		before[name] = fileText(t, filepath.Join(dir, name))
	}
	for _, name := range []string{reports.MarkdownFile, reports.HTMLFile} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := runReport(dir, "", &out); err != nil {
		t.Fatalf("simctl report %s = %v", dir, err)
	}
	wantOut := filepath.Join(dir, "report.md") + "\n" + filepath.Join(dir, "report.html") + "\n" + filepath.Join(dir, "summary.json") + "\n"
	if out.String() != wantOut {
		t.Errorf("simctl report printed %q, want %q", out.String(), wantOut)
	}
	for name, want := range before {
		if got := fileText(t, filepath.Join(dir, name)); got != want {
			t.Errorf("re-rendered %s differs from the one the run wrote", name)
		}
	}
}

func TestReport_FormatPrintsOneRenderingAndLeavesTheDirectory(t *testing.T) {
	dir := writeRunDir(t, reportstest.Options{Requests: 600})
	md := fileText(t, filepath.Join(dir, reports.MarkdownFile))
	if err := os.Remove(filepath.Join(dir, reports.HTMLFile)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		format string
		check  func(string) bool
	}{
		{"md", func(s string) bool { return s == md }},
		{"html", func(s string) bool { return strings.HasPrefix(s, "<!DOCTYPE html>") && strings.Count(s, "<svg ") == 5 }},
		{"json", func(s string) bool {
			var v struct {
				Verdict string        `json:"verdict"`
				Stats   reports.Stats `json:"stats"`
			}
			return json.Unmarshal([]byte(s), &v) == nil && v.Verdict == "fail" && v.Stats.Requests == 600
		}},
	} {
		var out bytes.Buffer
		if err := runReport(dir, tc.format, &out); err != nil {
			t.Fatalf("simctl report --format %s = %v", tc.format, err)
		}
		if !tc.check(out.String()) {
			t.Errorf("simctl report --format %s printed unexpected output:\n%.400s", tc.format, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, reports.HTMLFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("simctl report --format wrote into the run directory (report.html: %v)", err)
	}
}

func TestReport_BadInputExits2(t *testing.T) {
	wantExit(t, runReport(t.TempDir(), "", &bytes.Buffer{}), exitBadInput, "is not a run directory: no summary.json")
	wantExit(t, runReport(writeRunDir(t, reportstest.Options{Requests: 10}), "pdf", &bytes.Buffer{}), exitBadInput, `--format "pdf": use md, html or json`)
}

func TestCompare_PrintsTheDifferences(t *testing.T) {
	a := writeRunDir(t, reportstest.Options{Requests: 2000})
	b := writeRunDir(t, reportstest.Options{Requests: 2000, Seed: 2, Latency: 10 * time.Millisecond, MaxPods: 6})
	var out bytes.Buffer
	if err := runCompare(a, b, "text", &out); err != nil {
		t.Fatalf("simctl compare = %v", err)
	}
	for _, want := range []string{
		"run         " + a,
		"\nMETRIC ",
		"\nverdict ", "\nerror rate ", "\nlatency distribution ", "(Mann-Whitney U)\n", "\nlatency p50 ", "\nlatency p95 ", "\nlatency p99 ",
		"\ncold starts ", "\ncold-start p95 ", "\npod-seconds ", "\nmax pods ",
		"\nmax pods hello-00001             4        6        +2 (+50%)\n",
		"\ndecisions: diverge at hello-00001 tick 17 (32.25s): desired 4 vs 5\n",
		"\nnote: different seeds: 1 and 2\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("simctl compare output lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	if err := runCompare(a, b, "md", &out); err != nil || !strings.Contains(out.String(), "| max pods hello-00001 | 4 | 6 | +2 (+50%) |  |\n") {
		t.Errorf("simctl compare --format md = %v:\n%s", err, out.String())
	}
	out.Reset()
	var c reports.Comparison
	if err := runCompare(a, a, "json", &out); err != nil || json.Unmarshal(out.Bytes(), &c) != nil || c.Divergence != nil || c.Ticks != 75 {
		t.Errorf("simctl compare A A --format json = %v, %+v", err, c)
	}
}

func TestCompare_BadInputExits2(t *testing.T) {
	good := writeRunDir(t, reportstest.Options{Requests: 10})
	wantExit(t, runCompare(good, t.TempDir(), "text", &bytes.Buffer{}), exitBadInput, "is not a run directory")
	wantExit(t, runCompare(filepath.Join(t.TempDir(), "missing"), good, "text", &bytes.Buffer{}), exitBadInput, "is not a run directory")
	wantExit(t, runCompare(good, good, "csv", &bytes.Buffer{}), exitBadInput, `--format "csv"`)
}

func TestReportAndCompare_HelpHasExamples(t *testing.T) {
	for cmd, wants := range map[string][]string{
		"report":  {"Examples:", "simctl report out/quickstart --format md >> \"$GITHUB_STEP_SUMMARY\"", "Exit code 0"},
		"compare": {"Examples:", "simctl compare out/before out/after", "Mann-Whitney U", "Exit code 0"},
	} {
		root := newRootCommand()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs([]string{cmd, "--help"})
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		for _, want := range wants {
			if !strings.Contains(out.String(), want) {
				t.Errorf("simctl %s --help lacks %q:\n%s", cmd, want, out.String())
			}
		}
	}
}
