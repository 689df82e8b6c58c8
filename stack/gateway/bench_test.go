package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/servingsim/servingsim/stack/rng"
)

// BenchmarkGatewayHop measures one routed request through the gateway's handler (host match,
// path match, weighted split, endpoint read, reverse proxy over a pooled keep-alive connection)
// to a loopback upstream that answers at once.
func BenchmarkGatewayHop(b *testing.B) {
	tb := NewTable()
	tb.Set(helloIngress(false, split("hello-00001", 80), split("hello-00002", 20)))
	up := newUpstream(b, "up", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	eps := &fakeEndpoints{}
	eps.set("hello-00001", up.addr())
	eps.set("hello-00002", up.addr())
	s, err := New(Options{Table: tb, Endpoints: eps, Stream: rng.New(1).Stream("gateway")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.transport.CloseIdleConnections()
	h := s.ExternalHandler()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest(http.MethodGet, "http://hello.demo.example.com/", nil)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}

// BenchmarkGatewayLoopback measures the full hop as a client sees it: client → gateway
// listener → upstream, all on loopback with keep-alives; ns/op is the inverse throughput.
func BenchmarkGatewayLoopback(b *testing.B) {
	tb := NewTable()
	tb.Set(helloIngress(false, split("hello-00001", 100)))
	up := newUpstream(b, "up", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	eps := &fakeEndpoints{}
	eps.set("hello-00001", up.addr())
	g := startGateway(b, tb, eps)
	url := "http://" + g.ExternalAddr() + "/"
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.Host = "hello.demo.example.com"
			resp, err := g.client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}
