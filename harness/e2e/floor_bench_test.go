package e2e_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/servingsim/servingsim/harness/load"
)

// BenchmarkLoopbackHTTPFloor is the floor under BenchmarkDataPath: plain net/http on loopback,
// an "ok" handler behind 0–3 httputil reverse proxies, nothing of servingsim in the path (the
// Serve path is gateway → queue-proxy → app, two proxies; the Proxy path adds the activator,
// three). Per chain it reports, like BenchmarkDataPath, the latency added to the direct call at
// 1,000 rps from the same load generator, and the saturation throughput and CPU per request of
// 32 closed-loop clients. Run it with -benchtime 1x.
func BenchmarkLoopbackHTTPFloor(b *testing.B) {
	var servers []*http.Server
	defer func() {
		for _, s := range servers {
			_ = s.Close()
		}
	}()
	serve := func(h http.Handler) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		s := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		servers = append(servers, s)
		go func() { _ = s.Serve(ln) }()
		return ln.Addr().String()
	}
	upstream := &http.Transport{MaxIdleConnsPerHost: 1000}
	defer upstream.CloseIdleConnections()
	chains := []string{serve(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))}
	for range 3 {
		u, err := url.Parse("http://" + chains[len(chains)-1])
		if err != nil {
			b.Fatal(err)
		}
		p := httputil.NewSingleHostReverseProxy(u)
		p.Transport = upstream
		chains = append(chains, serve(p))
	}
	ctx := context.Background()
	for range b.N {
		var direct50, direct99 time.Duration
		for proxies, addr := range chains {
			rep, err := load.Run(ctx, load.Options{Addr: addr, Target: load.Target{Host: "floor", Path: "/"},
				Phases: []load.Phase{load.Constant{Rate: 1000, Duration: 5 * time.Second}}, MaxWorkers: 500})
			if err != nil {
				b.Fatal(err)
			}
			if rep.Metrics.Success < 1 {
				b.Fatalf("%d proxies: success %.4f, errors %v", proxies, rep.Metrics.Success, rep.Metrics.Errors)
			}
			p50, p99 := rep.Metrics.Latencies.P50, rep.Metrics.Latencies.P99
			if proxies == 0 {
				direct50, direct99 = p50, p99
				b.ReportMetric(us(p50), "direct-p50-µs")
				b.ReportMetric(us(p99), "direct-p99-µs")
			} else {
				b.ReportMetric(us(p50-direct50), fmt.Sprintf("proxies%d-added-p50-µs", proxies))
				b.ReportMetric(us(p99-direct99), fmt.Sprintf("proxies%d-added-p99-µs", proxies))
			}
			rps, cpu := saturate(b, addr)
			b.ReportMetric(rps, fmt.Sprintf("proxies%d-max-rps", proxies))
			b.ReportMetric(cpu, fmt.Sprintf("proxies%d-cpu-µs/request", proxies))
		}
	}
}

// saturate drives addr with 32 closed-loop keep-alive clients for 2s and returns the
// throughput and the process CPU time per request.
func saturate(b *testing.B, addr string) (rps, cpuPerRequest float64) {
	b.Helper()
	transport := &http.Transport{MaxIdleConnsPerHost: 1000}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 5 * time.Second}
	var done, failed atomic.Int64
	const window = 2 * time.Second
	start, cpu0 := time.Now(), cpuTime()
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for time.Since(start) < window {
				resp, err := client.Get("http://" + addr + "/")
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				done.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	if done.Load() == 0 || failed.Load() > 0 {
		b.Fatalf("saturating %s: %d ok, %d failed", addr, done.Load(), failed.Load())
	}
	return float64(done.Load()) / elapsed.Seconds(), us(cpu) / float64(done.Load())
}
