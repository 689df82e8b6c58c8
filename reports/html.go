package reports

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
)

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New(HTMLFile).Parse(htmlSource))

// maxHTMLEvents bounds the events table of report.html; events.csv has them all.
const maxHTMLEvents = 1000

// htmlPage is what report.html.tmpl renders: the Run plus everything pre-formatted, so the
// template holds layout only.
type htmlPage struct {
	Run          *Run
	Stats        *Stats
	Version      string
	VerdictClass string
	RunLine      string
	Passed       int
	Expectations []htmlExpectation
	KeyNumbers   [][2]string
	Figures      figures
	Revisions    [][]string
	AccountingOK bool
	Accounting   string
	StatusCodes  [][2]string
	Events       [][4]string
	EventsMore   int
}

type htmlExpectation struct {
	Mark, Kind, Title, Observed, Detail string
	Passed                              bool
}

func writeHTML(w io.Writer, r *Run, st *Stats) error {
	secs := perSecond(r)
	figs, err := plotFigures(r, st, secs)
	if err != nil {
		return err
	}
	page := htmlPage{
		Run: r, Stats: st, Version: FormatVersion, VerdictClass: verdictClass(r.Verdict), RunLine: runLine(r),
		KeyNumbers: keyNumbers(st), Figures: figs,
		AccountingOK: r.Accounting.Unaccounted == 0, Accounting: accountingLine(r.Accounting),
	}
	for _, e := range r.Expectations {
		if e.Passed {
			page.Passed++
		}
		page.Expectations = append(page.Expectations, htmlExpectation{
			Mark: checkMark(e.Passed), Kind: e.Kind, Title: expectationTitle(e), Observed: e.Observed,
			Detail: expectationDetail(e), Passed: e.Passed,
		})
	}
	for _, rs := range st.Revisions {
		page.Revisions = append(page.Revisions, []string{rs.Revision, strconv.Itoa(rs.Requests), percent(rs.Share),
			strconv.Itoa(rs.ColdStarts), latencyOrDash(rs.ColdStarts, rs.ColdStartLatency.P50),
			latencyOrDash(rs.ColdStarts, rs.ColdStartLatency.P95), itoa32(rs.MaxDesired), itoa32(rs.MaxReady),
			itoa32(rs.MaxPods), decimal(rs.PodSeconds, 1), strconv.Itoa(rs.SKSSwitches), strconv.Itoa(rs.PanicEntries)})
	}
	for _, c := range st.StatusCodes {
		page.StatusCodes = append(page.StatusCodes, [2]string{statusLabel(c.Code), strconv.Itoa(c.Count)})
	}
	for i, e := range r.Events {
		if i == maxHTMLEvents {
			page.EventsMore = len(r.Events) - maxHTMLEvents
			break
		}
		page.Events = append(page.Events, [4]string{offsetLabel(e.Time), e.Kind, e.Subject, e.Message})
	}
	if err := htmlTemplate.Execute(w, page); err != nil {
		return fmt.Errorf("render %s: %w", HTMLFile, err)
	}
	return nil
}

func verdictClass(v Verdict) string {
	switch v {
	case Pass, Fail:
		return string(v)
	}
	return "error"
}
