package queueproxy

import (
	"context"
	"errors"
	"testing"
	"time"
)

type breakerStep struct {
	op                string // enter, leave, abandon (the oldest queued ticket)
	want              string // for enter: admitted, queued or full
	inFlight, pending int
}

// TestBreaker_KnativeSlots walks the breaker through enter/leave/abandon steps and checks its
// counts after each (§5 Breaker: CC in flight, 10·CC queued, then refusal).
func TestBreaker_KnativeSlots(t *testing.T) {
	cc1 := []breakerStep{{op: "enter", want: "admitted", inFlight: 1, pending: 1}}
	for i := range 10 {
		cc1 = append(cc1, breakerStep{op: "enter", want: "queued", inFlight: 1, pending: 2 + i})
	}
	cc1 = append(cc1,
		breakerStep{op: "enter", want: "full", inFlight: 1, pending: 11},
		breakerStep{op: "leave", inFlight: 1, pending: 10}, // the slot goes to the oldest queued
		breakerStep{op: "enter", want: "queued", inFlight: 1, pending: 11},
		breakerStep{op: "enter", want: "full", inFlight: 1, pending: 11},
	)
	cases := []struct {
		name  string
		cc    int
		steps []breakerStep
	}{{
		name: "cc=1 admits one, queues ten, refuses the twelfth", cc: 1, steps: cc1,
	}, {
		name: "cc=2 frees a slot when nobody waits",
		cc:   2,
		steps: []breakerStep{
			{op: "enter", want: "admitted", inFlight: 1, pending: 1},
			{op: "enter", want: "admitted", inFlight: 2, pending: 2},
			{op: "leave", inFlight: 1, pending: 1},
			{op: "enter", want: "admitted", inFlight: 2, pending: 2},
			{op: "enter", want: "queued", inFlight: 2, pending: 3},
			{op: "abandon", inFlight: 2, pending: 2},
			{op: "leave", inFlight: 1, pending: 1},
			{op: "leave", inFlight: 0, pending: 0},
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBreaker(tc.cc)
			if got, want := b.Capacity(), tc.cc; got != want {
				t.Fatalf("Capacity() = %d, want %d", got, want)
			}
			var queued []*ticket
			for i, s := range tc.steps {
				switch s.op {
				case "enter":
					tk, err := b.enter()
					got := "admitted"
					switch {
					case errors.Is(err, ErrRequestQueueFull):
						got = "full"
					case err != nil:
						t.Fatalf("step %d: enter() error = %v", i, err)
					case tk != nil:
						got = "queued"
						queued = append(queued, tk)
					}
					if got != s.want {
						t.Fatalf("step %d: enter() = %s, want %s", i, got, s.want)
					}
				case "leave":
					b.leave()
					if len(queued) > 0 {
						select {
						case <-queued[0].ready:
							queued = queued[1:]
						default:
							t.Fatalf("step %d: leave() did not hand the slot to the oldest queued request", i)
						}
					}
				case "abandon":
					if !b.abandon(queued[0]) {
						t.Fatalf("step %d: abandon() = false, want true for a queued ticket", i)
					}
					queued = queued[1:]
				}
				if got := b.InFlight(); got != s.inFlight {
					t.Errorf("step %d (%s): InFlight() = %d, want %d", i, s.op, got, s.inFlight)
				}
				if got := b.Pending(); got != s.pending {
					t.Errorf("step %d (%s): Pending() = %d, want %d", i, s.op, got, s.pending)
				}
			}
		})
	}
}

// §5 Breaker: with CC=0 there is no breaker and no limit.
func TestBreaker_NoneForZeroConcurrency(t *testing.T) {
	b := NewBreaker(0)
	if b != nil {
		t.Fatalf("NewBreaker(0) = %v, want nil", b)
	}
	ran := 0
	for range 1000 {
		if err := b.Maybe(context.Background(), func() { ran++ }); err != nil {
			t.Fatalf("nil breaker Maybe() error = %v", err)
		}
	}
	if ran != 1000 {
		t.Errorf("nil breaker ran %d thunks, want 1000", ran)
	}
}

// A request whose deadline passes while queued gets the context error and never runs; one
// granted a slot as it gives up releases it.
func TestBreaker_DeadlineWhileQueued(t *testing.T) {
	b := NewBreaker(1)
	hold, release := make(chan struct{}), make(chan struct{})
	go func() {
		_ = b.Maybe(context.Background(), func() { close(hold); <-release })
	}()
	<-hold
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	ran := false
	err := b.Maybe(ctx, func() { ran = true })
	if !errors.Is(err, context.DeadlineExceeded) || ran {
		t.Errorf("Maybe() with an expiring deadline = %v (ran %v), want DeadlineExceeded without running", err, ran)
	}
	if got := b.Pending(); got != 1 {
		t.Errorf("Pending() after the timeout = %d, want 1", got)
	}
	close(release)
	for b.Pending() != 0 {
		time.Sleep(time.Millisecond)
	}
	if err := b.Maybe(context.Background(), func() { ran = true }); err != nil || !ran {
		t.Errorf("Maybe() after release = %v (ran %v), want admitted", err, ran)
	}
}
