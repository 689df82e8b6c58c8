package activator

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/servingsim/servingsim/stack/apis/serving"
)

// Probe timings of the activator's backend prober (§4 Backend discovery and probing; env
// PROBE_TIMEOUT and PROBE_FREQUENCY in Knative).
const (
	DefaultProbeTimeout   = 300 * time.Millisecond
	DefaultProbeFrequency = 200 * time.Millisecond
)

// backendSet is one revision's backend state machine: the ready pod IPs of its private
// Endpoints and which of them passed a probe. Only ready, probed pods are healthy. A pod that
// leaves the ready set loses its health, so it is probed again if it comes back. Not safe for
// concurrent use; the revision's watcher owns it.
type backendSet struct {
	ready   map[string]struct{}
	healthy map[string]struct{}
}

func newBackendSet() *backendSet {
	return &backendSet{ready: map[string]struct{}{}, healthy: map[string]struct{}{}}
}

// setReady replaces the ready set and drops the health of pods no longer in it.
func (s *backendSet) setReady(ips []string) {
	s.ready = make(map[string]struct{}, len(ips))
	for _, ip := range ips {
		s.ready[ip] = struct{}{}
	}
	for ip := range s.healthy {
		if _, ok := s.ready[ip]; !ok {
			delete(s.healthy, ip)
		}
	}
}

// unprobed lists the ready pods not yet healthy, in IP order.
func (s *backendSet) unprobed() []string {
	var out []string
	for ip := range s.ready {
		if _, ok := s.healthy[ip]; !ok {
			out = append(out, ip)
		}
	}
	slices.SortFunc(out, compareIPs)
	return out
}

// markHealthy records a passed probe of a ready pod.
func (s *backendSet) markHealthy(ip string) {
	if _, ok := s.ready[ip]; ok {
		s.healthy[ip] = struct{}{}
	}
}

// healthyIPs lists the healthy pods in IP order.
func (s *backendSet) healthyIPs() []string {
	out := make([]string, 0, len(s.healthy))
	for ip := range s.healthy {
		out = append(out, ip)
	}
	slices.SortFunc(out, compareIPs)
	return out
}

// prober checks that a pod's queue-proxy is ready (§4): GET http://<ip>:8012/healthz with
// K-Network-Probe: queue and User-Agent Knative-Activator-Probe, passing on 200 "queue".
type prober struct {
	client  *http.Client
	timeout time.Duration
	addr    func(ip string) string // host:port of a pod's queue-proxy
}

func newProber(timeout time.Duration, addr func(string) string) *prober {
	return &prober{timeout: timeout, addr: addr, client: &http.Client{
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		// A redirect is not the queue-proxy's answer.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// probe reports whether ip's queue-proxy answered the probe in time. The timeout is wall-clock
// time: it bounds real socket I/O.
func (p *prober) probe(ctx context.Context, ip string) bool {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.addr(ip)+serving.HealthCheckPath, nil)
	if err != nil {
		return false
	}
	req.Header.Set(serving.ProbeHeaderName, serving.QueueProbeValue)
	req.Header.Set("User-Agent", serving.ActivatorProbeUserAgent)
	resp, err := p.client.Do(req)
	if err != nil {
		return false
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64))
	return err == nil && resp.StatusCode == http.StatusOK && string(body) == serving.QueueProbeValue
}

func (p *prober) close() { p.client.CloseIdleConnections() }

// probeAll probes ips concurrently and returns the ones that passed.
func (p *prober) probeAll(ctx context.Context, ips []string) []string {
	ok := make([]bool, len(ips))
	var wg sync.WaitGroup
	for i, ip := range ips {
		wg.Go(func() { ok[i] = p.probe(ctx, ip) })
	}
	wg.Wait()
	var out []string
	for i, ip := range ips {
		if ok[i] {
			out = append(out, ip)
		}
	}
	return out
}

// revisionWatcher keeps one revision's throttler fed with healthy pods (Knative's
// revisionWatcher): on every ready-set snapshot it probes the ready pods not yet healthy, and
// while some remain unhealthy it probes them again every frequency on clk. Each change of the
// healthy set goes to the throttler.
type revisionWatcher struct {
	throttler *Throttler
	prober    *prober
	clk       clock.WithTicker
	frequency time.Duration

	mu      sync.Mutex
	pending []string // the latest ready snapshot not yet taken
	fresh   bool
	notify  chan struct{} // capacity 1: a snapshot is pending
}

func newRevisionWatcher(t *Throttler, p *prober, clk clock.WithTicker, frequency time.Duration) *revisionWatcher {
	return &revisionWatcher{throttler: t, prober: p, clk: clk, frequency: frequency, notify: make(chan struct{}, 1)}
}

// setReady hands the watcher the revision's current ready pod IPs; only the latest counts.
func (w *revisionWatcher) setReady(ips []string) {
	w.mu.Lock()
	w.pending, w.fresh = slices.Clone(ips), true
	w.mu.Unlock()
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

func (w *revisionWatcher) take() ([]string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ips, ok := w.pending, w.fresh
	w.pending, w.fresh = nil, false
	return ips, ok
}

// run works until ctx ends.
func (w *revisionWatcher) run(ctx context.Context) {
	set := newBackendSet()
	var sent []string
	for {
		var tick <-chan time.Time
		var timer clock.Timer
		if len(set.unprobed()) > 0 {
			timer = w.clk.NewTimer(w.frequency)
			tick = timer.C()
		}
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return
		case <-w.notify:
			if ips, ok := w.take(); ok {
				set.setReady(ips)
			}
		case <-tick:
		}
		if timer != nil {
			timer.Stop()
		}
		if ips := set.unprobed(); len(ips) > 0 {
			for _, ip := range w.prober.probeAll(ctx, ips) {
				set.markHealthy(ip)
			}
		}
		if healthy := set.healthyIPs(); !slices.Equal(healthy, sent) {
			w.throttler.UpdateBackends(healthy)
			sent = healthy
		}
	}
}
