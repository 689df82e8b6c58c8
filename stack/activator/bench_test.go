package activator

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/servingsim/servingsim/stack/rng"
)

// BenchmarkThrottlerTry measures the try path (revision breaker, pod pick and release) per
// request for each load-balancing policy, with 10 healthy pods and enough capacity that
// nothing queues; parallel runs show lock contention.
func BenchmarkThrottlerTry(b *testing.B) {
	noop := func(string) error { return nil }
	for _, cc := range []int{0, 1, 10} {
		th := NewThrottler(cc, rng.New(1).Stream("bench"))
		th.UpdateBackends(ips(10))
		name := fmt.Sprintf("cc=%d/%s", cc, PolicyFor(cc))
		b.Run(name+"/serial", func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				if err := th.Try(ctx, noop); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			ctx := context.Background()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := th.Try(ctx, noop); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// requestsPerOp is the number of request pairs in one iteration, so that even -benchtime 1x
// yields meaningful percentiles.
const requestsPerOp = 250

// BenchmarkActivatorHop measures what the activator adds per request (§7.1 dataplane-probe:
// the activator hop's share of p95): each iteration sends requestsPerOp pairs, one straight to
// a fake queue-proxy and one through the activator's handler chain over loopback, one at a time
// on keep-alive connections. Reported: p50/p99 of both paths in µs and their differences.
func BenchmarkActivatorHop(b *testing.B) {
	for _, cc := range []int{0, 10} {
		b.Run(fmt.Sprintf("cc=%d", cc), func(b *testing.B) {
			e := newTestEnv(b, Options{})
			pod := startFakePod(b, okHandler)
			e.addRevision(revA, cc, defaultLimits)
			e.setPods(revA, pod)
			e.waitHealthy(b, revA, 1)
			direct := &http.Client{Transport: &http.Transport{}}
			defer direct.CloseIdleConnections()
			once := func(c *http.Client, url string, viaActivator bool) time.Duration {
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
				if viaActivator {
					req.Header.Set("Knative-Serving-Revision", revA.Name)
					req.Header.Set("Knative-Serving-Namespace", revA.Namespace)
				}
				start := time.Now()
				resp, err := c.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("GET %s = %d", url, resp.StatusCode)
				}
				return time.Since(start)
			}
			podURL, actURL := "http://"+pod.addr+"/", e.url+"/"
			once(direct, podURL, false)
			once(e.client, actURL, true)
			dl := make([]time.Duration, 0, b.N*requestsPerOp)
			al := make([]time.Duration, 0, b.N*requestsPerOp)
			b.ResetTimer()
			for range b.N * requestsPerOp {
				dl = append(dl, once(direct, podURL, false))
				al = append(al, once(e.client, actURL, true))
			}
			b.StopTimer()
			d50, d99 := percentile(dl, 50), percentile(dl, 99)
			a50, a99 := percentile(al, 50), percentile(al, 99)
			b.ReportMetric(d50, "direct-p50-µs")
			b.ReportMetric(d99, "direct-p99-µs")
			b.ReportMetric(a50, "activator-p50-µs")
			b.ReportMetric(a99, "activator-p99-µs")
			b.ReportMetric(a50-d50, "hop-p50-µs")
			b.ReportMetric(a99-d99, "hop-p99-µs")
		})
	}
}

// BenchmarkActivatorThroughput drives the activator with parallel keep-alive clients to 4
// fake queue-proxies (CC=0) and reports requests per second.
func BenchmarkActivatorThroughput(b *testing.B) {
	e := newTestEnv(b, Options{})
	var pods []*fakePod
	for range 4 {
		pods = append(pods, startFakePod(b, okHandler))
	}
	e.addRevision(revA, 0, defaultLimits)
	e.setPods(revA, pods...)
	e.waitHealthy(b, revA, 4)
	b.SetParallelism(8)
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := e.get(revA, "/", nil); r.code != http.StatusOK {
				b.Errorf("GET = %d %q %v", r.code, r.body, r.err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

// percentile returns the p-th percentile (nearest rank) of ds in microseconds.
func percentile(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	i = max(0, min(i, len(s)-1))
	return float64(s[i]) / float64(time.Microsecond)
}
