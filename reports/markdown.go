package reports

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// maxMarkdownActions bounds the actions listed in report.md (a step summary is at most 1 MiB).
const maxMarkdownActions = 50

// writeMarkdown renders report.md: verdict, expectations, key numbers, revisions, accounting,
// status codes and actions, as GitHub-flavoured Markdown for a CI step summary.
func writeMarkdown(w io.Writer, r *Run, st *Stats) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	p("## %s · %s\n\n", verdictMark(r.Verdict), mdCell(r.Scenario))
	p("%s\n\n", mdCell(runLine(r)))
	if r.Error != "" {
		p("> **Error:** %s\n\n", mdCell(r.Error))
	}

	p("### Expectations\n\n")
	if len(r.Expectations) == 0 {
		p("_No expectations._\n\n")
	} else {
		passed := 0
		for _, e := range r.Expectations {
			if e.Passed {
				passed++
			}
		}
		p("%d of %d met.\n\n", passed, len(r.Expectations))
		p("| | Expected | Observed | Detail |\n| :-: | --- | --- | --- |\n")
		for _, e := range r.Expectations {
			p("| %s | %s | %s | %s |\n", checkMark(e.Passed), mdCell(expectationTitle(e)), mdCell(e.Observed), mdCell(expectationDetail(e)))
		}
		p("\n")
	}

	p("### Key numbers\n\n| | |\n| --- | ---: |\n")
	for _, kv := range keyNumbers(st) {
		p("| %s | %s |\n", kv[0], mdCell(kv[1]))
	}
	p("\n")

	if len(st.Revisions) > 0 {
		p("### Revisions\n\n")
		p("| Revision | Requests | Share | Cold starts | Cold p50 | Cold p95 | Max desired | Max ready | Max pods | Pod-seconds | SKS switches | Panics |\n")
		p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, rs := range st.Revisions {
			p("| %s | %d | %s | %d | %s | %s | %d | %d | %d | %s | %d | %d |\n", mdCell(rs.Revision), rs.Requests,
				percent(rs.Share), rs.ColdStarts, latencyOrDash(rs.ColdStarts, rs.ColdStartLatency.P50),
				latencyOrDash(rs.ColdStarts, rs.ColdStartLatency.P95), rs.MaxDesired, rs.MaxReady, rs.MaxPods,
				decimal(rs.PodSeconds, 1), rs.SKSSwitches, rs.PanicEntries)
		}
		p("\n")
	}

	p("### Accounting\n\n%s %s\n\n", checkMark(r.Accounting.Unaccounted == 0), mdCell(accountingLine(r.Accounting)))

	if len(st.StatusCodes) > 0 {
		p("### Status codes\n\n| Code | Requests |\n| --- | ---: |\n")
		for _, c := range st.StatusCodes {
			p("| %s | %d |\n", statusLabel(c.Code), c.Count)
		}
		p("\n")
	}
	if len(st.TopErrors) > 0 {
		p("### Most frequent errors\n\n| Error | Requests |\n| --- | ---: |\n")
		for _, e := range st.TopErrors {
			p("| %s | %d |\n", mdCell(e.Error), e.Count)
		}
		p("\n")
	}

	if actions := eventsOfKind(r.Events, "action"); len(actions) > 0 {
		p("### Actions\n\n| Time | Subject | What |\n| ---: | --- | --- |\n")
		for i, e := range actions {
			if i == maxMarkdownActions {
				p("\n_%d more in %s._\n", len(actions)-maxMarkdownActions, EventsFile)
				break
			}
			p("| %s | %s | %s |\n", offsetLabel(e.Time), mdCell(e.Subject), mdCell(e.Message))
		}
		p("\n")
	}
	p("<sub>servingsim report (format %s) · plots in %s · raw data in %s (vegeta), %s, %s, %s</sub>\n",
		FormatVersion, HTMLFile, ResultsFile, RequestsFile, TimeseriesFile, DecisionsFile)
	return bw.Flush()
}

// runLine describes a run in one line: "seed 7 · live mode · 1m0s from 2026-01-02T03:04:05Z · file".
func runLine(r *Run) string {
	parts := []string{"seed " + strconv.FormatInt(r.Seed, 10)}
	if r.Mode != "" {
		parts = append(parts, r.Mode+" mode")
	}
	span := humanDuration(r.Duration)
	if !r.Started.IsZero() {
		span += " from " + r.Started.UTC().Format(time.RFC3339)
	}
	parts = append(parts, span)
	if r.File != "" {
		parts = append(parts, r.File)
	}
	return strings.Join(parts, " · ")
}

// expectationTitle is what an expectation expected, falling back to its kind.
func expectationTitle(e ExpectationResult) string {
	if e.Description != "" {
		return e.Description
	}
	return e.Kind
}

// expectationDetail joins an expectation's detail and statistics.
func expectationDetail(e ExpectationResult) string {
	parts := []string{}
	if e.Detail != "" {
		parts = append(parts, e.Detail)
	}
	if s := statistics(e); s != "" {
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// keyNumbers are the rows of the key-numbers table, in a fixed order.
func keyNumbers(st *Stats) [][2]string {
	return [][2]string{
		{"Requests", strconv.Itoa(st.Requests)},
		{"Failed requests", strconv.Itoa(st.Failed)},
		{"Error rate", percent(st.ErrorRate)},
		{"Throughput", decimal(st.Throughput, 1) + " req/s"},
		{"Latency p50", latencyOrDash(st.Requests, st.Latency.P50)},
		{"Latency p95", latencyOrDash(st.Requests, st.Latency.P95)},
		{"Latency p99", latencyOrDash(st.Requests, st.Latency.P99)},
		{"Cold starts", strconv.Itoa(st.ColdStarts)},
		{"Cold-start p50", latencyOrDash(st.ColdStarts, st.ColdStartLatency.P50)},
		{"Cold-start p95", latencyOrDash(st.ColdStarts, st.ColdStartLatency.P95)},
		{"Max pods (all revisions)", strconv.Itoa(int(st.MaxPods))},
		{"Pod-seconds", decimal(st.PodSeconds, 1)},
		{"SKS mode switches", strconv.Itoa(st.SKSSwitches)},
	}
}

// latencyOrDash renders a latency, or "–" when nothing was measured.
func latencyOrDash(n int, d time.Duration) string {
	if n == 0 {
		return "–"
	}
	return humanDuration(d)
}

func accountingLine(a Accounting) string {
	s := fmt.Sprintf("%d sent = %d responses + %d errors", a.Sent, a.Responses, a.Errors)
	if a.Unaccounted != 0 {
		return s + fmt.Sprintf(", %d unaccounted", a.Unaccounted)
	}
	return s + ": every request accounted for"
}

func statusLabel(code uint16) string {
	if code == 0 {
		return "0 (transport error or timeout)"
	}
	return strconv.Itoa(int(code))
}

func eventsOfKind(events []Event, kind string) []Event {
	var out []Event
	for _, e := range events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// mdCell makes text safe inside a Markdown table cell: pipes escaped, no raw HTML, one line.
var mdCellReplacer = strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "\r\n", "<br>", "\n", "<br>")

func mdCell(s string) string { return mdCellReplacer.Replace(s) }
