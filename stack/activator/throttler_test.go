package activator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/servingsim/servingsim/stack/rng"
)

func ips(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("127.10.0.%d", i+1)
	}
	return out
}

func TestThrottler_Capacity_Section4(t *testing.T) {
	for _, tc := range []struct {
		name         string
		cc, pods     int
		index, count int
		want         int
	}{
		{"CC=0 no backends: closed", 0, 0, -1, 0, 0},
		{"CC=0 one backend: infinite", 0, 1, -1, 0, UnlimitedCapacity},
		{"CC=0 many activators: infinite", 0, 3, 1, 2, UnlimitedCapacity},
		{"CC=1 no backends", 1, 0, -1, 0, 0},
		{"CC=1 3 pods, index unknown: all", 1, 3, -1, 0, 3},
		{"CC=10 3 pods, one activator", 10, 3, 0, 1, 30},
		{"CC=10 3 pods, activator 0 of 2 (slice+remainder)", 10, 3, 0, 2, 20},
		{"CC=10 3 pods, activator 1 of 2", 10, 3, 1, 2, 10},
		{"CC=10 1 pod, activator 2 of 3 (i mod P)", 10, 1, 2, 3, 10},
		{"CC=1 #13331: 2 pods, 2 activators", 1, 2, 0, 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			th := NewThrottler(tc.cc, nil)
			th.UpdateActivators(tc.index, tc.count)
			th.UpdateBackends(ips(tc.pods))
			if got := th.State().Capacity; got != tc.want {
				t.Errorf("capacity(CC=%d, pods=%d, activator %d/%d) = %d, want %d", tc.cc, tc.pods, tc.index, tc.count, got, tc.want)
			}
		})
	}
}

func TestPolicyFor_Section4(t *testing.T) {
	for cc, want := range map[int]string{0: PolicyRandomChoice2, 1: PolicyFirstAvailable, 3: PolicyFirstAvailable,
		4: PolicyRoundRobin, 100: PolicyRoundRobin} {
		if got := PolicyFor(cc); got != want {
			t.Errorf("PolicyFor(%d) = %s, want %s", cc, got, want)
		}
	}
}

// heldRequest is a Try whose fn blocks until released.
type heldRequest struct {
	dest    chan string // the pod, once fn runs
	release chan struct{}
	done    chan error
	cancel  context.CancelFunc
}

func hold(th *Throttler) *heldRequest {
	ctx, cancel := context.WithCancel(context.Background())
	h := &heldRequest{dest: make(chan string, 1), release: make(chan struct{}), done: make(chan error, 1), cancel: cancel}
	go func() {
		h.done <- th.Try(ctx, func(d string) error {
			h.dest <- d
			<-h.release
			return nil
		})
	}()
	return h
}

// holdOn starts a request and waits until it reaches a pod.
func holdOn(t *testing.T, th *Throttler) (*heldRequest, string) {
	t.Helper()
	h := hold(th)
	select {
	case d := <-h.dest:
		return h, d
	case err := <-h.done:
		t.Fatalf("Try = %v before reaching a pod", err)
	case <-time.After(5 * time.Second):
		t.Fatal("request did not reach a pod")
	}
	return nil, ""
}

func (h *heldRequest) finish(t *testing.T) {
	t.Helper()
	close(h.release)
	if err := <-h.done; err != nil {
		t.Errorf("Try = %v, want nil", err)
	}
	h.cancel()
}

func TestThrottler_FirstAvailable_Section4(t *testing.T) {
	th := NewThrottler(2, nil)
	th.UpdateBackends([]string{"127.10.0.3", "127.10.0.1", "127.10.0.2"})
	var got []string
	var held []*heldRequest
	for range 6 {
		h, d := holdOn(t, th)
		got = append(got, d)
		held = append(held, h)
	}
	want := []string{"127.10.0.1", "127.10.0.1", "127.10.0.2", "127.10.0.2", "127.10.0.3", "127.10.0.3"}
	if !slices.Equal(got, want) {
		t.Errorf("first-available picks = %v, want %v (fill the first pod in IP order)", got, want)
	}
	// Free a slot on the middle pod: the next request goes there, not to the end.
	held[2].finish(t)
	h, d := holdOn(t, th)
	if d != "127.10.0.2" {
		t.Errorf("pick after freeing 127.10.0.2 = %s, want it", d)
	}
	for _, h := range append(held[:2], append(held[3:], h)...) {
		h.finish(t)
	}
}

func TestThrottler_RoundRobinSkipsFullPods_Section4(t *testing.T) {
	th := NewThrottler(4, nil)
	th.UpdateBackends(ips(3))
	var got []string
	held := map[string][]*heldRequest{}
	for range 12 { // fills all three pods (CC 4)
		h, d := holdOn(t, th)
		got = append(got, d)
		held[d] = append(held[d], h)
	}
	p1, p2, p3 := "127.10.0.1", "127.10.0.2", "127.10.0.3"
	want := []string{p1, p2, p3, p1, p2, p3, p1, p2, p3, p1, p2, p3}
	if !slices.Equal(got, want) {
		t.Fatalf("round-robin picks = %v, want %v", got, want)
	}
	pickAfterFreeing := func(pod string) string {
		t.Helper()
		hs := held[pod]
		hs[0].finish(t)
		held[pod] = hs[1:]
		h, d := holdOn(t, th)
		held[d] = append(held[d], h)
		return d
	}
	// The scan starts after the last pick (pod 3), i.e. at pod 1, which is full: skipped.
	if d := pickAfterFreeing(p2); d != p2 {
		t.Errorf("pick with pod 1 full and room on pod 2 = %s, want %s", d, p2)
	}
	// Now it starts at pod 3 (full), then pod 1.
	if d := pickAfterFreeing(p1); d != p1 {
		t.Errorf("pick with pod 3 full and room on pod 1 = %s, want %s", d, p1)
	}
	for _, hs := range held {
		for _, h := range hs {
			h.finish(t)
		}
	}
}

func TestThrottler_RandomChoice2PicksLeastLoaded_Section4(t *testing.T) {
	th := NewThrottler(0, rng.New(7).Stream("test"))
	th.UpdateBackends(ips(2))
	var held []*heldRequest
	for i := range 20 {
		h, _ := holdOn(t, th)
		held = append(held, h)
		loads := th.State().Pods
		if d := loads[0].InFlight - loads[1].InFlight; d > 1 || d < -1 {
			t.Fatalf("after %d requests loads = %d/%d, want balanced (least in-flight wins)", i+1, loads[0].InFlight, loads[1].InFlight)
		}
	}
	for _, h := range held {
		h.finish(t)
	}
}

// Ties are broken by the seeded stream: the same seed gives the same picks, and over idle pods
// the picks spread.
func TestThrottler_RandomChoice2Deterministic_Section4(t *testing.T) {
	picks := func(seed int64) []string {
		th := NewThrottler(0, rng.New(seed).Stream("activator/test/lb"))
		th.UpdateBackends(ips(5))
		var out []string
		for range 200 {
			_ = th.Try(context.Background(), func(d string) error { out = append(out, d); return nil })
		}
		return out
	}
	a, b := picks(3), picks(3)
	if !slices.Equal(a, b) {
		t.Fatal("same seed gave different picks")
	}
	counts := map[string]int{}
	for _, d := range a {
		counts[d]++
	}
	for _, ip := range ips(5) {
		if counts[ip] < 20 {
			t.Errorf("pod %s picked %d/200 times, want a spread over idle pods (counts %v)", ip, counts[ip], counts)
		}
	}
}

// #13331: CC=1 and two activators each owning one of two pods. At activator 0 a second
// request queues behind its busy pod although the other pod (activator 1's) is idle.
func TestThrottler_Issue13331_QueuesBehindBusyPod(t *testing.T) {
	th := NewThrottler(1, nil)
	th.UpdateBackends(ips(2))
	th.UpdateActivators(0, 2)
	first, d := holdOn(t, th)
	if d != "127.10.0.1" {
		t.Fatalf("activator 0 sent to %s, want its own pod 127.10.0.1", d)
	}
	second := hold(th)
	eventually(t, "second request queued", func() bool { return th.State().Queued == 1 })
	s := th.State()
	if s.AssignedPods != 1 || s.HealthyPods != 2 || s.Pods[1].InFlight != 0 {
		t.Errorf("state = %+v, want 1 of 2 pods assigned and the other idle", s)
	}
	first.finish(t)
	if d := <-second.dest; d != "127.10.0.1" {
		t.Errorf("queued request went to %s, want 127.10.0.1", d)
	}
	second.finish(t)
}

func TestThrottler_BlocksAtZeroUntilBackendAppears_Section4BufferingAtZero(t *testing.T) {
	for _, cc := range []int{0, 1, 10} {
		t.Run(fmt.Sprintf("cc=%d", cc), func(t *testing.T) {
			th := NewThrottler(cc, nil)
			h := hold(th)
			eventually(t, "request buffered", func() bool { return th.State().Queued == 1 })
			select {
			case d := <-h.dest:
				t.Fatalf("request reached %s with no backends", d)
			case <-time.After(10 * time.Millisecond):
			}
			th.UpdateBackends([]string{"127.10.0.7"})
			if d := <-h.dest; d != "127.10.0.7" {
				t.Errorf("released request went to %s, want 127.10.0.7", d)
			}
			h.finish(t)
			if s := th.State(); s.Queued != 0 || s.InFlight != 0 {
				t.Errorf("state after = %+v, want empty", s)
			}
		})
	}
}

func TestThrottler_QueueFullAndDeadline_Section4TryLoop(t *testing.T) {
	th := NewThrottler(1, nil)
	if th.breaker.queueDepth != RevisionQueueDepth {
		t.Errorf("revision queue depth = %d, want %d", th.breaker.queueDepth, RevisionQueueDepth)
	}
	th.breaker = NewBreaker(1, 0) // a short queue
	h := hold(th)
	eventually(t, "request buffered", func() bool { return th.State().Queued == 1 })
	if err := th.Try(context.Background(), func(string) error { return nil }); !errors.Is(err, ErrRequestQueueFull) {
		t.Errorf("Try with full queue = %v, want ErrRequestQueueFull", err)
	}
	h.cancel()
	if err := <-h.done; !errors.Is(err, context.Canceled) {
		t.Errorf("buffered Try after cancel = %v, want context.Canceled", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if err := th.Try(ctx, func(string) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Try past its deadline = %v, want DeadlineExceeded", err)
	}
}

// Pods leaving the backends stop getting requests; requests already on them finish and free
// the revision slot.
func TestThrottler_RemovedPodFinishesInFlight_Section4(t *testing.T) {
	th := NewThrottler(1, nil)
	th.UpdateBackends(ips(1))
	h, _ := holdOn(t, th)
	th.UpdateBackends([]string{"127.10.0.2"})
	s := th.State()
	if s.HealthyPods != 1 || s.Pods[0].Dest != "127.10.0.2" || s.InFlight != 1 || s.Capacity != 1 {
		t.Fatalf("state after swap = %+v, want only 127.10.0.2, 1 in flight, capacity 1", s)
	}
	next := hold(th) // capacity 1 is taken by the request on the removed pod
	eventually(t, "request queued", func() bool { return th.State().Queued == 1 })
	h.finish(t)
	if d := <-next.dest; d != "127.10.0.2" {
		t.Errorf("next request went to %s, want 127.10.0.2", d)
	}
	next.finish(t)
}

// A request admitted by the revision breaker that finds no pod with room re-enqueues and gets
// through once pod capacity changes (§4: breaker and pod capacity are not updated atomically).
func TestThrottler_ReenqueuesWhenNoPodHasRoom_Section4TryLoop(t *testing.T) {
	th := NewThrottler(1, nil)
	th.UpdateBackends(ips(1))
	h, _ := holdOn(t, th)
	th.breaker.SetCapacity(2) // the race: the breaker admits more than the pods can take
	next := hold(th)
	eventually(t, "re-enqueued", func() bool { return th.reenqueued.Load() == 1 })
	h.finish(t)
	if d := <-next.dest; d != "127.10.0.1" {
		t.Errorf("re-enqueued request went to %s", d)
	}
	next.finish(t)
}

// A panic in fn (the reverse proxy aborting) still releases the pod and the revision slot.
func TestThrottler_ReleasesOnPanic(t *testing.T) {
	th := NewThrottler(1, nil)
	th.UpdateBackends(ips(1))
	func() {
		defer func() { _ = recover() }()
		_ = th.Try(context.Background(), func(string) error { panic("abort") })
	}()
	if s := th.State(); s.InFlight != 0 || s.Pods[0].InFlight != 0 {
		t.Errorf("state after panic = %+v, want nothing in flight", s)
	}
}
