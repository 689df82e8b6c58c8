package activator

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/servingsim/servingsim/stack/autoscaler"
)

var (
	t0     = time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	revA   = types.NamespacedName{Namespace: "ns", Name: "hello-00001"}
	revB   = types.NamespacedName{Namespace: "ns", Name: "hello-00002"}
	second = time.Second
)

func at(d time.Duration) time.Time { return t0.Add(d) }

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestConcurrencyReporter_FirstRequestStat_Section3_3_3(t *testing.T) {
	c := NewConcurrencyReporter("activator-0")
	st, first := c.In(at(0), revA)
	want := autoscaler.Stat{PodName: "activator-0", AverageConcurrency: 1, RequestCount: 1}
	if !first || st != want {
		t.Fatalf("In(first request) = %+v, %v, want %+v, true", st, first, want)
	}
	if _, first := c.In(at(100*time.Millisecond), revA); first {
		t.Error("In(second request, same period) = first, want not")
	}
	if _, first := c.In(at(100*time.Millisecond), revB); !first {
		t.Error("In(first request of another revision) = not first, want first")
	}
}

func TestConcurrencyReporter_PeriodicStatSubtractsFirstRequest_Section3_3_3(t *testing.T) {
	for _, tc := range []struct {
		name      string
		requests  [][2]time.Duration // in, out
		wantConc  float64
		wantCount float64
	}{
		// Two back-to-back 500ms requests: average 1.0 and count 2, minus the immediate stat.
		{"two sequential", [][2]time.Duration{{0, 500 * time.Millisecond}, {500 * time.Millisecond, second}}, 0, 1},
		// Three requests for the whole second: 3 − 1 and 3 − 1.
		{"three concurrent", [][2]time.Duration{{0, second}, {0, second}, {0, second}}, 2, 2},
		// One half-second request: 0.5 − 1 is floored at 0.
		{"floored at zero", [][2]time.Duration{{0, 500 * time.Millisecond}}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConcurrencyReporter("activator-0")
			type ev struct {
				at time.Duration
				in bool
			}
			var evs []ev
			for _, r := range tc.requests {
				evs = append(evs, ev{r[0], true}, ev{r[1], false})
			}
			// in-order replay: all ins at a time before outs at the same time
			for _, e := range evs {
				if e.in {
					c.In(at(e.at), revA)
				}
			}
			for _, e := range evs {
				if !e.in {
					c.Out(at(e.at), revA)
				}
			}
			got := c.Report(at(second))
			if len(got) != 1 || got[0].Revision != revA {
				t.Fatalf("Report = %+v, want one stat for %s", got, revA)
			}
			if st := got[0].Stat; !near(st.AverageConcurrency, tc.wantConc) || !near(st.RequestCount, tc.wantCount) || st.PodName != "activator-0" {
				t.Errorf("Report stat = %+v, want concurrency %v count %v", st, tc.wantConc, tc.wantCount)
			}
		})
	}
}

func TestConcurrencyReporter_AdjustsOnlyOncePerPeriod_Section3_3_3(t *testing.T) {
	c := NewConcurrencyReporter("a")
	c.In(at(0), revA) // in flight across periods
	c.Report(at(second))
	got := c.Report(at(2 * second))
	if st := got[0].Stat; !near(st.AverageConcurrency, 1) || st.RequestCount != 0 {
		t.Errorf("second period = %+v, want concurrency 1 (no adjustment), count 0", st)
	}
	if _, first := c.In(at(2*second+1), revA); first {
		t.Error("a revision with a request in flight was forgotten: first-request stat sent again")
	}
}

func TestConcurrencyReporter_IdleRevisionForgotten_Section3_3_3(t *testing.T) {
	c := NewConcurrencyReporter("a")
	c.In(at(0), revA)
	c.Out(at(100*time.Millisecond), revA)
	c.Report(at(second))
	got := c.Report(at(2 * second)) // idle period: a zero stat, then forgotten
	if len(got) != 1 || got[0].Stat.AverageConcurrency != 0 || got[0].Stat.RequestCount != 0 {
		t.Fatalf("idle period Report = %+v, want one zero stat", got)
	}
	if got := c.Report(at(3 * second)); len(got) != 0 {
		t.Errorf("Report after an idle period = %+v, want none", got)
	}
	if _, first := c.In(at(3*second+1), revA); !first {
		t.Error("first request after an idle period: no immediate stat, want one")
	}
}

func TestConcurrencyReporter_SortedByRevision(t *testing.T) {
	c := NewConcurrencyReporter("a")
	c.In(at(0), revB)
	c.In(at(0), revA)
	got := c.Report(at(second))
	if len(got) != 2 || got[0].Revision != revA || got[1].Revision != revB {
		t.Errorf("Report order = %+v, want %s then %s", got, revA, revB)
	}
}

// ConcurrencyReporter is RevisionStats per revision on wall-clock times: random arrivals,
// departures and periods through both (the cores on offsets from one epoch, an entry started
// afresh where the reporter forgot the revision) give bit-identical stats; the virtual-time
// engine relies on it to report what the live activator would.
func TestRevisionStats_BitIdenticalToConcurrencyReporter_Section3_3_3(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	live := NewConcurrencyReporter("activator-0")
	revs := []types.NamespacedName{revB, revA, {Namespace: "a", Name: "z"}}
	cores := make([]*RevisionStats, len(revs)) // nil: not held
	inFlight := make([]int, len(revs))
	now, periods, immediate := time.Duration(0), 0, 0
	for range 30000 {
		now += time.Duration(r.IntN(int(300 * time.Millisecond)))
		k := r.IntN(len(revs))
		switch op := r.IntN(20); {
		case op < 7:
			got, gotFirst := live.In(at(now), revs[k])
			if wantFirst := cores[k] == nil; gotFirst != wantFirst || gotFirst && got != FirstRequestStat("activator-0") {
				t.Fatalf("In at %s for %s = %+v, %v; want first %v", now, revs[k], got, gotFirst, wantFirst)
			}
			if gotFirst {
				c := NewRevisionStats(now)
				cores[k] = &c
				immediate++
			}
			cores[k].In(now)
			inFlight[k]++
		case op < 17 && inFlight[k] > 0:
			live.Out(at(now), revs[k])
			cores[k].Out(now)
			inFlight[k]--
		case op >= 17:
			var want []KeyedStat
			for i, c := range cores {
				if c == nil {
					continue
				}
				st, idle := c.Report(now, "activator-0")
				if idle {
					cores[i] = nil
				}
				want = append(want, KeyedStat{Revision: revs[i], Stat: st})
			}
			slices.SortFunc(want, compareKeyedStats)
			if got := live.Report(at(now)); !slices.Equal(got, want) {
				t.Fatalf("period %d at %s: reporter %+v, RevisionStats %+v", periods, now, got, want)
			}
			periods++
		}
	}
	if periods < 500 || immediate < 100 {
		t.Fatalf("only %d periods and %d immediate stats compared", periods, immediate)
	}
}
