package reports_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/net/html"

	"github.com/servingsim/servingsim/reports"
	"github.com/servingsim/servingsim/reports/reportstest"
)

// writeFixture writes the synthetic split-rollout run into a fresh directory.
func writeFixture(t testing.TB, o reportstest.Options) (string, *reports.Run) {
	t.Helper()
	run := reportstest.SplitRollout(o)
	dir := t.TempDir()
	if err := reports.WriteDir(dir, run); err != nil {
		t.Fatalf("WriteDir() = %v", err)
	}
	return dir, run
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readCSV(t *testing.T, dir, name string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(readFile(t, dir, name))).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return rows
}

var allFiles = []string{reports.SummaryFile, reports.ResultsFile, reports.RequestsFile, reports.TimeseriesFile,
	reports.DecisionsFile, reports.EventsFile, reports.MarkdownFile, reports.HTMLFile}

func TestWriteDir_WritesEveryFileAndNothingElse(t *testing.T) {
	dir, _ := writeFixture(t, reportstest.Options{})
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	want := append([]string(nil), allFiles...)
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("files in the run directory (-want +got):\n%s", diff)
	}
}

func TestRequestsCSV_OneRowPerRequestInSendOrder(t *testing.T) {
	dir, run := writeFixture(t, reportstest.Options{Requests: 1000})
	rows := readCSV(t, dir, reports.RequestsFile)
	if got, want := strings.Join(rows[0], ","), "stream,revision,tag,coldStart,timestamp,latencyMs,code,error"; got != want {
		t.Fatalf("requests.csv header = %s, want %s", got, want)
	}
	if len(rows) != 1+len(run.Requests) {
		t.Fatalf("requests.csv has %d rows, want 1 header + %d requests", len(rows), len(run.Requests))
	}
	for i, q := range run.Requests {
		want := []string{q.Stream, q.Revision, q.Tag, map[bool]string{true: "true", false: "false"}[q.ColdStart],
			q.Result.Timestamp.UTC().Format(time.RFC3339Nano), "", "", q.Result.Error}
		got := rows[i+1]
		lat, err := time.ParseDuration(got[5] + "ms")
		if err != nil || lat.Round(time.Microsecond) != q.Result.Latency.Round(time.Microsecond) {
			t.Errorf("row %d latencyMs = %s, want %s", i+1, got[5], q.Result.Latency)
		}
		want[5], want[6] = got[5], map[uint16]string{0: "0", 200: "200", 503: "503"}[q.Result.Code]
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("requests.csv row %d (-want +got):\n%s", i+1, diff)
		}
	}
	// Spot checks of the fixture's kinds of request.
	if got := strings.Join(rows[1][:4], ","); got != "main,hello-00001,,true" {
		t.Errorf("first request = %s, want a main-stream cold start on hello-00001", got)
	}
	if got := strings.Join(rows[5][:3], ","); got != "canary,hello-00003,canary" {
		t.Errorf("5th request = %s, want the canary tag's stream on hello-00003", got)
	}
	if got := rows[331]; got[1] != "" || got[6] != "0" || got[7] != reportstest.TimeoutError {
		t.Errorf("331st request = %q, want a client timeout: no revision, code 0, error %q", got, reportstest.TimeoutError)
	}
}

func TestTimeseriesDecisionsEventsCSV(t *testing.T) {
	dir, run := writeFixture(t, reportstest.Options{Requests: 600})
	for _, tc := range []struct {
		file, header, row1 string
		rows               int
	}{
		{reports.TimeseriesFile,
			"seconds,namespace,revision,desiredPods,readyPods,actualPods,stable,panic,panicking,mode,activatorQueue,rps,concurrency,errors",
			"0,split-rollout-1,hello-00001,1,0,1,0.065,0.365,false,Proxy,5,5,1.6666666666666667,0", len(run.Series)},
		{reports.DecisionsFile,
			"seconds,namespace,revision,readyPods,stable,panic,target,desiredPods,excessBurstCapacity,panicking,mode",
			"0.25,split-rollout-1,hello-00001,0,0.065,0.365,10,1,195,false,Proxy", len(run.Decisions)},
		{reports.EventsFile, "seconds,kind,subject,message", "0,pod,hello-00001-deployment-7c9f,\"created, scheduling\"", len(run.Events)},
	} {
		lines := strings.Split(strings.TrimSuffix(readFile(t, dir, tc.file), "\n"), "\n")
		if lines[0] != tc.header {
			t.Errorf("%s header = %s, want %s", tc.file, lines[0], tc.header)
		}
		if len(lines) != 1+tc.rows {
			t.Errorf("%s has %d lines, want 1 + %d", tc.file, len(lines), tc.rows)
		}
		if len(lines) > 1 && lines[1] != tc.row1 {
			t.Errorf("%s first row = %s, want %s", tc.file, lines[1], tc.row1)
		}
	}
	if got := readCSV(t, dir, reports.EventsFile)[5]; got[0] != "30" || got[1] != "action" || got[3] != `updateService: new revision hello-00002, traffic "90/10"` {
		t.Errorf("events.csv rollout row = %q", got)
	}
}

// TestResultsBin_VegetaDecodes: results.bin is vegeta's own encoding, so vegeta's decoder (what
// `vegeta report` uses) reads back every result, and vegeta's metrics agree with ours.
func TestResultsBin_VegetaDecodes(t *testing.T) {
	dir, run := writeFixture(t, reportstest.Options{Requests: 1000})
	f, err := os.Open(filepath.Join(dir, reports.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	dec := vegeta.DecoderFor(f) // sniffs the format as `vegeta report` does
	if dec == nil {
		t.Fatal("vegeta.DecoderFor(results.bin) = nil: not a vegeta encoding")
	}
	var got []vegeta.Result
	var m vegeta.Metrics
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			break
		}
		got = append(got, r)
		m.Add(&r)
	}
	m.Close()
	want := make([]vegeta.Result, len(run.Requests))
	for i := range run.Requests {
		want[i] = run.Requests[i].Result
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("results.bin decoded (-want +got):\n%s", diff)
	}
	st := reports.Summarize(run)
	if m.Requests != uint64(st.Requests) || math.Abs(1-m.Success-st.ErrorRate) > 1e-12 {
		t.Errorf("vegeta metrics: %d requests, success %v; ours: %d requests, error rate %v", m.Requests, m.Success, st.Requests, st.ErrorRate)
	}
}

func TestReadDir_RoundTrip(t *testing.T) {
	dir, run := writeFixture(t, reportstest.Options{Requests: 800})
	got, err := reports.ReadDir(dir)
	if err != nil {
		t.Fatalf("ReadDir() = %v", err)
	}
	if diff := cmp.Diff(run, got); diff != "" {
		t.Errorf("ReadDir(WriteDir(run)) differs (-want +got):\n%s", diff)
	}

	// Without results.bin the requests come from requests.csv alone: everything but vegeta's
	// extra fields (attack, seq, bytes, method, URL).
	if err := os.Remove(filepath.Join(dir, reports.ResultsFile)); err != nil {
		t.Fatal(err)
	}
	got, err = reports.ReadDir(dir)
	if err != nil {
		t.Fatalf("ReadDir() without results.bin = %v", err)
	}
	type csvFields struct {
		Timestamp time.Time
		Latency   time.Duration
		Code      uint16
		Error     string
	}
	onlyCSVFields := cmp.Transformer("csvFields", func(r vegeta.Result) csvFields {
		return csvFields{r.Timestamp, r.Latency, r.Code, r.Error}
	})
	if diff := cmp.Diff(run.Requests, got.Requests, onlyCSVFields); diff != "" {
		t.Errorf("ReadDir() without results.bin: requests differ (-want +got):\n%s", diff)
	}
}

func TestReadDir_Errors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(dir string) error
		want   string
	}{
		{"not a run directory", func(dir string) error { return os.Remove(filepath.Join(dir, reports.SummaryFile)) },
			"is not a run directory: no summary.json"},
		{"another format version", func(dir string) error {
			b, _ := os.ReadFile(filepath.Join(dir, reports.SummaryFile))
			return os.WriteFile(filepath.Join(dir, reports.SummaryFile), bytes.Replace(b, []byte(reports.FormatVersion), []byte("servingsim.dev/v9"), 1), 0o644)
		}, `version "servingsim.dev/v9", this simctl reads "servingsim.dev/v1alpha1"`},
		{"renamed column", func(dir string) error {
			b, _ := os.ReadFile(filepath.Join(dir, reports.TimeseriesFile))
			return os.WriteFile(filepath.Join(dir, reports.TimeseriesFile), bytes.Replace(b, []byte("readyPods"), []byte("ready"), 1), 0o644)
		}, `timeseries.csv: header "seconds,namespace,revision,desiredPods,ready,`},
		{"bad value", func(dir string) error {
			b, _ := os.ReadFile(filepath.Join(dir, reports.DecisionsFile))
			return os.WriteFile(filepath.Join(dir, reports.DecisionsFile), bytes.Replace(b, []byte(",Proxy\n"), []byte(",Proxy\n1,ns,r,x,0,0,0,0,0,false,Serve\n"), 1), 0o644)
		}, `decisions.csv: line 3, column readyPods: strconv.ParseInt: parsing "x": invalid syntax`},
		{"results.bin and requests.csv disagree", func(dir string) error {
			b, _ := os.ReadFile(filepath.Join(dir, reports.RequestsFile))
			lines := strings.SplitAfter(string(b), "\n")
			return os.WriteFile(filepath.Join(dir, reports.RequestsFile), []byte(strings.Join(lines[:len(lines)-2], "")), 0o644)
		}, "results.bin holds 100 results but requests.csv 99 requests"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := writeFixture(t, reportstest.Options{Requests: 100})
			if err := tc.break_(dir); err != nil {
				t.Fatal(err)
			}
			_, err := reports.ReadDir(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadDir() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestSummaryJSON_VerdictExpectationsAccountingStats(t *testing.T) {
	dir, run := writeFixture(t, reportstest.Options{Requests: 1000})
	var got struct {
		Verdict      string `json:"verdict"`
		Expectations []struct {
			Passed   bool     `json:"passed"`
			Observed string   `json:"observed"`
			PValue   *float64 `json:"pValue"`
		} `json:"expectations"`
		Accounting reports.Accounting `json:"accounting"`
		Stats      reports.Stats      `json:"stats"`
		Requests   any                `json:"requests"`
	}
	if err := json.Unmarshal([]byte(readFile(t, dir, reports.SummaryFile)), &got); err != nil {
		t.Fatal(err)
	}
	if got.Verdict != "fail" || len(got.Expectations) != 3 || got.Expectations[1].Passed || got.Expectations[2].PValue == nil {
		t.Errorf("summary.json verdict %q, expectations %+v; want fail, 3 with the second failed and the third with a p-value", got.Verdict, got.Expectations)
	}
	if got.Accounting != run.Accounting || got.Accounting.Sent != 1000 {
		t.Errorf("summary.json accounting = %+v, want %+v", got.Accounting, run.Accounting)
	}
	if diff := cmp.Diff(reports.Summarize(run), got.Stats); diff != "" {
		t.Errorf("summary.json stats (-want +got):\n%s", diff)
	}
	if got.Requests != nil {
		t.Errorf("summary.json holds the requests; they belong in results.bin and requests.csv")
	}
}

func TestMarkdown_VerdictExpectationsAndNumbers(t *testing.T) {
	dir, _ := writeFixture(t, reportstest.Options{})
	md := readFile(t, dir, reports.MarkdownFile)
	for _, want := range []string{
		"## ❌ fail · split-rollout\n\nseed 1 · live mode · 1m0s from 2026-01-02T03:04:05Z · scenarios/testdata/split-rollout.yaml\n",
		"2 of 3 met.\n\n| | Expected | Observed | Detail |\n| :-: | --- | --- | --- |\n",
		"| ✓ | p95 cold-start latency &lt; 3s \\| at least 1 cold start | 56 cold starts |  |\n",
		"| ✗ | hello-00001 max pods ≤ 3 | 4 pods | hello-00001 reached 4 ready pods at 26s<br>with target 10 per pod |\n",
		"| ✓ | hello-00002 gets 10% of main | 9.8% | p=0.421, interval [0.0871, 0.1124] |\n",
		"| Requests | 3000 |\n| Failed requests | 39 |\n| Error rate | 1.30% |\n",
		"| Throughput | 49.4 req/s |\n| Latency p50 | 4.08ms |\n| Latency p95 | 18.5ms |\n| Latency p99 | 991.3ms |\n" +
			"| Cold starts | 56 |\n| Cold-start p50 | 789.4ms |\n| Cold-start p95 | 1.95s |\n",
		"| Max pods (all revisions) | 6 |\n| Pod-seconds | 274 |\n| SKS mode switches | 4 |\n",
		"| hello-00001 | 2246 | 75.09% | 32 | ",
		"| hello-00003 | 599 | 20.03% | 13 | ",
		"### Accounting\n\n✓ 3000 sent = 2991 responses + 9 errors: every request accounted for\n",
		"| 0 (transport error or timeout) | 9 |\n| 200 | 2961 |\n| 503 | 30 |\n",
		"| 30s | service/hello | updateService: new revision hello-00002, traffic \"90/10\" |\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	if n := strings.Count(md, "\n| hello-0000"); n != 3 {
		t.Errorf("report.md has %d revision rows, want 3", n)
	}
}

// TestHTML_SelfContainedWithPlots: five inline SVG plots, no scripts, no external resources:
// "http(s)://" appears only in text (an error message), never in a tag or attribute.
func TestHTML_SelfContainedWithPlots(t *testing.T) {
	dir, _ := writeFixture(t, reportstest.Options{})
	page := readFile(t, dir, reports.HTMLFile)
	z := html.NewTokenizer(strings.NewReader(page))
	svgs, texts := 0, ""
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		tok := z.Token()
		switch tt {
		case html.TextToken:
			texts += tok.Data
		case html.StartTagToken, html.SelfClosingTagToken:
			switch tok.Data {
			case "svg":
				svgs++
			case "script", "link", "img", "iframe", "object", "embed", "image":
				t.Errorf("report.html has a <%s> element; it must be self-contained", tok.Data)
			}
			for _, a := range tok.Attr {
				if regexp.MustCompile(`(?i)https?:|//`).MatchString(a.Val) || a.Key == "src" {
					t.Errorf("report.html: <%s %s=%q> refers to something outside the page", tok.Data, a.Key, a.Val)
				}
			}
		}
	}
	if svgs != 5 {
		t.Errorf("report.html has %d <svg> plots, want 5 (pods, latency, cold starts, share, SKS)", svgs)
	}
	if !strings.Contains(texts, reportstest.TimeoutError) {
		t.Errorf("report.html does not show the timeout error %q as text", reportstest.TimeoutError)
	}
	if strings.Contains(page, "@import") || strings.Contains(page, "url(") {
		t.Errorf("report.html CSS loads something (@import or url())")
	}
	for _, want := range []string{"<title>split-rollout · fail · servingsim</title>", `<span class="badge fail">fail</span>`,
		`aria-label="Pods desired and ready per revision, with load"`, ">hello-00002</text>", ">Proxy (activator in path)</text>",
		"hello-00001 max pods ≤ 3", "p95 cold-start latency &lt; 3s | at least 1 cold start"} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

// TestHTML_EmptyRun: a run that failed before sending anything still renders, saying so.
func TestHTML_EmptyRun(t *testing.T) {
	run := &reports.Run{Version: reports.FormatVersion, Scenario: "broken", Verdict: reports.Error, Error: "stack failed: etcd did not start"}
	dir := t.TempDir()
	if err := reports.WriteDir(dir, run); err != nil {
		t.Fatalf("WriteDir(empty run) = %v", err)
	}
	page := readFile(t, dir, reports.HTMLFile)
	for _, want := range []string{"stack failed: etcd did not start", "No requests were sent.", "No expectations.", `badge error`} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html of an empty run lacks %q", want)
		}
	}
	if strings.Contains(page, "<svg") {
		t.Errorf("report.html of an empty run has plots")
	}
	if md := readFile(t, dir, reports.MarkdownFile); !strings.Contains(md, "## ⚠️ error · broken") || !strings.Contains(md, "> **Error:** stack failed") {
		t.Errorf("report.md of an empty run:\n%s", md)
	}
	if got, err := reports.ReadDir(dir); err != nil || got.Error != run.Error {
		t.Errorf("ReadDir(empty run) = %+v, %v", got, err)
	}
}

// TestDeterminism: the same Run renders byte-identical files, and a run read back re-renders
// its reports byte for byte.
func TestDeterminism(t *testing.T) {
	dirA, _ := writeFixture(t, reportstest.Options{Requests: 2000})
	dirB, _ := writeFixture(t, reportstest.Options{Requests: 2000})
	for _, name := range allFiles {
		if readFile(t, dirA, name) != readFile(t, dirB, name) {
			t.Errorf("%s differs between two renders of the same run", name)
		}
	}
	run, err := reports.ReadDir(dirA)
	if err != nil {
		t.Fatal(err)
	}
	dirC := t.TempDir()
	if err := reports.WriteDir(dirC, run); err != nil {
		t.Fatal(err)
	}
	for _, name := range allFiles {
		if readFile(t, dirA, name) != readFile(t, dirC, name) {
			t.Errorf("%s differs after ReadDir and WriteDir", name)
		}
	}
}

func TestSummarize_HandBuiltRun(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	req := func(rev string, at, lat time.Duration, code uint16, cold bool) reports.Request {
		res := vegeta.Result{Timestamp: t0.Add(at), Latency: lat, Code: code}
		if code == 0 {
			res.Error = "timeout"
		}
		return reports.Request{Revision: rev, ColdStart: cold, Result: res}
	}
	smp := func(rev string, sec int, desired, ready, actual int32, mode string, panicking bool) reports.Sample {
		return reports.Sample{Time: time.Duration(sec) * time.Second, Revision: rev, DesiredPods: desired, ReadyPods: ready, ActualPods: actual, Mode: mode, Panicking: panicking}
	}
	run := &reports.Run{
		Started: t0, Duration: 4 * time.Second,
		Requests: []reports.Request{
			req("a", 0, 900*time.Millisecond, 200, true),
			req("a", time.Second, 10*time.Millisecond, 200, false),
			req("b", time.Second, 20*time.Millisecond, 503, false),
			req("", 2*time.Second, 2*time.Second, 0, false),
		},
		Series: []reports.Sample{
			smp("a", 0, 1, 0, 1, "Proxy", false), smp("b", 0, 1, 1, 1, "Serve", false),
			smp("a", 1, 3, 1, 2, "Serve", true), smp("b", 1, 1, 1, 1, "Serve", false),
			smp("a", 2, 3, 3, 3, "Serve", true), smp("b", 2, 0, 1, 1, "Proxy", false),
			smp("a", 3, 1, 3, 3, "Serve", false),
		},
	}
	st := reports.Summarize(run)
	want := reports.Stats{
		Requests: 4, Failed: 2, ErrorRate: 0.5, Throughput: 0.5,
		Latency:          reports.Percentiles{P50: 20 * time.Millisecond, P95: 2 * time.Second, P99: 2 * time.Second, Max: 2 * time.Second},
		ColdStarts:       1,
		ColdStartLatency: reports.Percentiles{P50: 900 * time.Millisecond, P95: 900 * time.Millisecond, P99: 900 * time.Millisecond, Max: 900 * time.Millisecond},
		PodSeconds:       12, MaxPods: 4, SKSSwitches: 2,
		StatusCodes:  []reports.StatusCount{{Code: 0, Count: 1}, {Code: 200, Count: 2}, {Code: 503, Count: 1}},
		TopErrors:    []reports.ErrorCount{{Error: "timeout", Count: 1}},
		Unattributed: 1,
		Revisions: []reports.RevisionStats{
			{Revision: "a", Requests: 2, Share: 2.0 / 3, ColdStarts: 1,
				ColdStartLatency: reports.Percentiles{P50: 900 * time.Millisecond, P95: 900 * time.Millisecond, P99: 900 * time.Millisecond, Max: 900 * time.Millisecond},
				MaxDesired:       3, MaxReady: 3, MaxPods: 3, PodSeconds: 9, SKSSwitches: 1, PanicEntries: 1},
			{Revision: "b", Requests: 1, Share: 1.0 / 3, MaxDesired: 1, MaxReady: 1, MaxPods: 1, PodSeconds: 3, SKSSwitches: 1},
		},
	}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("Summarize() (-want +got):\n%s", diff)
	}
}
