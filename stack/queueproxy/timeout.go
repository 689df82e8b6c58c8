package queueproxy

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// TimeoutBody is the body of the queue-proxy's 504 (§5 Handler chain).
const TimeoutBody = "request timeout"

// timeoutHandler is the queue-proxy's timeout handler (§5 Handler chain 5): it answers 504
// "request timeout" when the total timeout passes, or the response has not started within the
// response-start timeout, or nothing was written for the idle timeout. A zero duration disables
// that timeout. If the response had already started, the connection is aborted instead. The
// inner handler's context is cancelled and its later writes are discarded. Timers run on clk.
type timeoutHandler struct {
	next               http.Handler
	clk                clock.WithTicker
	total, start, idle time.Duration
}

func (h *timeoutHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.total <= 0 && h.start <= 0 && h.idle <= 0 {
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
	for _, t := range []struct {
		d time.Duration
		c *<-chan time.Time
		k *clock.Timer
	}{{h.total, &totalC, nil}, {h.start, &startC, nil}, {h.idle, &idleC, &idle}} {
		if t.d > 0 {
			timer := h.clk.NewTimer(t.d)
			defer timer.Stop()
			*t.c = timer.C()
			if t.k != nil {
				*t.k = timer
			}
		}
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
			if left := h.idle - h.clk.Since(tw.last()); left > 0 {
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

func (tw *timeoutWriter) flushHeaderLocked(code int) {
	if tw.wroteHeader {
		return
	}
	tw.wroteHeader = true
	dst := tw.w.Header()
	for k, v := range tw.header {
		dst[k] = v
	}
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
		// informational: pass through without starting the response
		dst := tw.w.Header()
		for k, v := range tw.header {
			dst[k] = v
		}
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
