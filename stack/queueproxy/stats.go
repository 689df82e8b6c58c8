package queueproxy

import (
	"sync"
	"time"
)

// Stat is one reporting window of a Stats accumulator (§3.3.1).
type Stat struct {
	// AverageConcurrency is the time-weighted average number of requests in flight (queued in
	// the breaker or proxied), all requests included.
	AverageConcurrency float64
	// AverageProxiedConcurrency is the same for requests from the activator only.
	AverageProxiedConcurrency float64
	// RequestCount and ProxiedRequestCount count the requests that arrived in the window
	// (proxied ones in both).
	RequestCount, ProxiedRequestCount float64
	// Window is the time the window covered.
	Window time.Duration
}

// Stats accumulates the queue-proxy's request statistics (Knative's RequestStats): concurrency
// integrated over time and arrival counts, since the last Report. Callers pass now; it never
// reads a clock. Safe for concurrent use.
type Stats struct {
	mu                sync.Mutex
	last              time.Time // last change of concurrency (or report)
	concurrency       int
	proxied           int
	area, proxiedArea float64 // request·seconds since the window began
	inUse             float64 // seconds since the window began
	count, proxiedCnt int
}

// NewStats starts a window at now.
func NewStats(now time.Time) *Stats { return &Stats{last: now} }

// compute integrates concurrency up to now. Callers hold mu.
func (s *Stats) compute(now time.Time) {
	if d := now.Sub(s.last); d > 0 {
		secs := d.Seconds()
		s.inUse += secs
		s.area += float64(s.concurrency) * secs
		s.proxiedArea += float64(s.proxied) * secs
		s.last = now
	}
}

// In records a request arriving at now; proxied marks a request from the activator.
func (s *Stats) In(now time.Time, proxied bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.compute(now)
	s.concurrency++
	s.count++
	if proxied {
		s.proxied++
		s.proxiedCnt++
	}
}

// Out records a request finishing at now.
func (s *Stats) Out(now time.Time, proxied bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.compute(now)
	s.concurrency--
	if proxied {
		s.proxied--
	}
}

// Concurrency is the number of requests in flight now.
func (s *Stats) Concurrency() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.concurrency
}

// Report closes the window at now and starts the next: averages are the integral of
// concurrency over the window divided by its length (0 for an empty window). Requests still in
// flight carry over into the next window.
func (s *Stats) Report(now time.Time) Stat {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.compute(now)
	st := Stat{RequestCount: float64(s.count), ProxiedRequestCount: float64(s.proxiedCnt),
		Window: time.Duration(s.inUse * float64(time.Second))}
	if s.inUse > 0 {
		st.AverageConcurrency = s.area / s.inUse
		st.AverageProxiedConcurrency = s.proxiedArea / s.inUse
	}
	s.area, s.proxiedArea, s.inUse, s.count, s.proxiedCnt = 0, 0, 0, 0, 0
	return st
}
