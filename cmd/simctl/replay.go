package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/servingsim/servingsim/scenarios"
	"github.com/servingsim/servingsim/scenarios/recording"
)

// replayOptions are the inputs of `simctl replay`.
type replayOptions struct {
	// Recording is the recording file, or a run directory holding recording.jsonl.gz.
	Recording string
	// Set are config-autoscaler overrides, key=value.
	Set []string
	// Out, when set, is a directory to write replay.csv into.
	Out string
}

// ReplayCSV is the per-tick comparison --out writes.
const replayCSV = "replay.csv"

func newReplayCommand() *cobra.Command {
	var o replayOptions
	cmd := &cobra.Command{
		Use:   "replay REC [--set key=value]... [--out DIR]",
		Short: "Re-run a live run's recording through the KPA's cores and report where decisions diverge",
		Long: `replay reads a recording (recording.jsonl.gz, written by every live simctl run into its run
directory; format in docs/recording-format.md) and re-runs its autoscaling in virtual time: per
revision a fresh metric collector and decider (knative-semantics.md §3.3–3.4) get the recorded
specs and stats, and tick at the recorded times with the recorded ready-pod counts. Each tick's
outputs (desired pods, excess burst capacity, panic mode, stable and panic averages) are compared
with the recorded ones. Nothing is started: no API server, no pods, no sockets.

REC is the recording file or a run directory holding recording.jsonl.gz.

--set changes config-autoscaler keys (repeatable) on top of the recorded config, at the start and
after every recorded change; every decider and collector spec is then derived again from the
recorded PodAutoscaler and the changed config. The replay is open-loop: the stats and ready pods
stay the recorded ones, so it shows where the decisions would first have differed, not what
would have happened after.

It prints "no divergence over N ticks", or the first divergent tick: its time (from the start of
the recording and from the scenario's time zero), revision, and each differing output with the
recorded and the replayed value. --out DIR also writes DIR/replay.csv, every tick side by side.

Exit code 0 without divergence, 1 when a tick diverges, 2 on bad input (the message names the
file and line).`,
		Example: `  simctl run burst-to-panic --out /tmp/burst   # writes /tmp/burst/recording.jsonl.gz
  simctl replay /tmp/burst                      # no divergence over 113 ticks
  simctl replay /tmp/burst --set target-burst-capacity=0 --out /tmp/burst-tbc0
  simctl replay scenarios/recordings/burst-to-panic.jsonl.gz --set stable-window=30s`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Recording = args[0]
			return runReplay(o, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringArrayVar(&o.Set, "set", nil, "config-autoscaler key=value to change (repeatable), e.g. --set stable-window=30s")
	cmd.Flags().StringVar(&o.Out, "out", "", "directory to write replay.csv (every tick, recorded and replayed) into")
	return cmd
}

// runReplay replays o.Recording and prints the outcome to out. Its error carries the exit code.
func runReplay(o replayOptions, out io.Writer) error {
	bad := func(err error) error { return &exitError{code: exitBadInput, err: err} }
	overrides := map[string]string{}
	for _, kv := range o.Set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return bad(fmt.Errorf("--set %q: want key=value, e.g. stable-window=30s", kv))
		}
		overrides[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	path := o.Recording
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, recording.FileName)
	}
	f, err := os.Open(path)
	if err != nil {
		return bad(err)
	}
	defer func() { _ = f.Close() }()
	rd, err := recording.NewReader(f, path)
	if err != nil {
		return bad(err)
	}

	var rows [][]string
	opts := recording.ReplayOptions{Overrides: overrides}
	if o.Out != "" {
		opts.OnTick = func(tr recording.TickReplay) { rows = append(rows, replayRow(tr)) }
	}
	start := time.Now()
	res, err := recording.Replay(rd, opts)
	if err != nil {
		return bad(err)
	}
	took := time.Since(start)

	h := res.Header
	fmt.Fprintf(out, "replaying %s: %s (%s run, seed %d, recorded %s)\n", path, orUnknown(h.Scenario), h.Mode, h.Seed, h.Start.UTC().Format(time.RFC3339))
	if len(overrides) > 0 {
		fmt.Fprintf(out, "config-autoscaler changes: %s\n", formatOverrides(overrides))
	}
	for _, n := range res.Notes {
		fmt.Fprintf(out, "note: %s\n", n)
	}
	if o.Out != "" {
		if err := writeReplayCSV(o.Out, rows); err != nil {
			return bad(err)
		}
	}
	counts := fmt.Sprintf("%d ticks (%s, %d stats) in %s", res.Ticks, plural(res.Revisions, "revision"), res.Stats, took.Round(time.Millisecond))
	if res.First == nil {
		fmt.Fprintf(out, "no divergence over %s\n", counts)
		if o.Out != "" {
			fmt.Fprintf(out, "ticks: %s\n", filepath.Join(o.Out, replayCSV))
		}
		if res.Ticks == 0 {
			fmt.Fprintln(out, "note: the recording has no ticks: nothing was compared")
		}
		return nil
	}
	d := res.First
	// Milliseconds read better; the line number pins the exact record.
	ms := func(d time.Duration) string { return recording.Offset(d.Round(time.Millisecond)).String() }
	at := "t=" + ms(d.T.D())
	if res.Zero != nil {
		at += fmt.Sprintf(" (%s after time zero)", ms(d.T.D()-res.Zero.D()))
	}
	fmt.Fprintf(out, "first divergence at %s, line %d: revision %s, %d ready pods\n", at, d.Line, d.Revision, d.Recorded.Ready)
	for _, fd := range d.Diffs {
		fmt.Fprintf(out, "  %-10s recorded %s, replayed %s\n", fd.Field+":", fd.Recorded, fd.Replayed)
	}
	fmt.Fprintf(out, "%d of %s diverge\n", res.Divergent, counts)
	if o.Out != "" {
		fmt.Fprintf(out, "ticks: %s\n", filepath.Join(o.Out, replayCSV))
	}
	return &exitError{code: exitExpectation, err: fmt.Errorf("replay diverges at %s (%s %s)", at, d.Revision, d.Diffs[0].Field)}
}

var replayHeader = []string{"time", "revision", "ready_pods",
	"recorded_desired", "replayed_desired", "recorded_ebc", "replayed_ebc",
	"recorded_panicking", "replayed_panicking", "recorded_stable", "replayed_stable",
	"recorded_panic", "replayed_panic", "diverged"}

func replayRow(tr recording.TickReplay) []string {
	a, b := tr.Recorded, tr.Replayed
	var fields []string
	for _, d := range tr.Diffs {
		fields = append(fields, d.Field)
	}
	return []string{tr.T.Decimal(), tr.Revision, strconv.Itoa(int(a.Ready)),
		strconv.Itoa(int(a.Desired)), strconv.Itoa(int(b.Desired)), strconv.Itoa(int(a.EBC)), strconv.Itoa(int(b.EBC)),
		strconv.FormatBool(a.Panicking), strconv.FormatBool(b.Panicking), fmtValue(a.Stable), fmtValue(b.Stable),
		fmtValue(a.Panic), fmtValue(b.Panic), strings.Join(fields, " ")}
}

func writeReplayCSV(dir string, rows [][]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, replayCSV))
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write(replayHeader)
	_ = w.WriteAll(rows)
	return errors.Join(w.Error(), f.Close())
}

func formatOverrides(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ", ")
}

func orUnknown(s string) string {
	if s == "" {
		return "unnamed scenario"
	}
	return s
}

// recordingFile creates dir/recording.jsonl.gz for a live run's recording (simctl run). It
// returns a nil writer for a virtual run or when the file cannot be created (the reason goes to
// progress). done closes the file, and removes it if the run wrote nothing into it.
func recordingFile(dir, mode string, progress io.Writer) (w io.Writer, done func()) {
	if mode != "" && mode != scenarios.ModeLive {
		return nil, func() {}
	}
	path := filepath.Join(dir, recording.FileName)
	f, err := createFile(dir, path)
	if err != nil {
		fmt.Fprintf(progress, "recording: not written: %v\n", err)
		return nil, func() {}
	}
	return f, func() {
		fi, statErr := f.Stat()
		if err := f.Close(); err != nil {
			fmt.Fprintf(progress, "recording: %v\n", err)
		}
		if statErr == nil && fi.Size() == 0 {
			_ = os.Remove(path)
		}
	}
}

func createFile(dir, path string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return os.Create(path)
}
