package recordings

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/servingsim/servingsim/scenarios/recording"
)

// maxSize bounds a kept recording.
const maxSize = 200 << 10

func kept(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.jsonl.gz")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no kept recordings (*.jsonl.gz) in scenarios/recordings")
	}
	return files
}

func replay(t *testing.T, file string, overrides map[string]string) *recording.ReplayResult {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	rd, err := recording.NewReader(f, file)
	if err != nil {
		t.Fatal(err)
	}
	res, err := recording.Replay(rd, recording.ReplayOptions{Overrides: overrides})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestKeptRecordings_ReplayWithoutDivergence_Section3_4 is the regression test: every kept live
// recording replays tick for tick. A failure names the first tick whose decision changed; if
// the change is intended, regenerate the recording (see doc.go).
func TestKeptRecordings_ReplayWithoutDivergence_Section3_4(t *testing.T) {
	for _, file := range kept(t) {
		t.Run(file, func(t *testing.T) {
			if fi, err := os.Stat(file); err != nil || fi.Size() > maxSize {
				t.Errorf("%s: %v, size %d; keep recordings under %d bytes", file, err, fi.Size(), maxSize)
			}
			res := replay(t, file, nil)
			if d := res.First; d != nil {
				t.Errorf("%s:%d: tick of %s at t=%s diverges from the recording: %v (%d of %d ticks diverge)",
					file, d.Line, d.Revision, d.T, d.Diffs, res.Divergent, res.Ticks)
			}
			for _, n := range res.Notes {
				t.Errorf("%s: %s", file, n)
			}
			if res.Ticks < 5 || res.Stats == 0 {
				t.Errorf("%s: %d ticks and %d stats replayed; a regression recording needs decisions to check", file, res.Ticks, res.Stats)
			}
		})
	}
}

// TestKeptRecording_BurstPanicsAndAChangeIsCaught_Section3_4: the burst recording holds what it
// is kept for (ticks in panic mode, a scale-up) and the check can fail: with a third of the
// target burst capacity the excess burst capacity differs from the first tick on, with data
// (ready×total − TBC − panic) or without (InitialScale×total − TBC, §3.4).
func TestKeptRecording_BurstPanicsAndAChangeIsCaught_Section3_4(t *testing.T) {
	const file = "burst-to-panic.jsonl.gz"
	var panicking, maxDesired int
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	rd, err := recording.NewReader(f, file)
	if err != nil {
		t.Fatal(err)
	}
	var first recording.Offset = -1
	if _, err := recording.Replay(rd, recording.ReplayOptions{OnTick: func(tr recording.TickReplay) {
		if tr.Recorded.Panicking {
			panicking++
		}
		maxDesired = max(maxDesired, int(tr.Recorded.Desired))
		if first < 0 {
			first = tr.T
		}
	}}); err != nil {
		t.Fatal(err)
	}
	if panicking == 0 || maxDesired < 4 {
		t.Errorf("%s: %d panicking ticks, desired up to %d; want panic mode and a scale-up to 4 or more", file, panicking, maxDesired)
	}
	res := replay(t, file, map[string]string{"target-burst-capacity": "70"})
	if res.First == nil || res.First.T != first || res.First.Diffs[0].Field != "ebc" || res.Divergent != res.Ticks {
		t.Errorf("with target-burst-capacity 70: first divergence %+v (%d of %d ticks), want every tick from the first (t=%s) on ebc", res.First, res.Divergent, res.Ticks, first)
	}
}
