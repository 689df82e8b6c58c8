package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/rng"
)

const testNS = "demo"

// split is a route-generated split to revision rev's public Service (§6 Rule generation).
func split(rev string, percent int) netv1alpha1.IngressBackendSplit {
	return netv1alpha1.IngressBackendSplit{
		ServiceNamespace: testNS, ServiceName: rev, ServicePort: intstr.FromInt32(serving.ServiceHTTPPort), Percent: percent,
		AppendHeaders: map[string]string{serving.RevisionHeaderName: rev, serving.RevisionNamespaceHeaderName: testNS},
	}
}

func expanded(name string) []string {
	return []string{name + "." + testNS, name + "." + testNS + ".svc", name + "." + testNS + ".svc.cluster.local"}
}

// helloIngress is what the route reconciler makes for route hello with traffic main (the
// default target) and a tag "candidate" at 100% to hello-00002; with tagHeader the default
// rules also get a Knative-Serving-Tag match per tag (§6 Tag header routing).
func helloIngress(tagHeader bool, main ...netv1alpha1.IngressBackendSplit) *netv1alpha1.Ingress {
	defPaths := func() []netv1alpha1.HTTPIngressPath {
		def := netv1alpha1.HTTPIngressPath{Splits: main}
		if !tagHeader {
			return []netv1alpha1.HTTPIngressPath{def}
		}
		def.AppendHeaders = map[string]string{serving.DefaultRouteHeaderName: "true"}
		tagged := netv1alpha1.HTTPIngressPath{
			Headers: map[string]netv1alpha1.HeaderMatch{serving.TagHeaderName: {Exact: "candidate"}},
			Splits:  []netv1alpha1.IngressBackendSplit{split("hello-00002", 100)},
		}
		return []netv1alpha1.HTTPIngressPath{def, tagged} // Table.Set must put the header match first
	}
	tagPaths := func() []netv1alpha1.HTTPIngressPath {
		p := netv1alpha1.HTTPIngressPath{Splits: []netv1alpha1.IngressBackendSplit{split("hello-00002", 100)}}
		if tagHeader {
			p.AppendHeaders = map[string]string{serving.TagHeaderName: "candidate"}
		}
		return []netv1alpha1.HTTPIngressPath{p}
	}
	rule := func(hosts []string, vis netv1alpha1.IngressVisibility, paths []netv1alpha1.HTTPIngressPath) netv1alpha1.IngressRule {
		return netv1alpha1.IngressRule{Hosts: hosts, Visibility: vis, HTTP: &netv1alpha1.HTTPIngressRuleValue{Paths: paths}}
	}
	return &netv1alpha1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: "hello"},
		Spec: netv1alpha1.IngressSpec{Rules: []netv1alpha1.IngressRule{
			rule(expanded("hello"), netv1alpha1.IngressVisibilityClusterLocal, defPaths()),
			rule([]string{"hello.demo.example.com"}, netv1alpha1.IngressVisibilityExternalIP, defPaths()),
			rule(expanded("candidate-hello"), netv1alpha1.IngressVisibilityClusterLocal, tagPaths()),
			rule([]string{"candidate-hello.demo.example.com"}, netv1alpha1.IngressVisibilityExternalIP, tagPaths()),
		}},
	}
}

// seen is what an upstream observed of one request.
type seen struct {
	upstream string
	host     string
	header   http.Header
}

// upstream is a loopback HTTP server standing in for a revision's pods (or the activator).
type upstream struct {
	name string
	srv  *httptest.Server
	mu   sync.Mutex
	log  []seen
}

func newUpstream(t testing.TB, name string, h http.HandlerFunc) *upstream {
	t.Helper()
	u := &upstream{name: name}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.log = append(u.log, seen{upstream: name, host: r.Host, header: r.Header.Clone()})
		u.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		_, _ = io.WriteString(w, name)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) addr() string { return strings.TrimPrefix(u.srv.URL, "http://") }

func (u *upstream) last(t testing.TB) seen {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.log) == 0 {
		t.Fatalf("upstream %s saw no request", u.name)
	}
	return u.log[len(u.log)-1]
}

// fakeEndpoints maps "ns/name" to addresses and can be switched while requests run.
type fakeEndpoints struct {
	mu    sync.Mutex
	addrs map[string][]string
	err   error
}

func (f *fakeEndpoints) set(name string, addrs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.addrs == nil {
		f.addrs = map[string][]string{}
	}
	f.addrs[testNS+"/"+name] = addrs
}

func (f *fakeEndpoints) ReadyAddrs(_ context.Context, ns, name string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addrs[ns+"/"+name], f.err
}

// gateway is a started Server on loopback with its client.
type gateway struct {
	*Server
	client    *http.Client
	tagHeader atomic.Bool
}

func startGateway(t testing.TB, table *Table, eps EndpointsReader, mutate ...func(*Options)) *gateway {
	t.Helper()
	g := &gateway{}
	opts := Options{Table: table, Endpoints: eps, Stream: rng.New(42).Stream("gateway"),
		TagHeaderRouting: g.tagHeader.Load, ExternalAddr: "127.0.0.1:0", InternalAddr: "127.0.0.1:0"}
	for _, m := range mutate {
		m(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	if err := s.Listen(); err != nil {
		t.Fatalf("Listen() error = %v", err)
	}
	g.Server = s
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	tr := &http.Transport{MaxIdleConnsPerHost: 100}
	g.client = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Start() = %v, want nil after ctx ends", err)
		}
		tr.CloseIdleConnections()
	})
	return g
}

// do sends a request for host to the external or internal listener and returns the status and
// body.
func (g *gateway) do(t testing.TB, internal bool, host, path string, header http.Header) (int, string) {
	t.Helper()
	addr := g.ExternalAddr()
	if internal {
		addr = g.InternalAddr()
	}
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := g.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s (Host %s) error = %v", path, host, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, string(b)
}
