package activator

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// TimeoutBody is the body of the activator's 504 (§4 Timeouts).
const TimeoutBody = "activator request timeout"

// timeouts are one request's limits; a zero duration disables that limit.
type timeouts struct {
	total, responseStart, idle time.Duration
}

// timeoutHandler is the activator's timeout handler (§4 Timeouts): it answers 504 "activator
// request timeout" when the revision's timeoutSeconds pass, or the response has not started
// within responseStartTimeoutSeconds, or nothing was written for idleTimeoutSeconds. Time
// spent buffering in the throttler counts, since the throttler runs inside. If the response
// had started, the connection is aborted instead. The inner handler's context is cancelled
// and its later writes are discarded. Timers run on clk. It mirrors queue-proxy's handler
// (§5), with limits read per request.
type timeoutHandler struct {
	next   http.Handler
	clk    clock.WithTicker
	limits func(*http.Request) timeouts
}

func (h *timeoutHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lim := h.limits(r)
	if lim.total <= 0 && lim.responseStart <= 0 && lim.idle <= 0 {
		h.next.ServeHTTP(w, r)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	tw := &timeoutWriter{w: w, clk: h.clk, lastWrite: h.clk.Now()}
	done := make(chan struct{})
	var panicked any
	go func() {
		defer close(done)
		defer func() { panicked = recover() }()
		h.next.ServeHTTP(tw, r.WithContext(ctx))
	}()

	var totalC, startC, idleC <-chan time.Time
	var idle clock.Timer
	if lim.total > 0 {
		t := h.clk.NewTimer(lim.total)
		defer t.Stop()
		totalC = t.C()
	}
	if lim.responseStart > 0 {
		t := h.clk.NewTimer(lim.responseStart)
		defer t.Stop()
		startC = t.C()
	}
	if lim.idle > 0 {
		idle = h.clk.NewTimer(lim.idle)
		defer idle.Stop()
		idleC = idle.C()
	}
	for {
		select {
		case <-done:
			if panicked != nil {
				panic(panicked)
			}
			return
		case <-totalC:
			h.timeout(tw, cancel, done)
			return
		case <-startC:
			startC = nil
			if !tw.started() {
				h.timeout(tw, cancel, done)
				return
			}
		case <-idleC:
			if left := lim.idle - h.clk.Since(tw.last()); left > 0 {
				idle.Reset(left)
				continue
			}
			h.timeout(tw, cancel, done)
			return
		}
	}
}

// timeout answers 504 (or aborts a started response), then stops the inner handler and waits
// for it so nothing outlives the request.
func (h *timeoutHandler) timeout(tw *timeoutWriter, cancel context.CancelFunc, done <-chan struct{}) {
	tw.mu.Lock()
	tw.timedOut = true
	started := tw.wroteHeader
	if !started {
		tw.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		tw.w.WriteHeader(http.StatusGatewayTimeout)
		_, _ = io.WriteString(tw.w, TimeoutBody)
	}
	tw.mu.Unlock()
	cancel()
	<-done
	if started {
		panic(http.ErrAbortHandler) // net/http closes the connection without logging
	}
}

// timeoutWriter guards the real writer: after a timeout every write is dropped.
type timeoutWriter struct {
	w   http.ResponseWriter
	clk clock.PassiveClock

	mu          sync.Mutex
	wroteHeader bool
	timedOut    bool
	lastWrite   time.Time
	header      http.Header // the inner handler's own header map, so a timeout cannot race it
}

func (tw *timeoutWriter) Header() http.Header {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.header == nil {
		tw.header = http.Header{}
	}
	return tw.header
}

func (tw *timeoutWriter) copyHeaderLocked() {
	dst := tw.w.Header()
	for k, v := range tw.header {
		dst[k] = v
	}
}

func (tw *timeoutWriter) flushHeaderLocked(code int) {
	if tw.wroteHeader {
		return
	}
	tw.wroteHeader = true
	tw.copyHeaderLocked()
	tw.w.WriteHeader(code)
}

func (tw *timeoutWriter) WriteHeader(code int) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.timedOut {
		return
	}
	tw.lastWrite = tw.clk.Now()
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		tw.copyHeaderLocked() // informational: pass through without starting the response
		tw.w.WriteHeader(code)
		return
	}
	tw.flushHeaderLocked(code)
}

func (tw *timeoutWriter) Write(b []byte) (int, error) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.timedOut {
		return 0, http.ErrHandlerTimeout
	}
	tw.flushHeaderLocked(http.StatusOK)
	tw.lastWrite = tw.clk.Now()
	return tw.w.Write(b)
}

// Flush implements http.Flusher for streamed responses.
func (tw *timeoutWriter) Flush() {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.timedOut {
		return
	}
	tw.flushHeaderLocked(http.StatusOK)
	if f, ok := tw.w.(http.Flusher); ok {
		f.Flush()
	}
}

func (tw *timeoutWriter) started() bool {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	return tw.wroteHeader
}

func (tw *timeoutWriter) last() time.Time {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	return tw.lastWrite
}
