package queueproxy

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"

	"github.com/servingsim/servingsim/stack/apis/serving"
)

// Readiness timings of queue-proxy's prober (§5 Readiness, pkg/queue/readiness/probe.go).
const (
	// AggressivePollInterval is the retry interval of an aggressive probe (periodSeconds 0).
	AggressivePollInterval = 50 * time.Millisecond
	// AggressiveProbeTimeout bounds each attempt of an aggressive probe.
	AggressiveProbeTimeout = 100 * time.Millisecond
	// AggressivePollTimeout bounds one aggressive probe's retries.
	AggressivePollTimeout = 10 * time.Second
	// ProbeUserAgent is what the HTTP probe sends, like the kubelet's prober.
	ProbeUserAgent = serving.KubeProbeUserAgentPrefix + "1.36"
)

// Prober runs the user container's readiness probe from inside the pod. The probe's host, which
// the revision reconciler sets to 127.0.0.1 (the pod's own loopback), is replaced by the pod IP:
// in the simulation each pod's "localhost" is its own loopback address. Exec probes (already
// TCP in SERVING_READINESS_PROBE) and gRPC probes are run as TCP probes on their port.
type Prober struct {
	probe  *corev1.Probe
	cfg    Config
	clk    clock.WithTicker
	client *http.Client

	mu sync.Mutex // one probe at a time, like Knative's
}

// NewProber returns the prober of cfg.ReadinessProbe.
func NewProber(cfg Config, clk clock.WithTicker) *Prober {
	return &Prober{probe: cfg.ReadinessProbe, cfg: cfg, clk: clk, client: &http.Client{
		Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
		// Redirects count as success (kubelet semantics): do not follow them.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Aggressive reports an aggressive probe (periodSeconds 0).
func (p *Prober) Aggressive() bool { return p.probe.PeriodSeconds == 0 }

// Probe runs the readiness probe once: an aggressive probe polls every 50ms (100ms per attempt)
// until successThreshold consecutive successes, for up to 10s on the clock; any other probe
// makes one attempt bounded by its timeoutSeconds, leaving the period to the kubelet.
func (p *Prober) Probe(ctx context.Context) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.Aggressive() {
		timeout := time.Duration(max(p.probe.TimeoutSeconds, 1)) * time.Second
		return p.attempt(ctx, timeout)
	}
	deadline := p.clk.NewTimer(AggressivePollTimeout)
	defer deadline.Stop()
	want := max(int(p.probe.SuccessThreshold), 1)
	for successes := 0; ; {
		if p.attempt(ctx, AggressiveProbeTimeout) {
			successes++
			if successes >= want {
				return true
			}
		} else {
			successes = 0
		}
		t := p.clk.NewTimer(AggressivePollInterval)
		select {
		case <-t.C():
		case <-deadline.C():
			t.Stop()
			return false
		case <-ctx.Done():
			t.Stop()
			return false
		}
	}
}

// host is the probe's host mapped onto the pod: loopback names and addresses become the pod IP.
func (p *Prober) host(h string) string {
	if h == "" || h == "localhost" {
		return p.cfg.PodIP.String()
	}
	if a, err := netip.ParseAddr(h); err == nil && a.IsLoopback() {
		return p.cfg.PodIP.String()
	}
	return h
}

// attempt runs one probe with a timeout (wall-clock: it bounds real socket I/O).
func (p *Prober) attempt(ctx context.Context, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if h := p.probe.HTTPGet; h != nil {
		return p.httpGet(ctx, h)
	}
	host, port := p.cfg.PodIP.String(), p.cfg.UserPort
	switch {
	case p.probe.TCPSocket != nil:
		host, port = p.host(p.probe.TCPSocket.Host), p.cfg.probePort(p.probe.TCPSocket.Port)
	case p.probe.GRPC != nil && p.probe.GRPC.Port > 0:
		port = p.probe.GRPC.Port
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(int(port))))
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}

func (p *Prober) httpGet(ctx context.Context, h *corev1.HTTPGetAction) bool {
	scheme := strings.ToLower(string(h.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	path := h.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	url := scheme + "://" + net.JoinHostPort(p.host(h.Host), strconv.Itoa(int(p.cfg.probePort(h.Port)))) + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	req.Header.Set("User-Agent", ProbeUserAgent)
	for _, hh := range h.HTTPHeaders {
		req.Header.Add(hh.Name, hh.Value)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode >= http.StatusOK && resp.StatusCode < http.StatusBadRequest
}

// close releases the prober's idle connections.
func (p *Prober) close() { p.client.CloseIdleConnections() }
