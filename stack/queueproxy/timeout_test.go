package queueproxy

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

type timeoutResult struct {
	w        *httptest.ResponseRecorder
	panicked any
}

func runTimeout(h http.Handler) <-chan timeoutResult {
	ch := make(chan timeoutResult, 1)
	go func() {
		w := httptest.NewRecorder()
		defer func() { ch <- timeoutResult{w: w, panicked: recover()} }()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	}()
	return ch
}

func waitFor(t *testing.T, clk *clocktesting.FakeClock, waiters int) {
	t.Helper()
	eventually(t, "clock waiters", func() bool { return clk.Waiters() >= waiters })
}

func result(t *testing.T, ch <-chan timeoutResult) timeoutResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("handler did not return")
		return timeoutResult{}
	}
}

func pending(t *testing.T, ch <-chan timeoutResult, what string) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("%s: returned early: %d %q", what, r.w.Code, r.w.Body.String())
	case <-time.After(20 * time.Millisecond):
	}
}

// blockUntilCancelled is an upstream that never answers on its own.
var blockUntilCancelled = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })

// §5 Handler chain 5: the total timeout answers 504 "request timeout" and cancels the upstream.
func TestTimeoutHandler_TotalTimeout(t *testing.T) {
	clk := clocktesting.NewFakeClock(epoch)
	ch := runTimeout(&timeoutHandler{next: blockUntilCancelled, clk: clk, total: 10 * time.Second})
	waitFor(t, clk, 1)
	clk.Step(9999 * time.Millisecond)
	pending(t, ch, "before the timeout")
	clk.Step(time.Millisecond)
	r := result(t, ch)
	if r.panicked != nil || r.w.Code != http.StatusGatewayTimeout || r.w.Body.String() != TimeoutBody {
		t.Errorf("after 10s = %d %q (panic %v), want 504 %q", r.w.Code, r.w.Body.String(), r.panicked, TimeoutBody)
	}
}

// The response-start timeout fires only if no header was written in time.
func TestTimeoutHandler_ResponseStart(t *testing.T) {
	clk := clocktesting.NewFakeClock(epoch)
	ch := runTimeout(&timeoutHandler{next: blockUntilCancelled, clk: clk, total: time.Minute, start: 2 * time.Second})
	waitFor(t, clk, 2)
	clk.Step(2 * time.Second)
	if r := result(t, ch); r.w.Code != http.StatusGatewayTimeout {
		t.Errorf("no response within the start timeout = %d, want 504", r.w.Code)
	}

	finish := make(chan struct{})
	started := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		<-finish
		_, _ = w.Write([]byte("done"))
	})
	ch = runTimeout(&timeoutHandler{next: started, clk: clk, total: time.Minute, start: 2 * time.Second})
	waitFor(t, clk, 2)
	clk.Step(3 * time.Second)
	pending(t, ch, "a started response past the start timeout")
	close(finish)
	if r := result(t, ch); r.w.Code != http.StatusAccepted || r.w.Body.String() != "done" || r.panicked != nil {
		t.Errorf("started response = %d %q (panic %v), want 202 \"done\"", r.w.Code, r.w.Body.String(), r.panicked)
	}
}

// The idle timeout counts from the last write; once the response started, a timeout aborts
// the connection instead of answering 504.
func TestTimeoutHandler_IdleAbortsAStartedResponse(t *testing.T) {
	clk := clocktesting.NewFakeClock(epoch)
	more := make(chan struct{})
	wrote := make(chan struct{}, 2)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("a"))
		wrote <- struct{}{}
		<-more
		_, _ = w.Write([]byte("b"))
		wrote <- struct{}{}
		<-r.Context().Done()
	})
	ch := runTimeout(&timeoutHandler{next: h, clk: clk, idle: time.Second})
	<-wrote
	waitFor(t, clk, 1)
	clk.Step(600 * time.Millisecond)
	close(more)
	<-wrote // second write at +600ms
	clk.Step(400 * time.Millisecond)
	pending(t, ch, "1s after the first write but only 400ms after the last")
	waitFor(t, clk, 1)
	clk.Step(600 * time.Millisecond)
	r := result(t, ch)
	if err, _ := r.panicked.(error); !errors.Is(err, http.ErrAbortHandler) || r.w.Body.String() != "ab" {
		t.Errorf("idle after a started response: panic %v, body %q; want http.ErrAbortHandler and body \"ab\"", r.panicked, r.w.Body.String())
	}
}
