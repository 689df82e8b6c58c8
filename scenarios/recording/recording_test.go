package recording

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/kpa"
)

func TestOffset_ExactSeconds(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		json string
	}{
		{0, "0"},
		{time.Second, "1"},
		{1500 * time.Millisecond, "1.5"},
		{time.Nanosecond, "0.000000001"},
		{3723*time.Second + 123456789, "3723.123456789"},
		{-250 * time.Millisecond, "-0.25"},
	} {
		b, err := json.Marshal(Offset(c.d))
		if err != nil || string(b) != c.json {
			t.Errorf("Marshal(%v) = %s, %v, want %s", c.d, b, err, c.json)
		}
		var o Offset
		if err := json.Unmarshal([]byte(c.json), &o); err != nil || o.D() != c.d {
			t.Errorf("Unmarshal(%s) = %v, %v, want %v", c.json, o.D(), err, c.d)
		}
	}
	for _, in := range []string{"1e3", "2.0000000005"} { // not exact: through float64
		var o Offset
		if err := json.Unmarshal([]byte(in), &o); err != nil {
			t.Errorf("Unmarshal(%s) = %v", in, err)
		}
	}
	var o Offset
	if err := json.Unmarshal([]byte(`"x"`), &o); err == nil {
		t.Error(`Unmarshal("x") succeeded, want an error`)
	}
}

// t0 is not a whole second, so that bucketing depends on Start + t being exact.
var t0 = time.Date(2026, 11, 23, 16, 0, 0, 700_000_000, time.UTC)

var key = types.NamespacedName{Namespace: "ns", Name: "hello-00001"}

// scripted drives real autoscaler cores the way the live KPA does and reports every call to a
// Recorder as kpa.Observations: a revision with target 10 (CC 0, target annotation, 100%
// utilization), one activator stat per second of conc, ticks every 2s from t0+2s.
func scripted(t testing.TB, conc []float64, ready func(sec int) int32) *Recorder {
	t.Helper()
	clk := clocktesting.NewFakePassiveClock(t0)
	r := NewRecorder(Header{Namespace: key.Namespace, Scenario: "scripted", Mode: "live", Seed: 1,
		Config: map[string]map[string]string{config.AutoscalerConfigName: {"stable-window": "10s"}}}, clk)
	cfg, err := config.NewAutoscalerFromMap(map[string]string{"stable-window": "10s"})
	if err != nil {
		t.Fatal(err)
	}
	pa := &autoscalingv1alpha1.PodAutoscaler{}
	pa.Name, pa.Namespace = key.Name, key.Namespace
	pa.Annotations = map[string]string{serving.TargetAnnotationKey: "10", serving.TargetUtilizationAnnotationKey: "100"}
	pa.Spec.Reachability = autoscalingv1alpha1.ReachabilityReachable
	spec, mspec := autoscaler.MakeDeciderSpec(pa, cfg), autoscaler.MakeMetricSpec(pa, cfg)

	r.PA(key.Name, PAInputsOf(pa))
	r.Observe(kpa.Observation{Kind: kpa.ObservedCollector, Time: t0, Key: key, New: true, MetricSpec: mspec})
	sc := autoscaler.NewScaler(spec, 1, t0)
	coll := autoscaler.NewCollector(mspec)
	r.Observe(kpa.Observation{Kind: kpa.ObservedDecider, Time: t0, Key: key, New: true, DeciderSpec: spec, PA: pa, ReadyPods: 1})
	r.MarkZero(t0)
	for sec, c := range conc {
		at := t0.Add(time.Duration(sec)*time.Second + 300*time.Millisecond)
		s := autoscaler.Stat{PodName: "activator-0", AverageConcurrency: c, RequestCount: c * 5}
		coll.Record(at, s)
		r.Observe(kpa.Observation{Kind: kpa.ObservedStat, Time: at, Key: key, Stat: s, FromActivator: true})
		if sec%2 == 1 {
			now := t0.Add(time.Duration(sec+1) * time.Second)
			n := ready(sec)
			res := sc.Scale(now, n, coll)
			r.Observe(kpa.Observation{Kind: kpa.ObservedTick, Time: now, Key: key, ReadyPods: n, Result: res})
		}
	}
	r.Observe(kpa.Observation{Kind: kpa.ObservedDrop, Time: t0.Add(time.Minute), Key: key})
	r.Observe(kpa.Observation{Kind: kpa.ObservedStat, Time: t0, Key: types.NamespacedName{Namespace: "other", Name: "x"}}) // another namespace: ignored
	return r
}

func written(t testing.TB, r *Recorder) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func replayBytes(t *testing.T, b []byte, opts ReplayOptions) *ReplayResult {
	t.Helper()
	rd, err := NewReader(bytes.NewReader(b), "rec")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Replay(rd, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// burst is 5 concurrent requests, then 40 (a panic at target 10), then 5 again.
var burst = []float64{5, 5, 5, 5, 5, 5, 40, 40, 40, 40, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5}

func readyFollowing(sec int) int32 {
	if sec >= 9 {
		return 4
	}
	return 1
}

// TestReplay_ExactWithoutChange_Section3_4 replays a scripted recording: every tick matches.
func TestReplay_ExactWithoutChange_Section3_4(t *testing.T) {
	res := replayBytes(t, written(t, scripted(t, burst, readyFollowing)), ReplayOptions{})
	if res.Ticks != 10 || res.Divergent != 0 || res.First != nil || res.Stats != 20 || res.Revisions != 1 {
		t.Errorf("replay = %+v, want 10 ticks, 20 stats, 1 revision and no divergence", res)
	}
	if len(res.Notes) != 0 {
		t.Errorf("notes %v, want none (the recorded spec is what the PA and config give)", res.Notes)
	}
}

// TestReplay_OverrideNamesFirstDivergentTick_Section3_2: with the PA's target annotation the
// config default does not matter, but target-burst-capacity does: EBC = ready×total − TBC −
// panic changes on the very first tick (§3.4); and a shorter stable window changes the stable
// average once the burst is in it.
func TestReplay_OverrideNamesFirstDivergentTick_Section3_2(t *testing.T) {
	b := written(t, scripted(t, burst, readyFollowing))
	if res := replayBytes(t, b, ReplayOptions{Overrides: map[string]string{"container-concurrency-target-default": "50"}}); res.Divergent != 0 {
		t.Errorf("an override the PA's own target hides diverged: %+v", res.First)
	}
	res := replayBytes(t, b, ReplayOptions{Overrides: map[string]string{"target-burst-capacity": "50"}})
	if res.First == nil || res.First.T.D() != 2*time.Second || res.First.Diffs[0].Field != "ebc" {
		t.Fatalf("TBC 50: first divergence %+v, want the tick at 2s, field ebc", res.First)
	}
	// Recorded: floor(1×10 − 211 − 5) = −206; replayed: floor(10 − 50 − 5) = −45.
	if d := res.First.Diffs[0]; d.Recorded != "-206" || d.Replayed != "-45" {
		t.Errorf("TBC 50: ebc %s → %s, want -206 → -45", d.Recorded, d.Replayed)
	}
	res = replayBytes(t, b, ReplayOptions{Overrides: map[string]string{"stable-window": "6s"}})
	if res.First == nil || res.First.Diffs[0].Field != "desired" && res.First.Diffs[0].Field != "stable" {
		t.Fatalf("stable-window 6s: first divergence %+v, want one in desired or stable", res.First)
	}
	if res.First.T.D() != 8*time.Second {
		t.Errorf("stable-window 6s: first divergence at %s, want 8s (the first tick with a 6s window's worth of data)", res.First.T)
	}
}

// TestReplay_TamperedTickDiverges: a recording whose tick says something else is caught, with
// the field, both values and the line.
func TestReplay_TamperedTickDiverges(t *testing.T) {
	b := written(t, scripted(t, burst, readyFollowing))
	lines := strings.Split(string(gunzip(t, b)), "\n")
	tampered := 0
	for i, l := range lines {
		if strings.Contains(l, `"kind":"tick"`) && strings.Contains(l, `"t":8,`) {
			lines[i] = strings.Replace(l, `"panicking":true`, `"panicking":false`, 1)
			tampered = i + 1
		}
	}
	if tampered == 0 {
		t.Fatalf("no panicking tick at t=8 in:\n%s", strings.Join(lines, "\n"))
	}
	res := replayBytes(t, []byte(strings.Join(lines, "\n")), ReplayOptions{}) // plain JSON lines read too
	if res.First == nil || res.First.Line != tampered || res.First.Revision != key.Name || res.First.Diffs[0] != (FieldDiff{"panicking", "false", "true"}) {
		t.Errorf("first divergence %+v, want line %d, panicking recorded false, replayed true", res.First, tampered)
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRecorder_WriteOrder: header first; request arrivals merged in by time; records keep
// their recorded order; pod events derived from states.
func TestRecorder_WriteOrder(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(t0)
	r := NewRecorder(Header{Namespace: "ns"}, clk)
	clk.SetTime(t0.Add(time.Second))
	r.Pod("rev", "p1", false, false, false)
	clk.SetTime(t0.Add(3 * time.Second))
	r.Pod("rev", "p1", true, false, false)
	r.Pod("rev", "p1", true, false, false) // no change: no event
	r.Config("config-autoscaler", map[string]string{"stable-window": "7s"})
	r.Config("config-autoscaler", map[string]string{"stable-window": "7s"}) // same: not recorded
	clk.SetTime(t0.Add(5 * time.Second))
	r.Pod("rev", "p1", true, true, false)
	r.Pod("rev", "p1", false, true, true)
	r.AddRequests([]RequestAt{
		{Time: t0.Add(4 * time.Second), Request: Request{Target: "hello", Code: 200}},
		{Time: t0.Add(2 * time.Second), Request: Request{Target: "hello", Code: 200}},
		{Time: t0.Add(9 * time.Second), Request: Request{Target: "hello", Code: 503}},
	})
	rd, err := NewReader(bytes.NewReader(written(t, r)), "rec")
	if err != nil {
		t.Fatal(err)
	}
	if h := rd.Header(); h.Format != FormatVersion || !h.Start.Equal(t0) {
		t.Errorf("header %+v, want format %s and start t0", h, FormatVersion)
	}
	var got []string
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		s := string(rec.Kind) + "@" + rec.T.String()
		if rec.Pod != nil {
			s += ":" + rec.Pod.Event
		}
		got = append(got, s)
	}
	want := "pod@1s:created request@2s pod@3s:ready config@3s request@4s pod@5s:terminating pod@5s:deleted request@9s"
	if strings.Join(got, " ") != want {
		t.Errorf("records\n %s\nwant\n %s", strings.Join(got, " "), want)
	}
}

// TestReader_BadInputNamesTheLine: every malformed recording is refused with file and line.
func TestReader_BadInputNamesTheLine(t *testing.T) {
	header := `{"format":"servingsim.dev/recording/v1","start":"2026-11-23T16:00:00Z","mode":"live","seed":1,"config":{}}`
	for _, c := range []struct {
		name, in, want string
	}{
		{"empty", "", "rec: empty"},
		{"wrong format", `{"format":"servingsim.dev/recording/v0","start":"2026-11-23T16:00:00Z","config":{}}`, `rec:1: format "servingsim.dev/recording/v0"`},
		{"no start", `{"format":"servingsim.dev/recording/v1","config":{}}`, "rec:1: header has no start time"},
		{"not json", header + "\n{nope", "rec:2: invalid character"},
		{"unknown field", header + "\n" + `{"t":1,"kind":"zero","extra":1}`, `rec:2: json: unknown field "extra"`},
		{"unknown kind", header + "\n\n" + `{"t":1,"kind":"teleport"}`, `rec:3: unknown record kind "teleport"`},
		{"tick without rev", header + "\n" + `{"t":1,"kind":"tick","tick":{}}`, "rec:2: tick record without rev"},
		{"bad src", header + "\n" + `{"t":1,"kind":"stat","rev":"r","stat":{"src":"x","c":1,"r":1}}`, `rec:2: stat src "x"`},
		{"tick before decider", header + "\n" + `{"t":1,"kind":"tick","rev":"r","tick":{"ready":1}}`, "rec:2: tick of r before its collector and decider records"},
		{"stat before collector", header + "\n" + `{"t":1,"kind":"stat","rev":"r","stat":{"src":"scrape","c":1,"r":1}}`, "rec:2: stat of r before its collector record"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rd, err := NewReader(strings.NewReader(c.in), "rec")
			if err == nil {
				_, err = Replay(rd, ReplayOptions{})
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestReplay_RefusesBadOverrides(t *testing.T) {
	b := written(t, scripted(t, burst, readyFollowing))
	for _, c := range []struct {
		set  map[string]string
		want string
	}{
		{map[string]string{"no-such-key": "1"}, "--set no-such-key: not a config-autoscaler key"},
		{map[string]string{"stable-window": "soon"}, "--set stable-window=soon"},
	} {
		rd, err := NewReader(bytes.NewReader(b), "rec")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Replay(rd, ReplayOptions{Overrides: c.set}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Replay(--set %v) = %v, want %q", c.set, err, c.want)
		}
	}
}

// BenchmarkReplay replays the kept burst-to-panic recording (24 s of a live run: 11 ticks, 47
// stats, 1,880 request records skipped).
func BenchmarkReplay(b *testing.B) {
	data, err := os.ReadFile("../recordings/burst-to-panic.jsonl.gz")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rd, err := NewReader(bytes.NewReader(data), "rec")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Replay(rd, ReplayOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
