package gateway

import (
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	testclock "k8s.io/utils/clock/testing"

	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
)

// twoRevisions programs helloIngress with main traffic and serves hello-00001 and hello-00002.
func twoRevisions(t *testing.T, tagHeader bool, main ...netv1alpha1.IngressBackendSplit) (*Table, *fakeEndpoints, *upstream, *upstream) {
	t.Helper()
	tb := NewTable()
	tb.Set(helloIngress(tagHeader, main...))
	r1, r2 := newUpstream(t, "hello-00001", nil), newUpstream(t, "hello-00002", nil)
	eps := &fakeEndpoints{}
	eps.set("hello-00001", r1.addr())
	eps.set("hello-00002", r2.addr())
	return tb, eps, r1, r2
}

func TestGatewayHostMatching_Section6(t *testing.T) {
	tb, eps, _, _ := twoRevisions(t, false, split("hello-00001", 100))
	// A cluster-local route: only ClusterLocal rules (§1.8 visibility label).
	private := helloIngress(false, split("hello-00001", 100))
	private.Name = "private"
	private.Spec.Rules = private.Spec.Rules[:1]
	private.Spec.Rules[0].Hosts = expanded("private")
	tb.Set(private)
	g := startGateway(t, tb, eps)

	cases := []struct {
		internal bool
		host     string
		want     int
		wantBody string
	}{
		{false, "hello.demo.example.com", 200, "hello-00001"},
		{false, "HELLO.Demo.Example.com:8080", 200, "hello-00001"}, // case and port ignored
		{false, "candidate-hello.demo.example.com", 200, "hello-00002"},
		{false, "hello.demo", 404, ""}, // cluster-local hosts are not on the external listener
		{false, "hello.demo.svc.cluster.local", 404, ""},
		{false, "private.demo.svc.cluster.local", 404, ""},
		{false, "unknown.demo.example.com", 404, ""},
		{true, "hello.demo", 200, "hello-00001"},
		{true, "hello.demo.svc", 200, "hello-00001"},
		{true, "hello.demo.svc.cluster.local:80", 200, "hello-00001"},
		{true, "candidate-hello.demo.svc.cluster.local", 200, "hello-00002"},
		{true, "private.demo", 200, "hello-00001"},
		{true, "hello.demo.example.com", 200, "hello-00001"}, // the internal gateway serves external hosts too
		{true, "unknown.demo", 404, ""},
	}
	for _, c := range cases {
		code, body := g.do(t, c.internal, c.host, "/", nil)
		if code != c.want || body != c.wantBody {
			t.Errorf("internal=%v GET Host %q = %d %q, want %d %q", c.internal, c.host, code, body, c.want, c.wantBody)
		}
	}
}

func TestGatewayTagHostGetsAllTraffic_Section1_6(t *testing.T) {
	tb, eps, _, _ := twoRevisions(t, false, split("hello-00001", 50), split("hello-00002", 50))
	g := startGateway(t, tb, eps)
	for range 50 {
		if code, body := g.do(t, false, "candidate-hello.demo.example.com", "/", nil); code != 200 || body != "hello-00002" {
			t.Fatalf("GET tag host = %d %q, want 200 hello-00002 every time (tag rules are 100%%)", code, body)
		}
	}
}

// With percents 80/20 over n sequential requests, each revision's count is binomial; with the
// fixed seed the counts are fixed, and they must sit within 4σ of the expectation.
func TestGatewayWeightedSplit_Section6(t *testing.T) {
	tb, eps, _, _ := twoRevisions(t, false, split("hello-00001", 80), split("hello-00002", 20))
	g := startGateway(t, tb, eps)
	const n = 1000
	counts := map[string]int{}
	for range n {
		code, body := g.do(t, false, "hello.demo.example.com", "/", nil)
		if code != 200 {
			t.Fatalf("GET = %d %q, want 200", code, body)
		}
		counts[body]++
	}
	mean, sigma := n*0.8, math.Sqrt(n*0.8*0.2)
	if got := float64(counts["hello-00001"]); math.Abs(got-mean) > 4*sigma || counts["hello-00001"]+counts["hello-00002"] != n {
		t.Errorf("80/20 split over %d requests gave %v, want hello-00001 within %.0f±%.0f and nothing else", n, counts, mean, 4*sigma)
	}
}

func TestGatewayTagHeaderRouting_Section6(t *testing.T) {
	tb, eps, r1, r2 := twoRevisions(t, true, split("hello-00001", 100))
	g := startGateway(t, tb, eps)
	tag := http.Header{serving.TagHeaderName: {"candidate"}}
	unknownTag := http.Header{serving.TagHeaderName: {"nope"}}
	cases := []struct {
		flag   bool
		header http.Header
		want   string
	}{
		{true, tag, "hello-00002"},
		{true, nil, "hello-00001"},
		{true, unknownTag, "hello-00001"}, // falls through to the default path
		{false, tag, "hello-00001"},       // feature off: the header is ignored
		{false, nil, "hello-00001"},
	}
	for _, c := range cases {
		g.tagHeader.Store(c.flag)
		code, body := g.do(t, false, "hello.demo.example.com", "/", c.header)
		if code != 200 || body != c.want {
			t.Errorf("tag-header-based-routing=%v header %v: GET = %d %q, want 200 %q", c.flag, c.header, code, body, c.want)
		}
	}
	g.tagHeader.Store(true)
	g.do(t, false, "hello.demo.example.com", "/", nil)
	if got := r1.last(t).header.Get(serving.DefaultRouteHeaderName); got != "true" {
		t.Errorf("default path upstream saw %s = %q, want true", serving.DefaultRouteHeaderName, got)
	}
	g.do(t, false, "candidate-hello.demo.example.com", "/", nil)
	if got := r2.last(t).header.Get(serving.TagHeaderName); got != "candidate" {
		t.Errorf("tag rule upstream saw %s = %q, want candidate", serving.TagHeaderName, got)
	}
}

func TestGatewayAppendedAndForwardingHeaders_Section4_Section6(t *testing.T) {
	tb, eps, r1, _ := twoRevisions(t, false, split("hello-00001", 100))
	g := startGateway(t, tb, eps)
	in := http.Header{
		"X-Forwarded-For":           {"203.0.113.7"},
		"Forwarded":                 {"for=203.0.113.7"},
		serving.RevisionHeaderName:  {"spoofed"}, // the route's appendHeaders win
		"X-Custom":                  {"kept"},
		"Knative-Serving-Namespace": {"spoofed"},
	}
	if code, _ := g.do(t, false, "hello.demo.example.com:8080", "/path?q=1", in); code != 200 {
		t.Fatalf("GET = %d, want 200", code)
	}
	got := r1.last(t)
	if got.host != "hello.demo.example.com:8080" {
		t.Errorf("upstream Host = %q, want the client's hello.demo.example.com:8080", got.host)
	}
	want := map[string]string{
		serving.RevisionHeaderName:          "hello-00001",
		serving.RevisionNamespaceHeaderName: testNS,
		"X-Custom":                          "kept",
		"X-Forwarded-For":                   "203.0.113.7, 127.0.0.1",
		"X-Forwarded-Host":                  "hello.demo.example.com:8080",
		"X-Forwarded-Proto":                 "http",
		"Forwarded":                         `for=203.0.113.7, for=127.0.0.1;host="hello.demo.example.com:8080";proto=http`,
	}
	for k, v := range want {
		if g := got.header.Values(k); len(g) != 1 || g[0] != v {
			t.Errorf("upstream header %s = %q, want [%q]", k, g, v)
		}
	}
}

func TestGatewayErrors_EnvoyReplies(t *testing.T) {
	tb, eps, _, _ := twoRevisions(t, false, split("hello-00001", 100))
	hang := make(chan struct{})
	defer close(hang)
	slow := newUpstream(t, "slow", func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	reset := newUpstream(t, "reset", func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close() // dies before response headers
		}
	})
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedAddr := refused.Addr().String()
	_ = refused.Close()
	paths := netv1alpha1.HTTPIngressRuleValue{Paths: []netv1alpha1.HTTPIngressPath{{Path: "/only", Splits: []netv1alpha1.IngressBackendSplit{split("hello-00001", 100)}}}}
	ing := helloIngress(false, split("empty", 100))
	ing.Name = "errors"
	ing.Spec.Rules = []netv1alpha1.IngressRule{
		{Hosts: []string{"empty.demo.example.com"}, HTTP: ing.Spec.Rules[1].HTTP},
		{Hosts: []string{"refused.demo.example.com"}, HTTP: &netv1alpha1.HTTPIngressRuleValue{Paths: []netv1alpha1.HTTPIngressPath{{Splits: []netv1alpha1.IngressBackendSplit{split("refused", 100)}}}}},
		{Hosts: []string{"slow.demo.example.com"}, HTTP: &netv1alpha1.HTTPIngressRuleValue{Paths: []netv1alpha1.HTTPIngressPath{{Splits: []netv1alpha1.IngressBackendSplit{split("slow", 100)}}}}},
		{Hosts: []string{"reset.demo.example.com"}, HTTP: &netv1alpha1.HTTPIngressRuleValue{Paths: []netv1alpha1.HTTPIngressPath{{Splits: []netv1alpha1.IngressBackendSplit{split("reset", 100)}}}}},
		{Hosts: []string{"prefix.demo.example.com"}, HTTP: &paths},
	}
	tb.Set(ing)
	eps.set("refused", refusedAddr)
	eps.set("slow", slow.addr())
	eps.set("reset", reset.addr())
	g := startGateway(t, tb, eps, func(o *Options) { o.UpstreamTimeout = 100 * time.Millisecond })

	cases := []struct {
		host, path string
		want       int
		wantBody   string
	}{
		{"nobody.demo.example.com", "/", 404, ""},
		{"prefix.demo.example.com", "/other", 404, ""},
		{"prefix.demo.example.com", "/only/below", 200, "hello-00001"},
		{"empty.demo.example.com", "/", 503, NoHealthyUpstreamBody},
		{"refused.demo.example.com", "/", 503, ConnectFailureBody},
		{"reset.demo.example.com", "/", 503, ConnectionTerminated},
		{"slow.demo.example.com", "/", 504, UpstreamTimeoutBody},
	}
	for _, c := range cases {
		if code, body := g.do(t, false, c.host, c.path, nil); code != c.want || body != c.wantBody {
			t.Errorf("GET %s%s = %d %q, want %d %q", c.host, c.path, code, body, c.want, c.wantBody)
		}
	}
	eps.mu.Lock()
	eps.err = errors.New("cache not synced")
	eps.mu.Unlock()
	if code, body := g.do(t, false, "hello.demo.example.com", "/", nil); code != 503 || body != NoHealthyUpstreamBody {
		t.Errorf("GET with an endpoints read error = %d %q, want 503 %q", code, body, NoHealthyUpstreamBody)
	}
}

// When the public Endpoints switch (the SKS flipping between pods and the activator, §3.6),
// new requests follow at once and requests already on the old upstream finish normally.
func TestGatewayEndpointSwitchKeepsInFlightRequests_Section6(t *testing.T) {
	release := make(chan struct{})
	var arrived sync.WaitGroup
	const inFlight = 5
	arrived.Add(inFlight)
	pods := newUpstream(t, "pods", func(w http.ResponseWriter, _ *http.Request) {
		arrived.Done()
		<-release
		_, _ = w.Write([]byte("pods"))
	})
	activator := newUpstream(t, "activator", nil)
	tb := NewTable()
	tb.Set(helloIngress(false, split("hello-00001", 100)))
	eps := &fakeEndpoints{}
	eps.set("hello-00001", pods.addr())
	g := startGateway(t, tb, eps)

	type result struct {
		code int
		body string
	}
	results := make(chan result, inFlight)
	for range inFlight {
		go func() {
			code, body := g.do(t, false, "hello.demo.example.com", "/", nil)
			results <- result{code, body}
		}()
	}
	arrived.Wait() // all in flight on the pods
	eps.set("hello-00001", activator.addr())
	for range 20 {
		if code, body := g.do(t, false, "hello.demo.example.com", "/", nil); code != 200 || body != "activator" {
			t.Fatalf("GET after the switch = %d %q, want 200 activator", code, body)
		}
	}
	close(release)
	for range inFlight {
		if r := <-results; r.code != 200 || r.body != "pods" {
			t.Errorf("in-flight request = %d %q, want 200 pods", r.code, r.body)
		}
	}
}

// Shutdown lets an in-flight request finish, and gives up after ShutdownTimeout (on the
// injected clock) when one never does.
func TestServerShutdownGracefulThenBounded(t *testing.T) {
	release, hang := make(chan struct{}), make(chan struct{})
	var arrived sync.WaitGroup
	arrived.Add(2)
	up := newUpstream(t, "pods", func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		if r.URL.Path == "/hang" {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		<-release
		_, _ = w.Write([]byte("done"))
	})
	defer close(hang)
	tb := NewTable()
	tb.Set(helloIngress(false, split("hello-00001", 100)))
	eps := &fakeEndpoints{}
	eps.set("hello-00001", up.addr())
	clk := testclock.NewFakeClock(time.Unix(0, 0))
	s, err := New(Options{Table: tb, Endpoints: eps, Clock: clk, ExternalAddr: "127.0.0.1:0", ShutdownTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- s.Start(ctx) }()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	get := func(path string, out chan<- error) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.ExternalAddr()+path, nil)
		req.Host = "hello.demo.example.com"
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode != 200 {
				err = errors.New(resp.Status)
			}
		}
		out <- err
	}
	graceful, bounded := make(chan error, 1), make(chan error, 1)
	go get("/", graceful)
	go get("/hang", bounded)
	arrived.Wait()
	cancel()
	// The shutdown waits on the clock; the graceful request still completes meanwhile.
	if err := wait.PollUntilContextTimeout(context.Background(), time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return clk.HasWaiters(), nil }); err != nil {
		t.Fatal("shutdown never started its bound timer")
	}
	close(release)
	if err := <-graceful; err != nil {
		t.Errorf("in-flight request during shutdown: %v, want 200", err)
	}
	select {
	case err := <-stopped:
		t.Fatalf("Start returned %v while a request was still in flight", err)
	default:
	}
	clk.Step(time.Minute)
	if err := <-stopped; err != nil {
		t.Errorf("Start() = %v, want nil", err)
	}
	if err := <-bounded; err == nil {
		t.Error("hanging request succeeded, want it cut when the shutdown bound passed")
	}
}

func TestNewRequiresTableAndEndpoints(t *testing.T) {
	if _, err := New(Options{Table: NewTable()}); err == nil {
		t.Error("New without Endpoints succeeded, want an error")
	}
	s, err := New(Options{Table: NewTable(), Endpoints: &fakeEndpoints{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err == nil {
		t.Error("Listen with no addresses succeeded, want an error")
	}
}
