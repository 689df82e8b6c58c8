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
	"sigs.k8s.io/controller-runtime/pkg/client"

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
// under 200ms). p50-ms/p95-ms are what a client polling every 50ms (harness.WaitReady) sees;
// the -watch- metrics take the moment a watch delivers the Ready status, which is the control
// plane's own latency without the polling interval.
func BenchmarkServiceCreateToReady(b *testing.B) {
	st := startBenchStack(b)
	ctx := context.Background()
	ns, err := st.NewNamespace(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	readyAt := watchReady(ctx, b, st, ns)
	const n = 100
	var lat, watched []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lat, watched = lat[:0], watched[:0]
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
			if at := readyAt(svc.Name); !at.IsZero() {
				watched = append(watched, at.Sub(start))
			}
		}
	}
	b.StopTimer()
	for _, m := range []struct {
		unit string
		d    []time.Duration
	}{{"", lat}, {"-watch", watched}} {
		if len(m.d) == 0 {
			continue
		}
		sort.Slice(m.d, func(i, j int) bool { return m.d[i] < m.d[j] })
		b.ReportMetric(float64(percentile(m.d, 0.5).Milliseconds()), "p50"+m.unit+"-ms")
		b.ReportMetric(float64(percentile(m.d, 0.95).Milliseconds()), "p95"+m.unit+"-ms")
		b.ReportMetric(float64(m.d[len(m.d)-1].Milliseconds()), "max"+m.unit+"-ms")
	}
}

// watchReady watches the Services of ns and returns a function giving the moment a Service was
// first seen Ready at its current generation (waiting up to a second for the watch to say so).
func watchReady(ctx context.Context, b *testing.B, st *harness.Stack, ns string) func(name string) time.Time {
	b.Helper()
	wc, err := client.NewWithWatch(st.Config, client.Options{Scheme: st.Client.Scheme()})
	if err != nil {
		b.Fatal(err)
	}
	w, err := wc.Watch(ctx, &servingv1.ServiceList{}, client.InNamespace(ns))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(w.Stop)
	var mu sync.Mutex
	seen := map[string]time.Time{}
	go func() {
		for ev := range w.ResultChan() {
			svc, ok := ev.Object.(*servingv1.Service)
			if !ok || svc.Status.ObservedGeneration != svc.Generation || !harness.ReadyCondition(svc).IsTrue() {
				continue
			}
			mu.Lock()
			if _, ok := seen[svc.Name]; !ok {
				seen[svc.Name] = time.Now()
			}
			mu.Unlock()
		}
	}()
	return func(name string) time.Time {
		for deadline := time.Now().Add(time.Second); ; time.Sleep(time.Millisecond) {
			mu.Lock()
			at, ok := seen[name]
			mu.Unlock()
			if ok || time.Now().After(deadline) {
				return at
			}
		}
	}
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
	b.ReportMetric((after["failed"]-before["failed"])/float64(n*b.N), "failed-writes/ksvc")
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
		if group := labelValue(line, "group"); group != "" {
			res = group + "/" + res // ksvc status apart from core Service writes
		}
		if sub := labelValue(line, "subresource"); sub != "" {
			res += "/" + sub
		}
		v, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		out[res] += v
		out["total"] += v
		if code := labelValue(line, "code"); !strings.HasPrefix(code, "2") {
			out[res+" "+code] += v // conflicts and other failed writes, worth driving down
			out["failed"] += v
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
