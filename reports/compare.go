package reports

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// Comparison is how run B differs from run A, metric by metric, with significance tests
// where the metric is a sample: Mann-Whitney U on latency distributions, a two-proportion z
// test on error and cold-start rates.
type Comparison struct {
	A RunHeader `json:"a"`
	B RunHeader `json:"b"`
	// Notes flag what makes the runs less comparable (different scenarios, seeds or modes).
	Notes []string        `json:"notes,omitempty"`
	Rows  []ComparisonRow `json:"rows"`
	// Divergence is the first autoscaler tick whose desired scale differs; nil when the
	// decisions agree (or neither run recorded any).
	Divergence *Divergence `json:"divergence,omitempty"`
	// Ticks is how many decision ticks were compared.
	Ticks int `json:"ticks"`
}

// RunHeader names one side of a comparison.
type RunHeader struct {
	Label    string  `json:"label"` // e.g. the run directory
	Scenario string  `json:"scenario"`
	Seed     int64   `json:"seed"`
	Mode     string  `json:"mode"`
	Verdict  Verdict `json:"verdict"`
}

// ComparisonRow is one metric of both runs, already formatted.
type ComparisonRow struct {
	Metric string `json:"metric"`
	A      string `json:"a"`
	B      string `json:"b"`
	// Change is B relative to A: "+12.0ms (+8.1%)", "+2", "P(B>A)=0.62".
	Change string `json:"change,omitempty"`
	// PValue of the row's test, and the test's name; nil when the metric is not a sample.
	PValue *float64 `json:"pValue,omitempty"`
	Test   string   `json:"test,omitempty"`
}

// Divergence is where two runs' autoscaler decisions first part.
type Divergence struct {
	Revision string        `json:"revision"`
	Tick     int           `json:"tick"` // 1-based: the revision's Tick-th decision
	TimeA    time.Duration `json:"timeA"`
	TimeB    time.Duration `json:"timeB"`
	// DesiredA and DesiredB are the desired scales; -1 is also "the run has no such tick".
	DesiredA int32 `json:"desiredA"`
	DesiredB int32 `json:"desiredB"`
	MissingA bool  `json:"missingA,omitempty"`
	MissingB bool  `json:"missingB,omitempty"`
}

// Significance is the p-value below which Comparison's renderings flag a difference.
const Significance = 0.05

// Compare compares two runs; labelA and labelB name them in the output (e.g. directories).
func Compare(a, b *Run, labelA, labelB string) Comparison {
	sa, sb := Summarize(a), Summarize(b)
	c := Comparison{A: header(a, labelA), B: header(b, labelB)}
	if a.Scenario != b.Scenario {
		c.Notes = append(c.Notes, fmt.Sprintf("different scenarios: %s and %s", a.Scenario, b.Scenario))
	}
	if a.Mode != b.Mode {
		c.Notes = append(c.Notes, fmt.Sprintf("different modes: %s and %s", a.Mode, b.Mode))
	}
	if a.Seed != b.Seed {
		c.Notes = append(c.Notes, fmt.Sprintf("different seeds: %d and %d", a.Seed, b.Seed))
	}
	row := func(metric, va, vb, change string) {
		c.Rows = append(c.Rows, ComparisonRow{Metric: metric, A: va, B: vb, Change: change})
	}
	withTest := func(p float64, test string) {
		last := &c.Rows[len(c.Rows)-1]
		last.PValue, last.Test = &p, test
	}

	row("verdict", string(a.Verdict), string(b.Verdict), sameOr(a.Verdict == b.Verdict, "changed"))
	row("expectations met", metCount(a), metCount(b), "")
	row("requests", strconv.Itoa(sa.Requests), strconv.Itoa(sb.Requests), intChange(sa.Requests, sb.Requests))
	row("error rate", percent(sa.ErrorRate), percent(sb.ErrorRate), pointsChange(sa.ErrorRate, sb.ErrorRate))
	if sa.Requests > 0 && sb.Requests > 0 {
		withTest(twoProportionP(sa.Failed, sa.Requests, sb.Failed, sb.Requests), "two-proportion z")
	}
	row("throughput (req/s)", decimal(sa.Throughput, 1), decimal(sb.Throughput, 1), floatChange(sa.Throughput, sb.Throughput))

	la, lb := latencies(a, false), latencies(b, false)
	if len(la) > 0 && len(lb) > 0 {
		p, superiority := mannWhitney(la, lb)
		row("latency distribution", fmt.Sprintf("n=%d", len(la)), fmt.Sprintf("n=%d", len(lb)), "P(B slower)="+decimal(superiority, 3))
		withTest(p, "Mann-Whitney U")
	}
	row("latency p50", humanDuration(sa.Latency.P50), humanDuration(sb.Latency.P50), durationChange(sa.Latency.P50, sb.Latency.P50))
	row("latency p95", humanDuration(sa.Latency.P95), humanDuration(sb.Latency.P95), durationChange(sa.Latency.P95, sb.Latency.P95))
	row("latency p99", humanDuration(sa.Latency.P99), humanDuration(sb.Latency.P99), durationChange(sa.Latency.P99, sb.Latency.P99))

	row("cold starts", strconv.Itoa(sa.ColdStarts), strconv.Itoa(sb.ColdStarts), intChange(sa.ColdStarts, sb.ColdStarts))
	if sa.Requests > 0 && sb.Requests > 0 {
		withTest(twoProportionP(sa.ColdStarts, sa.Requests, sb.ColdStarts, sb.Requests), "two-proportion z on the share of requests")
	}
	if ca, cb := latencies(a, true), latencies(b, true); len(ca) > 0 && len(cb) > 0 {
		p, superiority := mannWhitney(ca, cb)
		row("cold-start latency distribution", fmt.Sprintf("n=%d", len(ca)), fmt.Sprintf("n=%d", len(cb)), "P(B slower)="+decimal(superiority, 3))
		withTest(p, "Mann-Whitney U")
		row("cold-start p50", humanDuration(sa.ColdStartLatency.P50), humanDuration(sb.ColdStartLatency.P50), durationChange(sa.ColdStartLatency.P50, sb.ColdStartLatency.P50))
		row("cold-start p95", humanDuration(sa.ColdStartLatency.P95), humanDuration(sb.ColdStartLatency.P95), durationChange(sa.ColdStartLatency.P95, sb.ColdStartLatency.P95))
	} else {
		row("cold-start p50", latencyOrDash(sa.ColdStarts, sa.ColdStartLatency.P50), latencyOrDash(sb.ColdStarts, sb.ColdStartLatency.P50), "")
		row("cold-start p95", latencyOrDash(sa.ColdStarts, sa.ColdStartLatency.P95), latencyOrDash(sb.ColdStarts, sb.ColdStartLatency.P95), "")
	}

	row("pod-seconds", decimal(sa.PodSeconds, 1), decimal(sb.PodSeconds, 1), floatChange(sa.PodSeconds, sb.PodSeconds))
	row("max pods", itoa32(sa.MaxPods), itoa32(sb.MaxPods), intChange(int(sa.MaxPods), int(sb.MaxPods)))
	for _, name := range unionRevisions(&sa, &sb) {
		ra, rb := revisionOf(&sa, name), revisionOf(&sb, name)
		row("max pods "+name, itoa32(ra.MaxPods), itoa32(rb.MaxPods), intChange(int(ra.MaxPods), int(rb.MaxPods)))
	}
	row("SKS switches", strconv.Itoa(sa.SKSSwitches), strconv.Itoa(sb.SKSSwitches), intChange(sa.SKSSwitches, sb.SKSSwitches))

	c.Divergence, c.Ticks = divergence(a.Decisions, b.Decisions)
	return c
}

func header(r *Run, label string) RunHeader {
	return RunHeader{Label: label, Scenario: r.Scenario, Seed: r.Seed, Mode: r.Mode, Verdict: r.Verdict}
}

func metCount(r *Run) string {
	met := 0
	for _, e := range r.Expectations {
		if e.Passed {
			met++
		}
	}
	return fmt.Sprintf("%d/%d", met, len(r.Expectations))
}

func sameOr(same bool, otherwise string) string {
	if same {
		return "="
	}
	return otherwise
}

func intChange(a, b int) string {
	if a == b {
		return "="
	}
	return fmt.Sprintf("%+d", b-a) + relative(float64(a), float64(b))
}

func floatChange(a, b float64) string {
	if decimal(a, 1) == decimal(b, 1) {
		return "="
	}
	return signed(decimal(b-a, 1)) + relative(a, b)
}

func pointsChange(a, b float64) string {
	if percent(a) == percent(b) {
		return "="
	}
	return signed(decimal(100*(b-a), 2)) + " pp"
}

func durationChange(a, b time.Duration) string {
	if humanDuration(a) == humanDuration(b) {
		return "="
	}
	d := humanDuration(b - a)
	if b > a {
		d = "+" + d
	}
	return d + relative(float64(a), float64(b))
}

// relative is " (+12.3%)", or "" when a is zero.
func relative(a, b float64) string {
	if a == 0 {
		return ""
	}
	return " (" + signed(decimal(100*(b-a)/a, 1)) + "%)"
}

func signed(s string) string {
	if strings.HasPrefix(s, "-") || s == "0" {
		return s
	}
	return "+" + s
}

func unionRevisions(a, b *Stats) []string {
	var names []string
	for _, st := range []*Stats{a, b} {
		for _, rs := range st.Revisions {
			names = append(names, rs.Revision)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func revisionOf(st *Stats, name string) RevisionStats {
	for _, rs := range st.Revisions {
		if rs.Revision == name {
			return rs
		}
	}
	return RevisionStats{Revision: name}
}

func latencies(r *Run, coldOnly bool) []float64 {
	out := make([]float64, 0, len(r.Requests))
	for i := range r.Requests {
		if q := &r.Requests[i]; !coldOnly || q.ColdStart {
			out = append(out, float64(q.Result.Latency))
		}
	}
	return out
}

// mannWhitney tests whether a and b come from the same distribution (two-sided Mann-Whitney U,
// normal approximation with tie and continuity corrections). superiority is P(B > A) + ½P(B = A):
// 0.5 means neither tends to be larger.
func mannWhitney(a, b []float64) (p, superiority float64) {
	type obs struct {
		v   float64
		inA bool
	}
	all := make([]obs, 0, len(a)+len(b))
	for _, v := range a {
		all = append(all, obs{v, true})
	}
	for _, v := range b {
		all = append(all, obs{v, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	n := float64(len(all))
	na, nb := float64(len(a)), float64(len(b))
	var rankSumA, tieTerm float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		rank := float64(i+j+1) / 2 // average of the 1-based ranks i+1..j
		for k := i; k < j; k++ {
			if all[k].inA {
				rankSumA += rank
			}
		}
		t := float64(j - i)
		tieTerm += t*t*t - t
		i = j
	}
	uA := rankSumA - na*(na+1)/2
	superiority = 1 - uA/(na*nb)
	mean := na * nb / 2
	variance := na * nb / 12 * ((n + 1) - tieTerm/(n*(n-1)))
	if variance <= 0 || math.IsNaN(variance) {
		return 1, superiority
	}
	z := math.Max(0, math.Abs(uA-mean)-0.5) / math.Sqrt(variance)
	return math.Min(1, 2*distuv.UnitNormal.Survival(z)), superiority
}

// twoProportionP is the two-sided p-value of a pooled two-proportion z test of xa/na = xb/nb.
func twoProportionP(xa, na, xb, nb int) float64 {
	pa, pb := float64(xa)/float64(na), float64(xb)/float64(nb)
	pooled := float64(xa+xb) / float64(na+nb)
	se := math.Sqrt(pooled * (1 - pooled) * (1/float64(na) + 1/float64(nb)))
	if se == 0 {
		return 1
	}
	return math.Min(1, 2*distuv.UnitNormal.Survival(math.Abs(pa-pb)/se))
}

// divergence walks each revision's decisions tick by tick (live runs tick at slightly
// different instants, so ticks are matched by index, not time) and returns the earliest tick
// where the desired scale differs, and how many ticks were compared.
func divergence(a, b []Decision) (*Divergence, int) {
	perRev := func(ds []Decision) map[string][]Decision {
		out := map[string][]Decision{}
		for _, d := range ds {
			out[d.Revision] = append(out[d.Revision], d)
		}
		for _, s := range out {
			sort.SliceStable(s, func(i, j int) bool { return s[i].Time < s[j].Time })
		}
		return out
	}
	ra, rb := perRev(a), perRev(b)
	names := map[string]bool{}
	for n := range ra {
		names[n] = true
	}
	for n := range rb {
		names[n] = true
	}
	var first *Divergence
	ticks := 0
	for _, name := range slices.Sorted(maps.Keys(names)) {
		da, db := ra[name], rb[name]
		for i := 0; i < max(len(da), len(db)); i++ {
			ticks++
			d := Divergence{Revision: name, Tick: i + 1, DesiredA: -1, DesiredB: -1}
			if i < len(da) {
				d.TimeA, d.DesiredA = da[i].Time, da[i].DesiredPods
			} else {
				d.MissingA = true
			}
			if i < len(db) {
				d.TimeB, d.DesiredB = db[i].Time, db[i].DesiredPods
			} else {
				d.MissingB = true
			}
			if !d.MissingA && !d.MissingB && d.DesiredA == d.DesiredB {
				continue
			}
			if first == nil || d.when() < first.when() {
				first = &d
			}
			break
		}
	}
	return first, ticks
}

// when orders divergences: by the earlier of the two runs' tick times.
func (d *Divergence) when() time.Duration {
	switch {
	case d.MissingA:
		return d.TimeB
	case d.MissingB:
		return d.TimeA
	}
	return min(d.TimeA, d.TimeB)
}

// String says where the decisions part: "hello-00001 tick 7 (6s / 6.001s): desired 3 vs 4".
func (d *Divergence) String() string {
	switch {
	case d.MissingA:
		return fmt.Sprintf("%s tick %d (%s): only B decided (desired %d)", d.Revision, d.Tick, offsetLabel(d.TimeB), d.DesiredB)
	case d.MissingB:
		return fmt.Sprintf("%s tick %d (%s): only A decided (desired %d)", d.Revision, d.Tick, offsetLabel(d.TimeA), d.DesiredA)
	}
	at := offsetLabel(d.TimeA)
	if d.TimeB != d.TimeA {
		at += " / " + offsetLabel(d.TimeB)
	}
	return fmt.Sprintf("%s tick %d (%s): desired %d vs %d", d.Revision, d.Tick, at, d.DesiredA, d.DesiredB)
}

// decisionsLine summarizes the decision comparison for the table.
func (c *Comparison) decisionsLine() string {
	switch {
	case c.Ticks == 0:
		return "no decisions recorded"
	case c.Divergence == nil:
		return fmt.Sprintf("identical over %d ticks", c.Ticks)
	}
	return "diverge at " + c.Divergence.String()
}

// significance renders a row's test result: "p=0.012 * (Mann-Whitney U)".
func (r *ComparisonRow) significance() string {
	if r.PValue == nil {
		return ""
	}
	s := "p=" + pValue(*r.PValue)
	if *r.PValue < 0.001 {
		s = "p" + pValue(*r.PValue)
	}
	if *r.PValue < Significance {
		s += " *"
	}
	return s + " (" + r.Test + ")"
}

// WriteText renders the comparison as an aligned plain-text table.
func (c *Comparison) WriteText(w io.Writer) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "\tA\tB\n")
	fmt.Fprintf(tw, "run\t%s\t%s\n", c.A.Label, c.B.Label)
	fmt.Fprintf(tw, "scenario\t%s\t%s\n", c.A.Scenario, c.B.Scenario)
	fmt.Fprintf(tw, "seed, mode\t%d, %s\t%d, %s\n", c.A.Seed, c.A.Mode, c.B.Seed, c.B.Mode)
	_ = tw.Flush()
	buf.WriteString("\n")
	tw = tabwriter.NewWriter(&buf, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "METRIC\tA\tB\tCHANGE\tSIGNIFICANCE\n")
	for i := range c.Rows {
		r := &c.Rows[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Metric, r.A, r.B, r.Change, r.significance())
	}
	_ = tw.Flush() // into a bytes.Buffer: cannot fail
	fmt.Fprintf(&buf, "\ndecisions: %s\n", c.decisionsLine())
	for line := range strings.Lines(buf.String()) {
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	return c.writeFootnotes(w, "note: ", "*")
}

// WriteMarkdown renders the comparison as a Markdown table (e.g. for a CI step summary).
func (c *Comparison) WriteMarkdown(w io.Writer) error {
	fmt.Fprintf(w, "## Comparison: %s vs %s\n\n", mdCell(c.A.Label), mdCell(c.B.Label))
	fmt.Fprintf(w, "| Metric | A | B | Change | Significance |\n| --- | ---: | ---: | ---: | --- |\n")
	fmt.Fprintf(w, "| scenario | %s | %s | | |\n", mdCell(c.A.Scenario), mdCell(c.B.Scenario))
	for i := range c.Rows {
		r := &c.Rows[i]
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", mdCell(r.Metric), mdCell(r.A), mdCell(r.B), mdCell(r.Change), mdCell(r.significance()))
	}
	fmt.Fprintf(w, "| decisions | | | %s | |\n\n", mdCell(c.decisionsLine()))
	return c.writeFootnotes(w, "> **Note:** ", `\*`)
}

// writeFootnotes writes the notes, each after notePrefix, and what the significance star means.
func (c *Comparison) writeFootnotes(w io.Writer, notePrefix, star string) error {
	for _, n := range c.Notes {
		if _, err := fmt.Fprintf(w, "%s%s\n", notePrefix, n); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "%s p < %s: the difference is unlikely to be chance.\n", star, decimal(Significance, 3))
	return err
}
