package matchers

import (
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/servingsim/servingsim/reports"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// run is a recorded run: hello-00001 scales 0 → 1 → 3 pods, hello-00002 appears at 3s; 100
// requests, 90 served by hello-00001.
func run() *reports.Run {
	r := &reports.Run{Scenario: "hello", Seed: 7, Mode: "live", Started: t0, Verdict: reports.Pass,
		Accounting: reports.Accounting{Sent: 100, Responses: 100}}
	for s, ready := range []int32{0, 1, 1, 3, 3} {
		r.Series = append(r.Series, reports.Sample{Time: time.Duration(s) * time.Second, Revision: "hello-00001", ReadyPods: ready, DesiredPods: max(ready, 2)})
		if s >= 3 {
			r.Series = append(r.Series, reports.Sample{Time: time.Duration(s) * time.Second, Revision: "hello-00002", ReadyPods: 1})
		}
	}
	for i := range 100 {
		rev := "hello-00001"
		if i%10 == 0 {
			rev = "hello-00002"
		}
		r.Requests = append(r.Requests, reports.Request{Stream: "main", Revision: rev,
			Result: vegeta.Result{Timestamp: t0.Add(time.Duration(i) * 50 * time.Millisecond), Code: 200}})
	}
	return r
}

type matcher interface {
	Match(actual any) (bool, error)
	FailureMessage(actual any) string
}

func TestMatchers(t *testing.T) {
	failed := run()
	failed.Verdict = reports.Fail
	failed.Expectations = []reports.ExpectationResult{{Description: "no errors", Observed: "3 of 100 failed", Detail: "3 × 503"}}
	lost := run()
	lost.Accounting.Sent, lost.Accounting.Unaccounted = 101, 1
	for _, tc := range []struct {
		name    string
		m       matcher
		actual  *reports.Run
		match   bool
		message string // a substring of the failure message
	}{
		{"pass", Pass(), run(), true, ""},
		{"fail", Pass(), failed, false, "✗ no errors\n      observed: 3 of 100 failed\n      detail: 3 × 503"},
		{"accounted", AllAccounted(), run(), true, ""},
		{"lost", AllAccounted(), lost, false, "101 sent, 100 responses, 0 errors, 100 recorded"},
		{"scales by a revision name", ScaleTo(3).Of("hello-00001").Within(3 * time.Second), run(), true, ""},
		{"scales too late", ScaleTo(3).Of("hello-00001").Within(2 * time.Second), run(), false, "peaked at 1 (at 1s)"},
		{"a service means its latest revision", ScaleTo(2).Of("hello"), run(), false, "ready pods of hello-00002 peaked at 1"},
		{"desired", ScaleTo(2).Of("hello-00001").Desired().Within(0), run(), true, ""},
		{"after", ScaleTo(3).Of("hello-00001").After(4 * time.Second).Within(0), run(), true, ""},
		{"ready within", ReadyWithin(time.Second).Of("hello-00001"), run(), true, ""},
		{"not ready in time", ReadyWithin(500 * time.Millisecond).Of("hello-00001"), run(), false, "peaked at 0"},
		{"split", SplitWithin(90, 0.999).Of("hello-00001"), run(), true, ""},
		{"split of the latest", SplitWithin(50, 0.999).Of("hello"), run(), false, "hello-00002 served 10 of 100"},
		{"split of a window", SplitWithin(100, 0.999).Of("hello-00001").Between(50*time.Millisecond, 450*time.Millisecond), run(), true, ""},
	} {
		got, err := tc.m.Match(tc.actual)
		if err != nil || got != tc.match {
			t.Errorf("%s: Match() = %v, %v; want %v", tc.name, got, err, tc.match)
			continue
		}
		if msg := tc.m.FailureMessage(tc.actual); !tc.match && !strings.Contains(msg, tc.message) {
			t.Errorf("%s: FailureMessage() = %q, want it to contain %q", tc.name, msg, tc.message)
		}
	}
}

func TestMatchersRejectWhatIsNotARun(t *testing.T) {
	for _, m := range []matcher{Pass(), AllAccounted(), ScaleTo(1).Of("x"), SplitWithin(50, 0.9).Of("x")} {
		if _, err := m.Match("a string"); err == nil {
			t.Errorf("%T.Match(string) = nil error, want one", m)
		}
	}
	if _, err := ScaleTo(1).Match(run()); err == nil || !strings.Contains(err.Error(), "Of(") {
		t.Errorf("ScaleTo without Of: error %v, want one asking for Of", err)
	}
	if _, err := ScaleTo(1).Of("nope").Match(run()); err == nil {
		t.Error("ScaleTo of an unknown revision: no error, want one")
	}
}
