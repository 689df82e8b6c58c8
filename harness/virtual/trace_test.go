package virtual

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/servingsim/servingsim/scenarios/recording"
)

const (
	azure2019File = "../../scenarios/traces/azure2019-synthetic.csv"
	azure2021File = "../../scenarios/traces/azure2021-synthetic.csv"
)

func perMinute(arrivals []time.Duration) map[int]int {
	out := map[int]int{}
	for _, a := range arrivals {
		out[int(a/time.Minute)]++
	}
	return out
}

func TestReadTrace_Azure2019WithinMinute(t *testing.T) {
	in := "HashOwner,HashApp,HashFunction,Trigger,1,2,3\n" +
		"o1,a1,f1,http,4,0,600\n" +
		"o2,a2,f2,timer,2,1,0\n"
	for _, tc := range []struct {
		within   WithinMinute
		function string
		exact    map[int]int // nil: only approximate counts (Poisson)
	}{
		{WithinEquidistant, "f1", map[int]int{0: 4, 2: 600}},
		{WithinUniform, "f1", map[int]int{0: 4, 2: 600}},
		{WithinUniform, "", map[int]int{0: 6, 1: 1, 2: 600}},
		{WithinPoisson, "f1", nil},
	} {
		t.Run(string(tc.within)+"/"+tc.function, func(t *testing.T) {
			opts := TraceOptions{Format: TraceAzure2019, Function: tc.function, Within: tc.within, Seed: 3}
			got, err := ReadTrace(strings.NewReader(in), "t.csv", opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.IsSorted(got) {
				t.Error("arrivals are not sorted")
			}
			counts := perMinute(got)
			if tc.exact != nil {
				for m, n := range tc.exact {
					if counts[m] != n {
						t.Errorf("minute %d: %d arrivals, want %d", m, counts[m], n)
					}
				}
			} else if counts[1] != 0 || counts[2] < 500 || counts[2] > 700 {
				t.Errorf("poisson counts per minute %v, want none in minute 1 and about 600 in minute 2", counts)
			}
			if tc.within == WithinEquidistant && got[1]-got[0] != 15*time.Second {
				t.Errorf("equidistant gap %v, want 15s", got[1]-got[0])
			}
			again, _ := ReadTrace(strings.NewReader(in), "t.csv", opts)
			if !slices.Equal(got, again) {
				t.Error("same seed, different arrivals")
			}
			opts.Seed = 4
			other, _ := ReadTrace(strings.NewReader(in), "t.csv", opts)
			if tc.within != WithinEquidistant && slices.Equal(got, other) {
				t.Error("different seed, same arrivals")
			}
		})
	}
}

func TestReadTrace_SyntheticFiles(t *testing.T) {
	day, err := LoadTrace(azure2019File, TraceOptions{Format: TraceAzure2019, Function: "7b9d4e11", Within: WithinEquidistant})
	if err != nil {
		t.Fatal(err)
	}
	if len(day) != 212268 || day[len(day)-1] >= 240*time.Minute {
		t.Errorf("diurnal function: %d arrivals ending %v, want 212268 within 4h", len(day), day[len(day)-1])
	}
	hour, err := LoadTrace(azure2019File, TraceOptions{Format: TraceAzure2019, Within: WithinUniform, Minutes: 60})
	if err != nil {
		t.Fatal(err)
	}
	if last := hour[len(hour)-1]; last >= time.Hour {
		t.Errorf("Minutes 60 kept an arrival at %v", last)
	}
	api, err := LoadTrace(azure2021File, TraceOptions{Format: TraceAzure2021, Function: "api-get"})
	if err != nil {
		t.Fatal(err)
	}
	all, err := LoadTrace(azure2021File, TraceOptions{Format: TraceAzure2021})
	if err != nil {
		t.Fatal(err)
	}
	if len(api) == 0 || len(api) >= len(all) || all[0] != 0 {
		t.Errorf("api-get %d of %d invocations, first at %v; want a strict subset, the trace starting at 0", len(api), len(all), all[0])
	}
	if all[len(all)-1] > 2*time.Hour+time.Minute {
		t.Errorf("2021 trace ends at %v, want about 2h", all[len(all)-1])
	}
}

func TestReadTrace_Azure2021StartIsEndMinusDuration(t *testing.T) {
	in := "app,func,end_timestamp,duration\n" +
		"a,f,100.5,0.5\n" +
		"a,g,101,3\n" +
		"b,f,103.25,0.25\n"
	got, err := ReadTrace(strings.NewReader(in), "t.csv", TraceOptions{Format: TraceAzure2021, Function: "f"})
	if err != nil {
		t.Fatal(err)
	}
	// g starts first (98); f's requests start at 100 and 103.
	if want := []time.Duration{2 * time.Second, 5 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("arrivals %v, want %v", got, want)
	}
}

func TestReadTrace_Vegeta(t *testing.T) {
	var buf bytes.Buffer
	enc := vegeta.NewEncoder(&buf)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// Completion order, not send order.
	for _, r := range []vegeta.Result{
		{Attack: "a", Timestamp: t0.Add(2 * time.Second), Code: 200},
		{Attack: "b", Timestamp: t0.Add(time.Second), Code: 200},
		{Attack: "a", Timestamp: t0, Code: 200},
	} {
		if err := enc.Encode(&r); err != nil {
			t.Fatal(err)
		}
	}
	data := buf.Bytes()
	got, err := ReadTrace(bytes.NewReader(data), "r.bin", TraceOptions{Format: TraceVegeta, Function: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []time.Duration{0, 2 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("arrivals %v, want %v", got, want)
	}
	if _, err := ReadTrace(bytes.NewReader(data[:len(data)-5]), "r.bin", TraceOptions{Format: TraceVegeta}); err == nil ||
		!strings.Contains(err.Error(), "r.bin: result 3") {
		t.Errorf("truncated results: error %v, want one naming r.bin and result 3", err)
	}
}

func TestReadTrace_MalformedInputNamesFileLineColumn(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format TraceFormat
		in     string
		want   string
	}{
		{"2019 bad count", TraceAzure2019, "HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,http,3,x\n",
			"t.csv:2: column 6 (minute 2): invocation count \"x\" is not a count"},
		{"2019 negative count", TraceAzure2019, "HashOwner,HashApp,HashFunction,Trigger,1\no,a,f,http,1\no,a,g,http,-1\n",
			"t.csv:3: column 5 (minute 1)"},
		{"2019 header", TraceAzure2019, "HashOwner,HashApp,Function,Trigger,1\n", "t.csv:1: column 3: header \"Function\", want \"HashFunction\""},
		{"2019 minute header", TraceAzure2019, "HashOwner,HashApp,HashFunction,Trigger,1,3\n", "t.csv:1: column 6: header \"3\", want minute 2"},
		{"2019 no minutes", TraceAzure2019, "HashOwner,HashApp,HashFunction,Trigger\n", "t.csv:1: column 4: 0 minute columns"},
		{"2019 short row", TraceAzure2019, "HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,http,1\n", "t.csv:2: column 1"},
		{"2021 fields", TraceAzure2021, "app,func,end_timestamp,duration\na,f,1,2,3\n", "t.csv:2: column"},
		{"2021 timestamp", TraceAzure2021, "app,func,end_timestamp,duration\na,f,1,0\na,f,soon,0\n",
			"t.csv:3: column 3 (end_timestamp): \"soon\" is not a time in seconds"},
		{"2021 negative duration", TraceAzure2021, "app,func,end_timestamp,duration\na,f,1,-2\n", "t.csv:2: column 4 (duration)"},
		{"2021 quote", TraceAzure2021, "app,func,end_timestamp,duration\na,\"f,1,0\n", "t.csv:2: column"},
		{"empty", TraceAzure2021, "", "t.csv: empty trace"},
		{"no requests", TraceAzure2021, "app,func,end_timestamp,duration\n", "t.csv: no requests"},
		{"format", "csv", "", "t.csv: unknown trace format \"csv\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadTrace(strings.NewReader(tc.in), "t.csv", TraceOptions{Format: tc.format})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := ReadTrace(strings.NewReader("app,func,end_timestamp,duration\na,f,1,0\n"), "t.csv",
		TraceOptions{Format: TraceAzure2021, Function: "nope"}); err == nil || !strings.Contains(err.Error(), `function "nope"`) {
		t.Errorf("unknown function: error %v", err)
	}
}

// TestReadTrace_ServingsimRecording: a live run's recording imports as its request send times,
// per stream or target, from the first request; a recording of another format is refused.
func TestReadTrace_ServingsimRecording(t *testing.T) {
	var buf bytes.Buffer
	w, err := recording.NewWriter(&buf, recording.Header{Format: recording.FormatVersion,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Mode: "live"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []recording.Record{
		{T: recording.Offset(time.Second), Kind: recording.KindPod, Pod: &recording.PodEvent{Name: "p", Event: recording.PodCreated}},
		{T: recording.Offset(1500 * time.Millisecond), Kind: recording.KindRequest, Request: &recording.Request{Stream: "main", Target: "hello", Code: 200}},
		{T: recording.Offset(1750 * time.Millisecond), Kind: recording.KindRequest, Request: &recording.Request{Stream: "side", Target: "other", Code: 200}},
		{T: recording.Offset(2500 * time.Millisecond), Kind: recording.KindRequest, Request: &recording.Request{Stream: "main", Target: "hello", Code: 503}},
	} {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	for _, tc := range []struct {
		function string
		want     []time.Duration
	}{
		{"", []time.Duration{0, 250 * time.Millisecond, time.Second}},
		{"main", []time.Duration{0, time.Second}},
		{"other", []time.Duration{250 * time.Millisecond}},
	} {
		got, err := ReadTrace(bytes.NewReader(data), "rec.jsonl.gz", TraceOptions{Format: TraceServingsim, Function: tc.function})
		if err != nil {
			t.Fatalf("function %q: %v", tc.function, err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("function %q: arrivals %v, want %v", tc.function, got, tc.want)
		}
	}
	if _, err := ReadTrace(strings.NewReader(`{"format":"other/v9"}`+"\n"), "x.jsonl", TraceOptions{Format: TraceServingsim}); err == nil ||
		!strings.Contains(err.Error(), "x.jsonl:1") {
		t.Errorf("foreign format: error %v, want one naming x.jsonl:1", err)
	}
	// The kept live recording imports too: every request of its one stream.
	got, err := LoadTrace("../../scenarios/recordings/burst-to-panic.jsonl.gz", TraceOptions{Format: TraceServingsim, Function: "bursty"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1880 || got[0] != 0 || !slices.IsSorted(got) {
		t.Errorf("burst-to-panic recording: %d arrivals starting %v, want 1880 sorted from 0", len(got), got[:min(len(got), 1)])
	}
}
