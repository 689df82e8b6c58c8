package e2e_test

import (
	"context"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/servingsim/servingsim/harness"
	"github.com/servingsim/servingsim/harness/load"
	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/podruntime"
)

// BenchmarkDataPath measures the data path of issue 3 in one run: the latency each path adds to
// the app called directly at 1,000 rps (gateway→queue-proxy in Serve mode, gateway→activator→
// queue-proxy in Proxy mode), the highest rate the full Proxy path sustains with zero errors,
// and the process CPU time per request (load generator included). Run it with -benchtime 1x.
func BenchmarkDataPath(b *testing.B) {
	ctx := context.Background()
	st, err := harness.Start(ctx, harness.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = st.Stop() }()
	ns, err := st.NewNamespace(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	// Serve keeps the activator out of the path (TBC 0), Proxy keeps it in (TBC -1) (§3.5.5).
	for name, tbc := range map[string]string{"serve": "0", "proxy": "-1"} {
		s := ksvc(ns, name, map[string]string{serving.MinScaleAnnotationKey: "1", serving.MaxScaleAnnotationKey: "1",
			serving.TargetBurstCapacityAnnotationKey: tbc}, func(r *servingv1.RevisionSpec) { r.ContainerConcurrency = ptr(int64(0)) })
		if err := st.Client.Create(ctx, s); err != nil {
			b.Fatal(err)
		}
		if err := st.WaitReady(ctx, s, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
	waitMode(b, st, ns, "serve-00001", "Serve")
	waitMode(b, st, ns, "proxy-00001", "Proxy")
	appAddr := net.JoinHostPort(podIP(b, st, ns, "serve-00001"), "8080")

	b.ResetTimer()
	for range b.N {
		const rate, dur = 1000, 5 * time.Second
		measure := func(addr, host string) (p50, p99 time.Duration) {
			rep, err := load.Run(ctx, load.Options{Addr: addr, Target: load.Target{Host: host, Path: "/"},
				Phases: []load.Phase{load.Constant{Rate: rate, Duration: dur}}, MaxWorkers: 500})
			if err != nil {
				b.Fatal(err)
			}
			if rep.Metrics.Success < 1 {
				b.Fatalf("%s via %s: success %.4f, errors %v", host, addr, rep.Metrics.Success, rep.Metrics.Errors)
			}
			return rep.Metrics.Latencies.P50, rep.Metrics.Latencies.P99
		}
		d50, d99 := measure(appAddr, "app")
		s50, s99 := measure(st.System.GatewayAddress(), host("serve", ns))
		p50, p99 := measure(st.System.GatewayAddress(), host("proxy", ns))
		b.ReportMetric(us(d50), "direct-p50-µs")
		b.ReportMetric(us(d99), "direct-p99-µs")
		b.ReportMetric(us(s50-d50), "serve-added-p50-µs")
		b.ReportMetric(us(s99-d99), "serve-added-p99-µs")
		b.ReportMetric(us(p50-d50), "proxy-added-p50-µs")
		b.ReportMetric(us(p99-d99), "proxy-added-p99-µs")

		// Highest sustained rate through gateway→activator→queue-proxy→app with zero errors.
		best, cpuPerReq := 0.0, 0.0
		for _, r := range []float64{2000, 3000, 4000, 6000, 8000, 10000, 12000, 14000, 16000} {
			before := cpuTime()
			rep, err := load.Run(ctx, load.Options{Addr: st.System.GatewayAddress(), Target: load.Target{Host: host("proxy", ns)},
				Phases: []load.Phase{load.Constant{Rate: r, Duration: 3 * time.Second}}, MaxWorkers: 2000})
			if err != nil {
				b.Fatal(err)
			}
			cpu := cpuTime() - before
			ok := rep.Metrics.Success == 1 && rep.Metrics.Throughput >= 0.95*r
			b.Logf("rate %6.0f: throughput %7.0f rps, success %.4f, p99 %v, CPU %.1f µs/request", r, rep.Metrics.Throughput,
				rep.Metrics.Success, rep.Metrics.Latencies.P99, us(cpu)/float64(len(rep.Results)))
			if !ok {
				break
			}
			best, cpuPerReq = rep.Metrics.Throughput, us(cpu)/float64(len(rep.Results))
		}
		b.ReportMetric(best, "max-rps-zero-errors")
		b.ReportMetric(cpuPerReq, "cpu-µs/request")
	}
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// cpuTime is this process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func waitMode(b *testing.B, st *harness.Stack, ns, name, mode string) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		s := &netv1alpha1.ServerlessService{}
		if err := st.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, s); err == nil &&
			string(s.Spec.Mode) == mode && readyPodsOf(st, ns, name) > 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatalf("SKS %s/%s not in %s mode with a ready pod within a minute", ns, name, mode)
}

func readyPodsOf(st *harness.Stack, ns, rev string) int {
	pods := &corev1.PodList{}
	if err := st.Client.List(context.Background(), pods, client.InNamespace(ns), client.MatchingLabels{serving.RevisionLabelKey: rev}); err != nil {
		return 0
	}
	n := 0
	for _, p := range pods.Items {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && p.DeletionTimestamp == nil {
				n++
			}
		}
	}
	return n
}

func podIP(b *testing.B, st *harness.Stack, ns, rev string) string {
	b.Helper()
	pods := &corev1.PodList{}
	if err := st.Client.List(context.Background(), pods, client.InNamespace(ns), client.MatchingLabels{serving.RevisionLabelKey: rev}); err != nil || len(pods.Items) == 0 {
		b.Fatal(fmt.Errorf("pods of %s: %w (%d found)", rev, err, len(pods.Items)))
	}
	return podruntime.PodIP(pods.Items[0].Status.PodIP)
}
