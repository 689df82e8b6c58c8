package e2e_test

import (
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
)

// BenchmarkLoopbackHTTPFloor is the floor under BenchmarkDataPath: plain net/http on loopback,
// a keep-alive client driving an "ok" handler through 0–4 httputil reverse proxies, nothing of
// servingsim in the path. Its CPU per request bounds what any chain of real HTTP hops can do on
// this machine (the full Proxy path is client → gateway → activator → queue-proxy → app: three
// proxies). Run it with -benchtime 1x.
func BenchmarkLoopbackHTTPFloor(b *testing.B) {
	for hops := range 5 {
		b.Run(fmt.Sprintf("proxies=%d", hops), func(b *testing.B) {
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
			target := serve(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
			upstream := &http.Transport{MaxIdleConnsPerHost: 1000}
			defer upstream.CloseIdleConnections()
			for range hops {
				u, err := url.Parse("http://" + target)
				if err != nil {
					b.Fatal(err)
				}
				p := httputil.NewSingleHostReverseProxy(u)
				p.Transport = upstream
				target = serve(p)
			}
			clientTransport := &http.Transport{MaxIdleConnsPerHost: 1000}
			defer clientTransport.CloseIdleConnections()
			client := &http.Client{Transport: clientTransport, Timeout: 5 * time.Second}
			for i := 0; i < b.N; i++ {
				var done, failed atomic.Int64
				const window = 2 * time.Second
				start, cpu0 := time.Now(), cpuTime()
				var wg sync.WaitGroup
				for range 32 { // closed loop: 32 clients back to back saturate both cores
					wg.Go(func() {
						for time.Since(start) < window {
							resp, err := client.Get("http://" + target + "/")
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
				if done.Load() == 0 {
					b.Fatalf("no request succeeded (%d failed)", failed.Load())
				}
				b.ReportMetric(float64(done.Load())/elapsed.Seconds(), "rps")
				b.ReportMetric(float64(cpu.Microseconds())/float64(done.Load()), "cpu-µs/request")
				b.ReportMetric(float64(failed.Load()), "failed")
			}
		})
	}
}
