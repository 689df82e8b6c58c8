package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/servingsim/servingsim/scenarios/recording"
)

// keptRecording is the regression recording of scenarios/recordings.
const keptRecording = "../../scenarios/recordings/burst-to-panic.jsonl.gz"

func replayExit(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	}
	return -1
}

// firstTick is the line and time of the first tick in the recording at path.
func firstTick(t *testing.T, path string) (int, recording.Offset) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	rd, err := recording.NewReader(f, path)
	if err != nil {
		t.Fatal(err)
	}
	for {
		rec, err := rd.Next()
		if err != nil {
			t.Fatalf("no tick in %s: %v", path, err)
		}
		if rec.Kind == recording.KindTick {
			return rd.Line(), rec.T
		}
	}
}

// TestReplay_LiveCatalogRun is issue 6's acceptance on replay: `simctl run hello` (live) writes
// recording.jsonl.gz into its run directory; `simctl replay` on it reports no divergence; with
// container-concurrency-target-default changed it names the very first tick, exit 1: hello has
// no target annotation, so its per-pod total changes (§3.2) and with it the excess burst
// capacity, both the initial one a tick without data reports (InitialScale×total − TBC) and
// ready×total − TBC − panic once there is data and a ready pod (§3.4).
func TestReplay_LiveCatalogRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real API server")
	}
	dir := filepath.Join(t.TempDir(), "hello")
	var out, progress bytes.Buffer
	if err := runScenario(context.Background(), "hello", runFlags{out: dir}, &out, &progress); err != nil {
		t.Fatalf("simctl run hello = %v\n%s\n%s", err, out.String(), progress.String())
	}
	rec := filepath.Join(dir, recording.FileName)
	if _, err := os.Stat(rec); err != nil {
		t.Fatalf("the live run wrote no recording: %v", err)
	}

	out.Reset()
	if err := runReplay(replayOptions{Recording: dir}, &out); err != nil {
		t.Fatalf("simctl replay %s = %v\n%s", dir, err, out.String())
	}
	if !strings.Contains(out.String(), "no divergence over ") || strings.Contains(out.String(), "note:") || strings.Contains(out.String(), "over 0 ticks") {
		t.Errorf("simctl replay output:\n%s\nwant no divergence over some ticks and no notes", out.String())
	}

	line, at := firstTick(t, rec)
	out.Reset()
	err := runReplay(replayOptions{Recording: rec, Set: []string{"container-concurrency-target-default=10"}}, &out)
	if code := replayExit(err); code != exitExpectation {
		t.Fatalf("simctl replay --set container-concurrency-target-default=10 = %v (exit %d), want exit 1\n%s", err, code, out.String())
	}
	for _, want := range []string{
		fmt.Sprintf("first divergence at t=%s ", recording.Offset(at.D().Round(time.Millisecond))),
		fmt.Sprintf("line %d: revision hello-00001", line),
		"  ebc:       recorded ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("simctl replay --set output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestReplay_KeptRecordingWithOut replays the kept recording, once as it is and once with a
// shorter stable window, writing replay.csv.
func TestReplay_KeptRecordingWithOut(t *testing.T) {
	var out bytes.Buffer
	if err := runReplay(replayOptions{Recording: keptRecording}, &out); err != nil {
		t.Fatalf("simctl replay kept = %v\n%s", err, out.String())
	}
	if want := "no divergence over 11 ticks (1 revision, 47 stats)"; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, out.String())
	}

	dir := t.TempDir()
	out.Reset()
	err := runReplay(replayOptions{Recording: keptRecording, Set: []string{"stable-window=30s"}, Out: dir}, &out)
	if replayExit(err) != exitExpectation {
		t.Fatalf("simctl replay --set stable-window=30s = %v, want exit 1\n%s", err, out.String())
	}
	// The 30s window's 3s panic window averages the burst's ramp differently at the first tick
	// with two seconds of scrapes.
	for _, want := range []string{"config-autoscaler changes: stable-window=30s", "first divergence at t=4.551s (2.961s after time zero), line 80: revision bursty-00001, 1 ready pods",
		"  panic:     recorded 4.022176, replayed 3.914271", "10 of 11 ticks"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	f, err := os.Open(filepath.Join(dir, replayCSV))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != 12 || strings.Join(rows[0], ",") != strings.Join(replayHeader, ",") {
		t.Fatalf("replay.csv: %d rows, %v; want the header and 11 ticks", len(rows), err)
	}
	if got := rows[2]; got[0] != "4.551351323" || got[len(got)-1] != "ebc panic" {
		t.Errorf("replay.csv row 2 = %v, want the tick at 4.551351323 diverging in ebc and panic", got)
	}
}

// TestReplay_BadInputExits2NamingFileAndLine covers the exit-2 paths.
func TestReplay_BadInputExits2NamingFileAndLine(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	header := `{"format":"servingsim.dev/recording/v1","start":"2026-11-23T16:00:00Z","mode":"live","seed":1,"config":{}}`
	if err := os.WriteFile(bad, []byte(header+"\n"+`{"t":1,"kind":"zero"}`+"\n"+`{"t":"soon","kind":"zero"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		o    replayOptions
		want string
	}{
		{replayOptions{Recording: bad}, bad + ":3: "},
		{replayOptions{Recording: filepath.Join(dir, "missing.jsonl.gz")}, "no such file"},
		{replayOptions{Recording: dir}, filepath.Join(dir, recording.FileName)}, // a run directory without a recording
		{replayOptions{Recording: keptRecording, Set: []string{"stable-window"}}, `--set "stable-window": want key=value`},
		{replayOptions{Recording: keptRecording, Set: []string{"stable-window=1ms"}}, "--set stable-window=1ms"},
		{replayOptions{Recording: keptRecording, Set: []string{"no-such-key=1"}}, "no-such-key: not a config-autoscaler key"},
	} {
		var out bytes.Buffer
		err := runReplay(c.o, &out)
		if replayExit(err) != exitBadInput || !strings.Contains(err.Error(), c.want) {
			t.Errorf("runReplay(%+v) = %v, want exit 2 with %q", c.o, err, c.want)
		}
	}
}

func TestReplay_HelpHasAnExample(t *testing.T) {
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"replay", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Examples:", "simctl replay /tmp/burst", "--set", "--out", "Exit code 0", "docs/recording-format.md"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("simctl replay --help lacks %q:\n%s", want, out.String())
		}
	}
}
