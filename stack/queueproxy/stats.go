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

// StatsCore is the arithmetic of Knative's RequestStats (§3.3.1): concurrency integrated over
// time and arrival counts since the last Report. Times are offsets from any fixed epoch the
// caller chooses. It is not safe for concurrent use: Stats wraps it with a lock for the live
// queue-proxy; the virtual-time engine, on one goroutine, uses it directly, so both modes
// compute every stat the same way. The zero value is a window started at offset 0.
type StatsCore struct {
	last              time.Duration // last change of concurrency (or report)
	concurrency       int
	proxied           int
	area, proxiedArea float64 // request·seconds since the window began
	inUse             float64 // seconds since the window began
	count, proxiedCnt int
}

// NewStatsCore starts a window at now.
func NewStatsCore(now time.Duration) StatsCore { return StatsCore{last: now} }

// compute integrates concurrency up to now.
func (s *StatsCore) compute(now time.Duration) {
	if d := now - s.last; d > 0 {
		secs := seconds(d)
		s.inUse += secs
		s.area += float64(s.concurrency) * secs
		s.proxiedArea += float64(s.proxied) * secs
		s.last = now
	}
}

// seconds is d.Seconds() (d > 0) without its integer division below a second, where both
// compute float64(d)/1e9: the same float, on the hot path of every request.
func seconds(d time.Duration) float64 {
	if d < time.Second {
		return float64(d) / 1e9
	}
	return d.Seconds()
}

// In records a request arriving at now; proxied marks a request from the activator.
func (s *StatsCore) In(now time.Duration, proxied bool) {
	s.compute(now)
	s.concurrency++
	s.count++
	if proxied {
		s.proxied++
		s.proxiedCnt++
	}
}

// Out records a request finishing at now.
func (s *StatsCore) Out(now time.Duration, proxied bool) {
	s.compute(now)
	s.concurrency--
	if proxied {
		s.proxied--
	}
}

// Concurrency is the number of requests in flight.
func (s *StatsCore) Concurrency() int { return s.concurrency }

// Report closes the window at now and starts the next: averages are the integral of
// concurrency over the window divided by its length (0 for an empty window). Requests still in
// flight carry over into the next window.
func (s *StatsCore) Report(now time.Duration) Stat {
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

// Stats accumulates the queue-proxy's request statistics (Knative's RequestStats): a StatsCore
// on wall-clock times, behind a lock. Callers pass now; it never reads a clock. Safe for
// concurrent use.
type Stats struct {
	epoch time.Time // offset 0 of the core's times

	mu   sync.Mutex
	core StatsCore
}

// NewStats starts a window at now.
func NewStats(now time.Time) *Stats { return &Stats{epoch: now} }

// In records a request arriving at now; proxied marks a request from the activator.
func (s *Stats) In(now time.Time, proxied bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.core.In(now.Sub(s.epoch), proxied)
}

// Out records a request finishing at now.
func (s *Stats) Out(now time.Time, proxied bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.core.Out(now.Sub(s.epoch), proxied)
}

// Concurrency is the number of requests in flight now.
func (s *Stats) Concurrency() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.core.Concurrency()
}

// Report closes the window at now and starts the next (StatsCore.Report).
func (s *Stats) Report(now time.Time) Stat {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.core.Report(now.Sub(s.epoch))
}
