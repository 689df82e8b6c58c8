package queueproxy

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func ms(n int) time.Time { return epoch.Add(time.Duration(n) * time.Millisecond) }

// TestStats_TimeWeightedConcurrency checks §3.3.1: the average is the integral of concurrency
// over the window divided by its length; proxied requests count in the totals and apart.
func TestStats_TimeWeightedConcurrency(t *testing.T) {
	type ev struct {
		at      int // ms
		in      bool
		proxied bool
	}
	cases := []struct {
		name   string
		events []ev
		report int // ms
		want   Stat
		next   Stat // a second report one second later
	}{{
		name:   "two 500ms requests in one second give 1.0",
		events: []ev{{0, true, false}, {500, false, false}, {500, true, false}, {1000, false, false}},
		report: 1000,
		want:   Stat{AverageConcurrency: 1, RequestCount: 2, Window: time.Second},
		next:   Stat{Window: time.Second},
	}, {
		name:   "overlapping requests",
		events: []ev{{0, true, false}, {250, true, false}, {750, false, false}, {1000, false, false}},
		report: 1000,
		want:   Stat{AverageConcurrency: 1.5, RequestCount: 2, Window: time.Second},
		next:   Stat{Window: time.Second},
	}, {
		name:   "proxied requests are counted in the totals and apart",
		events: []ev{{0, true, true}, {500, true, false}, {1000, false, true}},
		report: 1000,
		want: Stat{AverageConcurrency: 1.5, AverageProxiedConcurrency: 1, RequestCount: 2, ProxiedRequestCount: 1,
			Window: time.Second},
		// the non-proxied request is still in flight: it carries into the next window, uncounted
		next: Stat{AverageConcurrency: 1, Window: time.Second},
	}, {
		name:   "empty window",
		report: 1000,
		want:   Stat{Window: time.Second},
		next:   Stat{Window: time.Second},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStats(epoch)
			for _, e := range tc.events {
				if e.in {
					s.In(ms(e.at), e.proxied)
				} else {
					s.Out(ms(e.at), e.proxied)
				}
			}
			opt := cmpopts.EquateApprox(0, 1e-9)
			if diff := cmp.Diff(tc.want, s.Report(ms(tc.report)), opt); diff != "" {
				t.Errorf("Report(%dms) (-want +got):\n%s", tc.report, diff)
			}
			if diff := cmp.Diff(tc.next, s.Report(ms(tc.report+1000)), opt); diff != "" {
				t.Errorf("Report(%dms) (-want +got):\n%s", tc.report+1000, diff)
			}
		})
	}
}

func TestStats_ZeroLengthWindow(t *testing.T) {
	s := NewStats(epoch)
	s.In(epoch, false)
	if got := s.Report(epoch); got.AverageConcurrency != 0 || got.RequestCount != 1 {
		t.Errorf("Report(start) = %+v, want average 0 (no time passed) and 1 request", got)
	}
}

// Stats is StatsCore on wall-clock times: random arrivals, departures and reports through both
// (the core on offsets from another epoch) give bit-identical stats; the virtual-time engine
// relies on it to report what the live queue-proxy would.
func TestStatsCore_BitIdenticalToStats(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	live := NewStats(epoch)
	const offset = 17*time.Hour + 3*time.Nanosecond // the core's epoch: any fixed time
	core := NewStatsCore(offset)
	now := time.Duration(0)
	var inFlight []bool // proxied flags of the requests in flight
	reports := 0
	for range 20000 {
		now += time.Duration(r.IntN(int(1500 * time.Millisecond)))
		switch op := r.IntN(10); {
		case op < 4:
			proxied := r.IntN(2) == 0
			live.In(epoch.Add(now), proxied)
			core.In(offset+now, proxied)
			inFlight = append(inFlight, proxied)
		case op < 8 && len(inFlight) > 0:
			i := r.IntN(len(inFlight))
			proxied := inFlight[i]
			inFlight = append(inFlight[:i], inFlight[i+1:]...)
			live.Out(epoch.Add(now), proxied)
			core.Out(offset+now, proxied)
		default:
			if want, got := live.Report(epoch.Add(now)), core.Report(offset+now); got != want {
				t.Fatalf("report %d at %s: StatsCore %+v, Stats %+v", reports, now, got, want)
			}
			if core.Concurrency() != len(inFlight) || live.Concurrency() != len(inFlight) {
				t.Fatalf("concurrency: core %d, stats %d, want %d", core.Concurrency(), live.Concurrency(), len(inFlight))
			}
			reports++
		}
	}
	if reports < 1000 {
		t.Fatalf("only %d reports compared", reports)
	}
}

// seconds, the hot path's shortcut, is exactly Duration.Seconds for every positive duration.
func TestSeconds_EqualsDurationSeconds(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, d := range []time.Duration{1, time.Second - 1, time.Second, time.Second + 1, 1<<62 + 12345} {
		if got, want := seconds(d), d.Seconds(); got != want {
			t.Errorf("seconds(%d) = %v, want %v", d, got, want)
		}
	}
	for range 100000 {
		d := time.Duration(r.Int64N(int64(3 * time.Second)))
		if got, want := seconds(d), d.Seconds(); got != want {
			t.Fatalf("seconds(%d) = %v, want %v", d, got, want)
		}
	}
}
