package reports_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/servingsim/servingsim/reports"
	"github.com/servingsim/servingsim/reports/reportstest"
)

func rowOf(t *testing.T, c reports.Comparison, metric string) reports.ComparisonRow {
	t.Helper()
	for _, r := range c.Rows {
		if r.Metric == metric {
			return r
		}
	}
	t.Fatalf("comparison has no %q row", metric)
	return reports.ComparisonRow{}
}

func TestCompare_SameRunHasNoDifferences(t *testing.T) {
	run := reportstest.SplitRollout(reportstest.Options{Requests: 1500})
	c := reports.Compare(run, reportstest.SplitRollout(reportstest.Options{Requests: 1500}), "a", "b")
	for _, r := range c.Rows {
		if r.Metric == "expectations met" {
			continue
		}
		if r.A != r.B || r.Change != "=" && !strings.HasPrefix(r.Change, "P(B slower)=0.5") {
			t.Errorf("row %q: A %q, B %q, change %q; want equal values", r.Metric, r.A, r.B, r.Change)
		}
		if r.PValue != nil && *r.PValue != 1 {
			t.Errorf("row %q: p = %v, want 1 for identical samples", r.Metric, *r.PValue)
		}
	}
	if c.Divergence != nil || c.Ticks != 75 || len(c.Notes) != 0 {
		t.Errorf("Compare(run, same run): divergence %v over %d ticks, notes %q; want none over 75 ticks, no notes", c.Divergence, c.Ticks, c.Notes)
	}
}

// TestCompare_SlowerRunWithMorePods: B's warm latency is doubled and hello-00001 may scale to
// 6 instead of 4: latency rows significant, decisions diverge where B's desired passes 4.
func TestCompare_SlowerRunWithMorePods(t *testing.T) {
	a := reportstest.SplitRollout(reportstest.Options{Requests: 3000})
	b := reportstest.SplitRollout(reportstest.Options{Requests: 3000, Seed: 2, Latency: 10 * time.Millisecond, MaxPods: 6})
	c := reports.Compare(a, b, "runs/a", "runs/b")

	lat := rowOf(t, c, "latency distribution")
	if lat.PValue == nil || *lat.PValue >= reports.Significance || !strings.HasPrefix(lat.Change, "P(B slower)=0.") || lat.Change <= "P(B slower)=0.6" {
		t.Errorf("latency distribution row = %+v, want B significantly slower", lat)
	}
	if p50 := rowOf(t, c, "latency p50"); !strings.HasPrefix(p50.Change, "+") {
		t.Errorf("latency p50 row = %+v, want an increase", p50)
	}
	if mp := rowOf(t, c, "max pods hello-00001"); mp.A != "4" || mp.B != "6" || mp.Change != "+2 (+50%)" {
		t.Errorf("max pods hello-00001 row = %+v, want 4 → 6, +2 (+50%%)", mp)
	}
	if er := rowOf(t, c, "error rate"); er.PValue == nil || *er.PValue < reports.Significance {
		t.Errorf("error rate row = %+v, want no significant difference (same error pattern)", er)
	}
	// hello-00001's desired is min(MaxPods, 1+t/8): 4 vs 5 from t=32s, its 17th tick (every 2s).
	if c.Divergence == nil || c.Divergence.String() != "hello-00001 tick 17 (32.25s): desired 4 vs 5" {
		t.Errorf("divergence = %v, want hello-00001 tick 17 (32.25s): desired 4 vs 5", c.Divergence)
	}
	if len(c.Notes) != 1 || c.Notes[0] != "different seeds: 1 and 2" {
		t.Errorf("notes = %q, want the seeds noted", c.Notes)
	}

	var text bytes.Buffer
	if err := c.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"run         runs/a         runs/b\n",
		"\nMETRIC ",
		"\nmax pods hello-00001             4        6        +2 (+50%)\n",
		"\nlatency distribution             n=3000   n=3000   P(B slower)=0.658  p<0.001 * (Mann-Whitney U)\n",
		"\nSKS switches                     4        4        =\n\ndecisions: diverge at hello-00001 tick 17 (32.25s): desired 4 vs 5\n",
		"\nnote: different seeds: 1 and 2\n* p < 0.05: the difference is unlikely to be chance.\n",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("WriteText() lacks %q:\n%s", want, text.String())
		}
	}
	if strings.Contains(text.String(), " \n") {
		t.Errorf("WriteText() has trailing blanks:\n%s", text.String())
	}
	var md bytes.Buffer
	if err := c.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Comparison: runs/a vs runs/b\n", "| max pods hello-00001 | 4 | 6 | +2 (+50%) |  |\n",
		"| latency distribution | n=3000 | n=3000 | P(B slower)=", "* (Mann-Whitney U) |\n", "> **Note:** different seeds: 1 and 2\n"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("WriteMarkdown() lacks %q:\n%s", want, md.String())
		}
	}
}
