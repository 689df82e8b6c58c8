package queueproxy

import (
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
