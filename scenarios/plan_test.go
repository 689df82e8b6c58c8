package scenarios

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/servingsim/servingsim/harness/virtual"
)

func TestParseSweep(t *testing.T) {
	for _, tc := range []struct {
		arg, err string
		want     Sweep
	}{
		{arg: "target=5, 10,20", want: Sweep{Knob: "target", Values: []string{"5", "10", "20"}}},
		{arg: "scale-to-zero-grace-period=30s", want: Sweep{Knob: "scale-to-zero-grace-period", Values: []string{"30s"}}},
		{arg: "target", err: "want knob=value"},
		{arg: "target=", err: "want knob=value"},
		{arg: "target=1,,2", err: "empty value"},
		{arg: "speed=1", err: `unknown knob "speed"`},
	} {
		got, err := ParseSweep(tc.arg)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseSweep(%q) error %v, want %q", tc.arg, err, tc.err)
			}
			continue
		}
		if err != nil || got.Knob != tc.want.Knob || strings.Join(got.Values, "|") != strings.Join(tc.want.Values, "|") {
			t.Errorf("ParseSweep(%q) = %+v, %v; want %+v", tc.arg, got, err, tc.want)
		}
	}
}

func TestVariants_CrossFirstSlowest(t *testing.T) {
	got := variants([]Sweep{{"target", []string{"1", "2"}}, {"activators", []string{"1", "3"}}})
	var labels []string
	for _, v := range got {
		labels = append(labels, PlanRow{Settings: v}.Label())
	}
	want := "target=1 activators=1|target=1 activators=3|target=2 activators=1|target=2 activators=3"
	if strings.Join(labels, "|") != want {
		t.Errorf("variants = %s, want %s", strings.Join(labels, "|"), want)
	}
}

// TestPlan_TargetSweep: a higher per-pod target (§3.4) needs fewer pods for the same load,
// so pod-seconds and peak pods fall as the target rises; more activators reserve more CPU.
func TestPlan_TargetSweep(t *testing.T) {
	s, err := CatalogScenario("burst-to-panic")
	if err != nil {
		t.Fatal(err)
	}
	opts := PlanOptions{Seed: 1, Sweeps: []Sweep{{KnobTarget, []string{"2", "5", "20"}}, {KnobActivators, []string{"1", "3"}}}}
	rows, err := Plan(context.Background(), s, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Fatalf("%d rows, want 6 (3 targets × 2 activator counts)", len(rows))
	}
	for i := 0; i+2 < len(rows); i += 2 {
		lo, hi := rows[i], rows[i+2]
		if hi.PodSeconds >= lo.PodSeconds || hi.PeakPods > lo.PeakPods {
			t.Errorf("%s: %.1f pod-s, peak %d; %s: %.1f pod-s, peak %d; want fewer at the higher target",
				lo.Label(), lo.PodSeconds, lo.PeakPods, hi.Label(), hi.PodSeconds, hi.PeakPods)
		}
	}
	for _, r := range rows {
		if r.Requests == 0 || r.P95Pods > float64(r.PeakPods) || r.Latency.P50 > r.Latency.P95 || r.Latency.P95 > r.Latency.P99 {
			t.Errorf("%s: implausible row %+v", r.Label(), r)
		}
		wantCPU := InstallMilliCPU + float64(r.Activators-1)*ExtraActivatorMilliCPU + float64(r.PeakPods)*QueueProxyMilliCPU
		if r.MilliCPU != wantCPU {
			t.Errorf("%s: %.0f mCPU, want %.0f (install, extra activators, queue-proxies at peak)", r.Label(), r.MilliCPU, wantCPU)
		}
	}
	again, err := Plan(context.Background(), s, opts)
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := WritePlanCSV(&a, rows); err != nil {
		t.Fatal(err)
	}
	_ = WritePlanCSV(&b, again)
	if a.String() != b.String() {
		t.Errorf("same seed, different plan:\n%s\n%s", a.String(), b.String())
	}
	header := strings.SplitN(a.String(), "\n", 2)[0]
	if want := "knob_target,knob_activators,pod_seconds,peak_pods,p95_pods,activators,cold_starts,waited_requests,requests,errors," +
		"latency_p50_ms,latency_p95_ms,latency_p99_ms,vcpu,memory_mib"; header != want {
		t.Errorf("plan.csv header\n%s\nwant\n%s", header, want)
	}
	var svg bytes.Buffer
	if err := WritePlanSVG(&svg, rows); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(svg.String(), "<svg") || !strings.Contains(svg.String(), "p95 latency") {
		t.Error("plot is not an SVG with a p95 latency panel")
	}
}

// TestPlan_TraceColdStartsAndRequests: a trace with a quiet minute, longer than the stable
// window and grace period (§3.5), scales to zero and back, so it has a cold start and a request
// that waited, unless min-scale 1 keeps a pod; app requests in the template count per pod.
func TestPlan_TraceColdStartsAndRequests(t *testing.T) {
	s, err := Parse([]byte(`apiVersion: servingsim.dev/v1alpha1
kind: Scenario
metadata: {name: plan-trace}
spec:
  stack:
    configOverrides:
      config-autoscaler: {stable-window: 6s, scale-to-zero-grace-period: 6s}
    app: {serviceTime: 50ms}
  services:
    - apiVersion: serving.knative.dev/v1
      kind: Service
      metadata: {name: fn}
      spec:
        template:
          spec:
            containers:
              - image: fn
                resources: {requests: {cpu: 250m, memory: 128Mi}}
  workload:
    - target: {service: fn}
      phases: [{constant: {rate: 1/s, duration: 1s}}]
`), "plan-trace.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in := "HashOwner,HashApp,HashFunction,Trigger,1,2,3\no,a,f,http,120,0,120\n"
	trace, err := virtual.ReadTrace(strings.NewReader(in), "t.csv", virtual.TraceOptions{Format: virtual.TraceAzure2019, Within: virtual.WithinEquidistant})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := Plan(context.Background(), s, PlanOptions{Seed: 1, Trace: trace,
		Sweeps: []Sweep{{KnobMinScale, []string{"0", "1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	short, long := rows[0], rows[1] // min-scale 0, 1
	if short.Requests != 240 || short.Errors != 0 {
		t.Errorf("%s: %d requests, %d errors; want 240, 0", short.Label(), short.Requests, short.Errors)
	}
	if short.ColdStarts < 1 || short.Waited < 1 {
		t.Errorf("%s: %d cold starts, %d waited; want the idle minute to scale to zero and back", short.Label(), short.ColdStarts, short.Waited)
	}
	if long.ColdStarts != 0 || long.Waited != 0 || long.PodSeconds <= short.PodSeconds {
		t.Errorf("min-scale 1: %d cold starts, %.0f pod-s; min-scale 0: %d, %.0f; want no cold starts and more pod-seconds",
			long.ColdStarts, long.PodSeconds, short.ColdStarts, short.PodSeconds)
	}
	wantMiB := InstallMiB + float64(short.PeakPods)*128
	if short.MiB != wantMiB {
		t.Errorf("%.0f MiB at %d peak pods, want %.0f", short.MiB, short.PeakPods, wantMiB)
	}
	if cpu := InstallMilliCPU + float64(short.PeakPods)*(QueueProxyMilliCPU+250); short.MilliCPU != cpu {
		t.Errorf("%.0f mCPU, want %.0f", short.MilliCPU, cpu)
	}
}

func TestPlan_BadKnobValue(t *testing.T) {
	s, err := CatalogScenario("burst-to-panic")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Plan(context.Background(), s, PlanOptions{Sweeps: []Sweep{{KnobActivators, []string{"0"}}}})
	if err == nil || !strings.Contains(err.Error(), "activators=0") {
		t.Errorf("error %v, want one naming activators=0", err)
	}
}
