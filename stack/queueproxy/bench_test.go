package queueproxy

import (
	"io"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"
)

// pairsPerOp is the number of request pairs in one benchmark iteration, so that even
// -benchtime 1x (make bench) yields meaningful percentiles.
const pairsPerOp = 250

// BenchmarkQueueProxyHop measures the latency the queue-proxy adds (§7.1 dataplane-probe: the
// queue-proxy hop's share of p95). Each iteration sends pairsPerOp pairs: one request straight
// to the app and one through the queue-proxy, one at a time over keep-alive connections (closed
// loop: at most one request in flight, so the rate is bounded by the latency and the run by
// -benchtime). Reported: p50/p99 of both paths in µs and the p50/p99 differences.
func BenchmarkQueueProxyHop(b *testing.B) {
	for _, bc := range []struct {
		name string
		cc   int
	}{{"cc=0", 0}, {"cc=10", 10}} {
		b.Run(bc.name, func(b *testing.B) {
			p := startPod(b, podSpec{cfg: Config{ContainerConcurrency: bc.cc}})
			direct := &http.Client{Transport: &http.Transport{}}
			defer direct.CloseIdleConnections()
			appURL := "http://" + net.JoinHostPort(p.ip.String(), "8080") + "/"
			qpURL := p.url("/")
			once := func(c *http.Client, url string) time.Duration {
				start := time.Now()
				resp, err := c.Get(url)
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
			once(direct, appURL) // warm both connection pools
			once(p.client, qpURL)
			dl := make([]time.Duration, 0, b.N*pairsPerOp)
			ql := make([]time.Duration, 0, b.N*pairsPerOp)
			b.ResetTimer()
			for range b.N * pairsPerOp {
				dl = append(dl, once(direct, appURL))
				ql = append(ql, once(p.client, qpURL))
			}
			b.StopTimer()
			d50, d99 := percentile(dl, 50), percentile(dl, 99)
			q50, q99 := percentile(ql, 50), percentile(ql, 99)
			b.ReportMetric(d50, "direct-p50-µs")
			b.ReportMetric(d99, "direct-p99-µs")
			b.ReportMetric(q50, "qp-p50-µs")
			b.ReportMetric(q99, "qp-p99-µs")
			b.ReportMetric(q50-d50, "hop-p50-µs")
			b.ReportMetric(q99-d99, "hop-p99-µs")
		})
	}
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
