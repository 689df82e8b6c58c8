package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/servingsim/servingsim/scenarios"
)

// Not on a terminal (CI logs, pipes) every step is one plain line naming the phase, and while
// the load runs its elapsed and remaining time; no bar, no control characters.
func TestProgressView_PlainLinesWhenNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	v := newProgressView(&buf)
	if v.tty {
		t.Fatal("a bytes.Buffer counts as a terminal")
	}
	steps := []scenarios.Progress{
		{Scenario: "quickstart", Phase: scenarios.PhaseStarting, Message: "starting the stack (seed 1)", Since: 40 * time.Millisecond, Total: 30 * time.Second},
		{Scenario: "quickstart", Phase: scenarios.PhaseRunning, Message: "action: at 10s: update service hello", Since: 16 * time.Second, Elapsed: 10200 * time.Millisecond, Total: 30 * time.Second},
		{Scenario: "quickstart", Phase: scenarios.PhaseRunning, Message: "waiting", Since: 40 * time.Second, Elapsed: 31 * time.Second, Total: 30 * time.Second},
		{Scenario: "quickstart", Phase: scenarios.PhaseFinishing, Message: "verdict: pass", Since: 41250 * time.Millisecond, Elapsed: 31 * time.Second, Total: 30 * time.Second},
	}
	for _, p := range steps {
		v.Report(p)
	}
	v.Close()
	want := strings.Join([]string{
		"[    0s] quickstart starting: starting the stack (seed 1)",
		"[   16s] quickstart running 10s of 30s, 20s left: action: at 10s: update service hello",
		"[   40s] quickstart running 30s of 30s, 0s left: waiting",
		"[ 41.3s] quickstart finishing: verdict: pass",
	}, "\n") + "\n"
	if got := buf.String(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}

// On a terminal the steps still go out as lines, with the bar drawn below them and erased
// (ANSI clear line) before each line and when the view closes.
func TestProgressView_BarOnATerminal(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	v := &progressView{w: &buf, tty: true, now: func() time.Time { return now }}
	v.Report(scenarios.Progress{Scenario: "quickstart", Phase: scenarios.PhaseStarting, Message: "stack up", Total: 30 * time.Second})
	now = now.Add(5 * time.Second)
	v.Report(scenarios.Progress{Scenario: "quickstart", Phase: scenarios.PhaseRunning, Message: "services Ready", Since: 5 * time.Second, Total: 30 * time.Second})
	now = now.Add(12 * time.Second)
	v.mu.Lock()
	v.drawLocked()
	v.mu.Unlock()
	v.Close()
	out := buf.String()
	for _, want := range []string{
		"quickstart starting: stack up\n",
		"quickstart running 0s of 30s, 30s left: services Ready\n",
		"quickstart running 12s of 30s, 18s left", // the bar's description, redrawn by the ticker
		"40%",       // 12s of 30s
		"\033[2K\r", // erased before the next line and on Close
	} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, out)
		}
	}
	if v.bar != nil || v.stop != nil {
		t.Error("Close() left the bar or its ticker running")
	}
}
