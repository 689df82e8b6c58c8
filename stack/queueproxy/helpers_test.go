package queueproxy

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"k8s.io/utils/clock"

	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/app"
	"github.com/servingsim/servingsim/stack/rng"
)

// Tests bind pod-like loopback addresses 127.203.<pid>.<n>: fixed ports (8012, 8022, 9090, the
// user port) as in a real pod, a fresh address per pod so tests never share one.
var lastHost atomic.Uint32

func nextPodIP() netip.Addr {
	n := lastHost.Add(1)
	return netip.AddrFrom4([4]byte{127, 203, byte(os.Getpid() % 250), byte(n%250 + 1)})
}

// testPod is an app (or any upstream handler) plus a queue-proxy on one loopback address.
type testPod struct {
	ip       netip.Addr
	app      *app.App
	upstream *http.Server
	qp       *QueueProxy
	client   *http.Client
}

func (p *testPod) url(path string) string { return "http://" + p.qp.Addr() + path }

type podSpec struct {
	cfg      Config     // PodIP and UserPort are filled in
	app      app.Config // used when upstream is nil
	appClock clock.WithTicker
	upstream http.Handler // instead of the app model
	opts     Options
}

// startPod starts the pod, retrying on another address if one is taken.
func startPod(t testing.TB, s podSpec) *testPod {
	t.Helper()
	for attempt := 0; ; attempt++ {
		p, err := tryStartPod(t, s)
		if err == nil {
			return p
		}
		if !errors.Is(err, syscall.EADDRINUSE) || attempt == 5 {
			t.Fatalf("start pod: %v", err)
		}
	}
}

func tryStartPod(t testing.TB, s podSpec) (*testPod, error) {
	ip := nextPodIP()
	cfg := s.cfg
	cfg.PodIP, cfg.UserPort = ip, serving.DefaultUserPort
	if cfg.ServingPort == 0 {
		cfg.ServingPort = serving.QueueHTTPPort
	}
	if cfg.ReadinessProbe == nil {
		env, _ := ParseEnv(map[string]string{})
		cfg.ReadinessProbe = env.ReadinessProbe
	}
	p := &testPod{ip: ip, client: &http.Client{Transport: &http.Transport{}, Timeout: 20 * time.Second}}
	upstreamAddr := net.JoinHostPort(ip.String(), "8080")
	if s.upstream != nil {
		ln, err := net.Listen("tcp", upstreamAddr)
		if err != nil {
			return nil, err
		}
		p.upstream = &http.Server{Handler: s.upstream}
		go func() { _ = p.upstream.Serve(ln) }()
		t.Cleanup(func() { _ = p.upstream.Close() })
	} else {
		acfg := s.app
		acfg.Port = serving.DefaultUserPort
		clk := s.appClock
		if clk == nil {
			clk = clock.RealClock{}
		}
		a, err := app.New(acfg, app.Options{Clock: clk, Source: rng.New(1), Name: t.Name()})
		if err != nil {
			t.Fatalf("app.New: %v", err)
		}
		srv, err := a.Listen(ip.String())
		if err != nil {
			return nil, err
		}
		p.app = a
		t.Cleanup(func() { _ = srv.Close() })
	}
	qp, err := New(cfg, s.opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := qp.Start(); err != nil {
		_ = qp.Close()
		return nil, err
	}
	p.qp = qp
	t.Cleanup(func() {
		_ = qp.Close()
		p.client.CloseIdleConnections()
	})
	return p, nil
}

type reply struct {
	code int
	body string
	err  error
	took time.Duration
}

// fetch GETs url with header ("Host" sets the request's Host); safe from any goroutine.
func fetch(c *http.Client, url string, header map[string]string) reply {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return reply{err: err}
	}
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return reply{err: err, took: time.Since(start)}
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	return reply{code: resp.StatusCode, body: string(b), err: err, took: time.Since(start)}
}

// get sends a request through the queue-proxy; safe from any goroutine.
func (p *testPod) get(_ *testing.T, path string, header map[string]string) reply {
	return fetch(p.client, p.url(path), header)
}

func (p *testPod) echo(t *testing.T, header map[string]string) app.Echo {
	t.Helper()
	r := p.get(t, "/?echo=1", header)
	if r.err != nil || r.code != http.StatusOK {
		t.Fatalf("echo = %d %q %v, want 200", r.code, r.body, r.err)
	}
	var e app.Echo
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("echo body %q: %v", r.body, err)
	}
	return e
}

// eventually polls cond for up to 5s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
