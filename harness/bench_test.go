package harness_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/servingsim/servingsim/harness"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
)

// startBenchStack starts a stack for benchmarks: zero pod start delay, so the numbers measure the
// control plane (API server round trips, webhook, reconcilers), not the modelled kubelet.
func startBenchStack(b *testing.B) *harness.Stack {
	b.Helper()
	st, err := harness.Start(context.Background(), benchOptions())
	if err != nil {
		b.Fatalf("start stack: %v", err)
	}
	b.Cleanup(func() { _ = st.Stop() })
	return st
}

func benchService(ns, name string) *servingv1.Service {
	s := &servingv1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	s.Spec.Template.Spec.Containers = []corev1.Container{{Image: "dev.local/hello"}}
	return s
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

// BenchmarkServiceCreateToReady measures one ksvc at a time from create to Ready (target: p95
// under 200ms).
func BenchmarkServiceCreateToReady(b *testing.B) {
	st := startBenchStack(b)
	ctx := context.Background()
	ns, err := st.NewNamespace(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	const n = 100
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lat = lat[:0]
		for j := range n {
			svc := benchService(ns, fmt.Sprintf("s%d-%d", i, j))
			start := time.Now()
			if err := st.Client.Create(ctx, svc); err != nil {
				b.Fatal(err)
			}
			if err := st.WaitReady(ctx, svc, time.Minute); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(percentile(lat, 0.5).Milliseconds()), "p50-ms")
	b.ReportMetric(float64(percentile(lat, 0.95).Milliseconds()), "p95-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Milliseconds()), "max-ms")
}

// BenchmarkThousandServicesAtOnce creates 1,000 ksvcs concurrently and measures the time until
// every one is Ready (target: under 60s).
func BenchmarkThousandServicesAtOnce(b *testing.B) {
	st := startBenchStack(b)
	ctx := context.Background()
	n := benchCount(1000)
	before := apiWrites(b, st)
	for i := 0; i < b.N; i++ {
		ns, err := st.NewNamespace(ctx, "bench-1k")
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, n)
		sem := make(chan struct{}, 50) // bounded client concurrency
		for j := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				svc := benchService(ns, fmt.Sprintf("s%d", j))
				if err := st.Client.Create(ctx, svc); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		created := time.Since(start)
		for j := range n {
			svc := &servingv1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("s%d", j)}}
			if err := st.WaitReady(ctx, svc, 5*time.Minute); err != nil {
				b.Fatal(err)
			}
		}
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		b.ReportMetric(created.Seconds(), "create-all-s")
		b.ReportMetric(time.Since(start).Seconds(), "all-ready-s")
	}
	after := apiWrites(b, st)
	b.ReportMetric((after["total"]-before["total"])/float64(n*b.N), "api-writes/ksvc")
	if testing.Verbose() {
		keys := make([]string, 0, len(after))
		for k := range after {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b.Logf("writes %-40s %6.0f", k, after[k]-before[k])
		}
	}
}

// benchCount lets a developer shrink a benchmark's object count (SERVINGSIM_BENCH_N) while
// profiling; the documented numbers use the default.
func benchCount(def int) int {
	if v, err := strconv.Atoi(os.Getenv("SERVINGSIM_BENCH_N")); err == nil && v > 0 {
		return v
	}
	return def
}

// apiWrites returns the API server's count of mutating requests (create, update, patch, delete)
// by resource, from its own /metrics.
func apiWrites(b *testing.B, st *harness.Stack) map[string]float64 {
	b.Helper()
	cs, err := kubernetes.NewForConfig(st.Config)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]float64{}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		verb := labelValue(line, "verb")
		if verb != "POST" && verb != "PUT" && verb != "PATCH" && verb != "DELETE" {
			continue
		}
		res := labelValue(line, "resource")
		if sub := labelValue(line, "subresource"); sub != "" {
			res += "/" + sub
		}
		v, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		out[res] += v
		out["total"] += v
		if code := labelValue(line, "code"); !strings.HasPrefix(code, "2") {
			out[res+" "+code] += v // conflicts and other failed writes, worth driving down
		}
	}
	return out
}

func labelValue(line, name string) string {
	i := strings.Index(line, name+`="`)
	if i < 0 {
		return ""
	}
	rest := line[i+len(name)+2:]
	return rest[:strings.IndexByte(rest, '"')]
}
