package activator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/autoscaler"
)

// Tests bind loopback addresses 127.204.<pid>.<n>, a fresh one per fake pod or server, on
// random ports; the activator's podAddr maps a pod IP to its fake queue-proxy.
var lastHost atomic.Uint32

func nextIP() string {
	n := lastHost.Add(1)
	return fmt.Sprintf("127.204.%d.%d", os.Getpid()%250, n%250+1)
}

// listenLoopback listens on a fresh loopback IP, random port.
func listenLoopback(t testing.TB) net.Listener {
	t.Helper()
	for range 5 {
		ln, err := net.Listen("tcp", net.JoinHostPort(nextIP(), "0"))
		if err == nil {
			return ln
		}
	}
	t.Fatal("no free loopback address")
	return nil
}

// fakePod is a stand-in queue-proxy: it answers the activator's probe (200 "queue" while
// healthy, 503 otherwise) and hands every other request to handler.
type fakePod struct {
	ip, addr  string
	srv       *httptest.Server
	healthy   atomic.Bool
	probeBody atomic.Value // string answered to probes
	probeWait atomic.Int64 // nanoseconds a probe answer is delayed
	probes    atomic.Int32
	lastProbe atomic.Value // *http.Request
}

func startFakePod(t testing.TB, handler http.Handler) *fakePod {
	t.Helper()
	p := &fakePod{}
	p.healthy.Store(true)
	p.probeBody.Store(serving.QueueProbeValue)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(serving.ProbeHeaderName) == serving.QueueProbeValue {
			p.lastProbe.Store(r.Clone(context.Background()))
			if d := time.Duration(p.probeWait.Load()); d > 0 {
				time.Sleep(d)
			}
			p.probes.Add(1)
			if !p.healthy.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			_, _ = io.WriteString(w, p.probeBody.Load().(string))
			return
		}
		handler.ServeHTTP(w, r)
	}))
	_ = srv.Listener.Close()
	srv.Listener = listenLoopback(t)
	srv.Start()
	t.Cleanup(srv.Close)
	p.srv, p.addr = srv, srv.Listener.Addr().String()
	p.ip, _, _ = net.SplitHostPort(p.addr)
	return p
}

// echo answers with what the pod received.
type echoed struct {
	Host   string
	URL    string
	Header http.Header
}

var echoHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_ = json.NewEncoder(w).Encode(echoed{Host: r.Host, URL: r.URL.String(), Header: r.Header})
})

// okHandler answers 200 "ok".
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })

// testEnv is an activator whose pods are fake queue-proxies.
type testEnv struct {
	a      *Activator
	mu     sync.Mutex
	addrs  map[string]string // pod IP → fake queue-proxy address
	client *http.Client
	url    string // the activator's handler, served on loopback
}

func newTestEnv(t testing.TB, opts Options) *testEnv {
	t.Helper()
	if opts.Name == "" {
		opts.Name = "activator-0"
	}
	if opts.Address == "" {
		opts.Address = nextIP()
	}
	a, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e := &testEnv{a: a, addrs: map[string]string{}, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 100}}}
	a.podAddr = func(ip string) string {
		e.mu.Lock()
		defer e.mu.Unlock()
		if addr, ok := e.addrs[ip]; ok {
			return addr
		}
		return net.JoinHostPort(ip, "1") // nothing listens there
	}
	srv := httptest.NewUnstartedServer(a.Handler())
	_ = srv.Listener.Close()
	srv.Listener = listenLoopback(t)
	srv.Start()
	e.url = srv.URL
	t.Cleanup(func() {
		e.client.CloseIdleConnections()
		srv.Close()
		a.Close()
	})
	return e
}

func (e *testEnv) register(p *fakePod) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.addrs[p.ip] = p.addr
}

// addRevision makes rev known with containerConcurrency cc and the given timeouts.
func (e *testEnv) addRevision(rev types.NamespacedName, cc int, lim timeouts) {
	e.a.setRevision(&revisionInfo{key: rev, cc: cc, timeouts: lim})
}

// setPods hands rev's ready pods to the activator (as the reconciler does).
func (e *testEnv) setPods(rev types.NamespacedName, pods ...*fakePod) {
	var ips []string
	for _, p := range pods {
		e.register(p)
		ips = append(ips, p.ip)
	}
	e.a.setPods(rev, ips)
}

func (e *testEnv) state(t testing.TB, rev types.NamespacedName) ThrottlerState {
	t.Helper()
	for _, s := range e.a.Snapshot() {
		if s.Revision == rev {
			return s.ThrottlerState
		}
	}
	return ThrottlerState{}
}

func (e *testEnv) waitHealthy(t testing.TB, rev types.NamespacedName, n int) {
	t.Helper()
	eventually(t, fmt.Sprintf("%d healthy pods", n), func() bool { return e.state(t, rev).HealthyPods == n })
}

type reply struct {
	code   int
	body   string
	header http.Header
	err    error
}

// get sends a request for rev through the activator; extra sets headers ("Host" the Host).
func (e *testEnv) get(rev types.NamespacedName, path string, extra map[string]string) reply {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, e.url+path, nil)
	if err != nil {
		return reply{err: err}
	}
	if rev.Name != "" {
		req.Header.Set(serving.RevisionHeaderName, rev.Name)
		req.Header.Set(serving.RevisionNamespaceHeaderName, rev.Namespace)
	}
	for k, v := range extra {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	return reply{code: resp.StatusCode, body: string(b), header: resp.Header, err: err}
}

func (e *testEnv) getAsync(rev types.NamespacedName, path string, extra map[string]string) <-chan reply {
	c := make(chan reply, 1)
	go func() { c <- e.get(rev, path, extra) }()
	return c
}

// statRecorder is a StatSink that keeps what it got.
type statRecorder struct {
	mu    sync.Mutex
	stats []KeyedStat
}

var _ autoscaler.StatSink = (*statRecorder)(nil)

func (s *statRecorder) RecordStat(key types.NamespacedName, st autoscaler.Stat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = append(s.stats, KeyedStat{Revision: key, Stat: st})
}

func (s *statRecorder) take() []KeyedStat {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.stats
	s.stats = nil
	return out
}
