package activator

import (
	"context"
	"errors"
	"testing"
	"time"
)

// acquireAsync starts Acquire in a goroutine; the result arrives on the channel.
func acquireAsync(ctx context.Context, b *Breaker) <-chan error {
	c := make(chan error, 1)
	go func() { c <- b.Acquire(ctx) }()
	return c
}

func waitWaiting(t *testing.T, b *Breaker, n int) {
	t.Helper()
	eventually(t, "breaker queue", func() bool { return b.State().Waiting == n })
}

func TestBreaker_CapacityZeroHoldsUntilRaised_Section4BufferingAtZero(t *testing.T) {
	b := NewBreaker(10, 0)
	first := acquireAsync(context.Background(), b)
	waitWaiting(t, b, 1)
	second := acquireAsync(context.Background(), b)
	waitWaiting(t, b, 2)
	if b.TryAcquire() {
		t.Fatal("TryAcquire at capacity 0 = true, want false")
	}
	b.SetCapacity(1)
	if err := <-first; err != nil {
		t.Fatalf("first Acquire = %v, want nil after SetCapacity(1)", err)
	}
	select {
	case err := <-second:
		t.Fatalf("second Acquire = %v with capacity 1 taken, want it still queued", err)
	case <-time.After(10 * time.Millisecond):
	}
	b.Release()
	if err := <-second; err != nil {
		t.Fatalf("second Acquire = %v, want nil after Release", err)
	}
	if s := b.State(); s.InFlight != 1 || s.Waiting != 0 {
		t.Errorf("State = %+v, want 1 in flight, none waiting", s)
	}
}

func TestBreaker_QueueFull(t *testing.T) {
	b := NewBreaker(2, 1)
	if err := b.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w1, w2 := acquireAsync(ctx, b), acquireAsync(ctx, b)
	waitWaiting(t, b, 2)
	if err := b.Acquire(ctx); !errors.Is(err, ErrRequestQueueFull) {
		t.Errorf("Acquire with full queue = %v, want ErrRequestQueueFull", err)
	}
	if ErrRequestQueueFull.Error() != "pending request queue full" {
		t.Errorf("ErrRequestQueueFull = %q", ErrRequestQueueFull)
	}
	cancel()
	for _, w := range []<-chan error{w1, w2} {
		if err := <-w; !errors.Is(err, context.Canceled) {
			t.Errorf("queued Acquire after cancel = %v, want context.Canceled", err)
		}
	}
	if s := b.State(); s.InFlight != 1 || s.Waiting != 0 {
		t.Errorf("State = %+v, want 1 in flight, none waiting", s)
	}
}

func TestBreaker_FIFOAndCapacityCut(t *testing.T) {
	b := NewBreaker(10, 2)
	for range 2 {
		if !b.TryAcquire() {
			t.Fatal("TryAcquire below capacity = false")
		}
	}
	var order []int
	done := make(chan int, 3)
	for i := range 3 {
		c := acquireAsync(context.Background(), b)
		waitWaiting(t, b, i+1)
		go func() {
			if err := <-c; err != nil {
				t.Errorf("Acquire = %v", err)
			}
			done <- i
		}()
	}
	b.SetCapacity(1) // in flight (2) above capacity: nobody new gets in until two leave
	b.Release()
	select {
	case i := <-done:
		t.Fatalf("waiter %d admitted with 1 in flight at capacity 1", i)
	case <-time.After(10 * time.Millisecond):
	}
	for range 3 {
		b.Release()
		order = append(order, <-done)
	}
	if order[0] != 0 || order[1] != 1 || order[2] != 2 {
		t.Errorf("admission order = %v, want [0 1 2] (FIFO)", order)
	}
}

// eventually polls cond for up to 5s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
