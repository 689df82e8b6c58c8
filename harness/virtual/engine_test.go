package virtual

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/podruntime"
)

func TestRun_SameSeedSameBytes_DifferentSeedDiffers(t *testing.T) {
	spec := service{serviceTime: "lognormal(80ms,0.6)", startup: 700 * time.Millisecond,
		annotations: annos(serving.InitialScaleAnnotationKey, "0")}.spec(t,
		map[string]string{"allow-zero-initial-scale": "true", "stable-window": "6s", "scale-to-zero-grace-period": "2s"},
		Burst{Requests: 5}, Ramp{From: 0, To: 80, Duration: 10 * time.Second}, Idle{Duration: 15 * time.Second}, Constant{Rate: 30, Duration: 5 * time.Second})
	spec.Arrivals = Poisson
	encode := func(r *Result) string {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	a, b := run(t, spec), run(t, spec)
	if !reflect.DeepEqual(a, b) || encode(a) != encode(b) {
		t.Fatalf("two runs with seed %d differ", spec.Seed)
	}
	if len(a.Requests) == 0 || len(a.Samples) == 0 || len(a.Decisions) == 0 || len(a.Events) == 0 {
		t.Fatalf("run recorded %d requests, %d samples, %d decisions, %d events; want all", len(a.Requests), len(a.Samples), len(a.Decisions), len(a.Events))
	}
	spec.Seed++
	if c := run(t, spec); encode(c) == encode(a) {
		t.Errorf("seeds %d and %d gave identical runs", spec.Seed-1, spec.Seed)
	}
}

// A request to a revision at zero waits in the activator for the modelled pod start (§4
// buffering at zero). The first scale from zero of a new revision waits for the first decider
// tick (its standing decision is -1, so the activator's stat does not poke, §3.3.3); once the
// decider has decided 0, a request pokes it and waits only for the pod.
func TestColdStart_WaitsForModelledStartup_Section4_Section3_3_3(t *testing.T) {
	const startup = 2 * time.Second
	spec := service{startup: startup, serviceTime: "10ms", annotations: annos(serving.InitialScaleAnnotationKey, "0")}.spec(t,
		map[string]string{"allow-zero-initial-scale": "true", "stable-window": "6s", "scale-to-zero-grace-period": "2s"},
		Burst{Requests: 1}, Idle{Duration: 60 * time.Second}, Burst{Requests: 1})
	spec.DrainQuietPeriod = time.Second
	res := run(t, spec)
	if len(res.Requests) != 2 {
		t.Fatalf("%d requests, want 2", len(res.Requests))
	}
	first, second := res.Requests[0], res.Requests[1]
	for i, q := range res.Requests {
		if q.Code != http.StatusOK || !q.ColdStart {
			t.Errorf("request %d = code %d, cold start %v; want 200 after a cold start", i, q.Code, q.ColdStart)
		}
	}
	if first.Latency < startup || first.Latency > startup+2*time.Second+time.Second/2 {
		t.Errorf("first cold start took %s, want the %s startup plus at most one 2s decider tick", first.Latency, startup)
	}
	if second.Latency < startup || second.Latency > startup+300*time.Millisecond {
		t.Errorf("poked cold start took %s, want the %s startup plus the control-plane delays (< 300ms)", second.Latency, startup)
	}
	if s := res.Revisions[0]; s.PodsStarted != 2 || s.ColdStarts != 2 {
		t.Errorf("summary = %d pods started, %d cold starts; want 2 and 2", s.PodsStarted, s.ColdStarts)
	}
}

// TestSingleConcurrency's rule: with containerConcurrency 1 the app never works on two
// requests at once (§5 Breaker, §4 pod trackers, §7.2).
func TestContainerConcurrency1_NeverTwoInFlightPerPod_Section5(t *testing.T) {
	res := run(t, service{cc: 1, serviceTime: "50ms"}.spec(t, map[string]string{"stable-window": "6s"},
		Concurrent{Clients: 5, Duration: 10 * time.Second}))
	s := res.Revisions[0]
	if s.MaxAppConcurrency != 1 {
		t.Errorf("max app concurrency = %d, want 1", s.MaxAppConcurrency)
	}
	if s.Requests < 500 || s.Errors != 0 {
		t.Errorf("%d requests, %d errors; want hundreds and none", s.Requests, s.Errors)
	}
	if s.PeakReady < 2 {
		t.Errorf("peak ready pods = %d, want the 5 clients to scale CC=1 beyond one pod", s.PeakReady)
	}
}

// The queue-proxy's breaker admits CC requests, queues 10×CC more and answers 503 beyond (§5).
// TBC 0 and one pod put the SKS in Serve mode, so the burst goes straight to the pod.
func TestQueueProxyBreaker_QueueOf10xCC_503Beyond_Section5(t *testing.T) {
	spec := service{cc: 1, serviceTime: "1s", annotations: annos(serving.TargetBurstCapacityAnnotationKey, "0",
		serving.MinScaleAnnotationKey, "1", serving.MaxScaleAnnotationKey, "1")}.spec(t, nil,
		Idle{Duration: 3 * time.Second}, Burst{Requests: 20})
	res := run(t, spec)
	codes := map[uint16]int{}
	for _, q := range res.Requests {
		codes[q.Code]++
	}
	if codes[http.StatusOK] != 11 || codes[http.StatusServiceUnavailable] != 9 {
		t.Errorf("codes = %v, want 11×200 (1 in flight + 10 queued) and 9×503", codes)
	}
}

// The gateway splits by percent (§6): 50/50 holds within the 99.9% binomial interval.
func TestTrafficSplit_5050WithinBinomialInterval_Section6(t *testing.T) {
	blue, green := service{}.revision(t, "blue-00001"), service{}.revision(t, "green-00001")
	st := Stream{Name: "split", Route: "bg", Phases: []Phase{Constant{Rate: 200, Duration: 10 * time.Second}}}
	res := run(t, Spec{
		Seed:           3,
		Configurations: []Configuration{{Name: "blue", Revision: blue}, {Name: "green", Revision: green}},
		Routes: []Route{{Name: "bg", Traffic: []TrafficTarget{
			{ConfigurationName: "blue", LatestRevision: true, Percent: 50, Tag: "blue"},
			{ConfigurationName: "green", LatestRevision: true, Percent: 50, Tag: "green"}}}},
		Streams: []Stream{st}, Duration: st.End(),
	})
	n, blueN := len(res.Requests), 0
	for _, q := range res.Requests {
		if q.Revision == "blue-00001" {
			blueN++
		}
	}
	// 3.29 standard deviations of Binomial(n, 0.5): the two-sided 99.9% interval.
	if half := 3.29 * math.Sqrt(float64(n)*0.25); math.Abs(float64(blueN)-float64(n)/2) > half {
		t.Errorf("blue got %d of %d, outside %g ± %.0f", blueN, n, float64(n)/2, half)
	}
}

// Under a step the decider scales to ceil(concurrency/target) (§3.4): 5 then 30 concurrent
// requests at target 10 per pod.
func TestScaleUp_UnderStep_Section3_4(t *testing.T) {
	spec := service{annotations: annos(serving.TargetAnnotationKey, "10", serving.TargetUtilizationAnnotationKey, "100")}.spec(t,
		map[string]string{"stable-window": "6s"}, Step{From: 50, To: 300, Steps: 2, Duration: 40 * time.Second})
	res := run(t, spec)
	at := func(sec int) Sample {
		for _, s := range res.Samples {
			if s.Time == time.Duration(sec)*time.Second {
				return s
			}
		}
		t.Fatalf("no sample at %ds", sec)
		return Sample{}
	}
	if s := at(18); s.DesiredPods != 1 || s.ReadyPods != 1 {
		t.Errorf("at 18s (50/s × 100ms = 5 concurrent) desired/ready = %d/%d, want 1/1", s.DesiredPods, s.ReadyPods)
	}
	if s := at(38); s.DesiredPods < 3 || s.DesiredPods > 4 || s.ReadyPods < 3 {
		t.Errorf("at 38s (300/s × 100ms = 30 concurrent) desired/ready = %d/%d, want 3 (or 4) desired and ≥ 3 ready", s.DesiredPods, s.ReadyPods)
	}
}

// After the load stops, the revision scales to zero once a stable window without traffic has
// made the decider want 0 and the SKS has proxied through the activator for the grace period
// (§3.5.4). TBC 0 keeps the SKS in Serve mode while pods are wanted.
func TestScaleToZero_AfterStableWindowAndGrace_Section3_5_4(t *testing.T) {
	const window, grace = 6 * time.Second, 10 * time.Second
	spec := service{annotations: annos(serving.TargetBurstCapacityAnnotationKey, "0")}.spec(t,
		map[string]string{"stable-window": "6s", "scale-to-zero-grace-period": "10s"},
		Constant{Rate: 20, Duration: 10 * time.Second}, Idle{Duration: 60 * time.Second})
	res := run(t, spec)
	loadEnd := 10 * time.Second
	var terminating time.Duration
	for _, e := range res.Events {
		if e.Kind == EventPod && strings.HasPrefix(e.Message, "terminating") {
			terminating = e.Time
			break
		}
	}
	if lo, hi := loadEnd+window+grace-time.Second, loadEnd+window+grace+3*time.Second; terminating < lo || terminating > hi {
		t.Errorf("last pod terminating at %s, want within [%s, %s] (load end + stable window + grace)", terminating, lo, hi)
	}
	if last := res.Samples[len(res.Samples)-1]; last.ReadyPods != 0 || last.ActualPods != 0 || last.DesiredPods != 0 {
		t.Errorf("at the end ready/actual/desired = %d/%d/%d, want 0/0/0", last.ReadyPods, last.ActualPods, last.DesiredPods)
	}
}

// A 10× burst enters panic mode at the next tick and scales up at once (§3.4).
func TestPanic_OnBurst_Section3_4(t *testing.T) {
	spec := service{annotations: annos(serving.TargetAnnotationKey, "10", serving.TargetUtilizationAnnotationKey, "100")}.spec(t,
		map[string]string{"stable-window": "6s"},
		Constant{Rate: 50, Duration: 10 * time.Second}, Constant{Rate: 500, Duration: 10 * time.Second})
	res := run(t, spec)
	var entered time.Duration = -1
	for _, d := range res.Decisions {
		if d.Time < 10*time.Second && d.Panicking && d.Time > 0 {
			t.Fatalf("panicking at %s before the burst", d.Time)
		}
		if d.Time >= 10*time.Second && d.Panicking {
			entered = d.Time
			if d.DesiredPods < 5 {
				t.Errorf("desired %d pods on entering panic, want ≥ 5 (50 concurrent / 10)", d.DesiredPods)
			}
			break
		}
	}
	if entered < 0 || entered > 13*time.Second {
		t.Errorf("entered panic at %s, want within 3s of the burst at 10s", entered)
	}
}

// A request that no pod ever serves ends at the client's timeout as an error (code 0), and
// is still accounted for.
func TestClientTimeout_NeverReadyPod(t *testing.T) {
	spec := service{annotations: annos(serving.InitialScaleAnnotationKey, "0", podruntime.ImagePullErrorAnnotation, "true")}.spec(t,
		zeroInitialScale, Burst{Requests: 3})
	spec.ClientTimeout = 5 * time.Second
	res := run(t, spec)
	for _, q := range res.Requests {
		if q.Code != 0 || q.Latency != 5*time.Second || !strings.Contains(q.Error, "Client.Timeout") {
			t.Errorf("request = code %d after %s (%q), want a client timeout after 5s", q.Code, q.Latency, q.Error)
		}
	}
	if res.Errors != 3 {
		t.Errorf("errors = %d, want 3", res.Errors)
	}
}

// A new revision takes the traffic of a latestRevision route once it is Ready (§1.4, §1.6); the
// old one becomes unreachable and scales down.
func TestRollout_NewRevisionTakesTrafficWhenReady_Section1_6(t *testing.T) {
	svc := service{startup: time.Second}
	spec := svc.spec(t, map[string]string{"stable-window": "6s"}, Constant{Rate: 50, Duration: 20 * time.Second})
	spec.Actions = []Action{{Name: "new template", At: 5 * time.Second, Do: func(c *Control) error {
		return c.CreateRevision("svc", svc.revision(t, "svc-00002"))
	}}}
	res := run(t, spec)
	for _, q := range res.Requests {
		switch {
		case q.Sent < 5*time.Second && q.Revision != "svc-00001":
			t.Fatalf("request at %s went to %s before the rollout", q.Sent, q.Revision)
		case q.Sent > 6500*time.Millisecond && q.Revision != "svc-00002":
			t.Fatalf("request at %s went to %s after the new revision was Ready", q.Sent, q.Revision)
		}
	}
	if got := res.Routes[0].Percent; got["svc-00002"] != 100 {
		t.Errorf("final traffic = %v, want 100%% svc-00002", got)
	}
}

func TestPaced_SchedulesMatchTheLoadGenerator(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name  string
		phase Phase
		want  []time.Duration // nil: only count
		count int
	}{
		{"constant 10/s for 1s: every 100ms", Constant{Rate: 10, Duration: time.Second}, []time.Duration{100 * ms, 200 * ms, 300 * ms, 400 * ms, 500 * ms, 600 * ms, 700 * ms, 800 * ms, 900 * ms, time.Second}, 10},
		{"burst of 3 at once", Burst{Requests: 3}, []time.Duration{0, 0, 0}, 3},
		{"burst of 4 within 1s", Burst{Requests: 4, Within: time.Second}, []time.Duration{250 * ms, 500 * ms, 750 * ms, time.Second}, 4},
		{"step 10,20,30 over 3s", Step{From: 10, To: 30, Steps: 3, Duration: 3 * time.Second}, nil, 60},
		{"ramp 0→10 over 2s", Ramp{From: 0, To: 10, Duration: 2 * time.Second}, nil, 10},
		{"sine 100±50 over two periods", Sine{Mean: 100, Amp: 50, Period: 5 * time.Second, Duration: 10 * time.Second}, nil, 1000},
		{"trace", Trace{Arrivals: []time.Duration{0, 10 * ms, 10 * ms, 500 * ms}}, []time.Duration{0, 10 * ms, 10 * ms, 500 * ms}, 4},
	}
	for _, c := range cases {
		s := scheduleOf(c.phase, Paced, nil)
		var got []time.Duration
		for {
			at, ok := s.next()
			if !ok {
				break
			}
			got = append(got, at)
		}
		if len(got) != c.count {
			t.Errorf("%s: %d arrivals, want %d", c.name, len(got), c.count)
		}
		if c.want != nil && !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: arrivals %v, want %v", c.name, got, c.want)
		}
		for i := 1; i < len(got); i++ {
			if got[i] < got[i-1] || got[i] > c.phase.Length()+c.phase.Length()/10+100*ms {
				t.Errorf("%s: arrival %d at %s out of order or past the phase", c.name, i, got[i])
				break
			}
		}
	}
}

func TestPoisson_ArrivalsCountAndSpread(t *testing.T) {
	spec := service{serviceTime: "1ms"}.spec(t, nil, Constant{Rate: 100, Duration: 100 * time.Second})
	spec.Arrivals = Poisson
	res := run(t, spec)
	if n := float64(len(res.Requests)); math.Abs(n-10000) > 400 { // 4σ of Poisson(10000)
		t.Errorf("%g Poisson arrivals at 100/s over 100s, want 10000 ± 400", n)
	}
	gaps := map[time.Duration]bool{}
	for i := 1; i < len(res.Requests) && i < 100; i++ {
		gaps[res.Requests[i].Sent-res.Requests[i-1].Sent] = true
	}
	if len(gaps) < 90 {
		t.Errorf("%d distinct gaps among 99, want exponential gaps, not a fixed pace", len(gaps))
	}
}

// While a revision has no pod, the activator buffers its requests (§4); the per-second
// maximum of the buffer is recorded for every second it lasts.
func TestActivator_BuffersAtZero_QueueDepthPerSecond_Section4(t *testing.T) {
	spec := service{startup: 3 * time.Second, annotations: annos(serving.InitialScaleAnnotationKey, "0")}.spec(t,
		zeroInitialScale, Burst{Requests: 5})
	res := run(t, spec)
	q := res.Revisions[0].ActivatorQueue
	if len(q) < 4 || q[0] != 5 || q[1] != 5 || q[2] != 5 || q[3] != 5 {
		t.Fatalf("activator queue per second = %v, want 5 buffered for the first 4s (tick + 3s startup)", q)
	}
	if last := q[len(q)-1]; last != 0 {
		t.Errorf("queue at the end = %d, want 0", last)
	}
}

// Two activators share a revision's pods (§4 assignment): with 3 pods, ⌊3/2⌋ each and the
// remainder pod to activator 0; each throttler's capacity is CC × its pods.
func TestActivators_SplitPodsByAssignment_Section4(t *testing.T) {
	spec := service{cc: 1, serviceTime: "50ms", annotations: annos(serving.TargetBurstCapacityAnnotationKey, "-1",
		serving.MinScaleAnnotationKey, "3", serving.MaxScaleAnnotationKey, "3")}.spec(t, nil,
		Concurrent{Clients: 3, Duration: 5 * time.Second})
	spec.Activators = 2
	e, err := newEngine(spec)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	rev := e.revisions[0]
	if len(rev.subset) != 2 || len(rev.throttles) != 2 {
		t.Fatalf("%d activators in the subset, %d throttlers; want 2 and 2", len(rev.subset), len(rev.throttles))
	}
	for i, want := range []int{2, 1} {
		th := rev.throttles[i]
		if th == nil || len(th.assigned) != want || th.capacity != want || th.index != i || th.count != 2 {
			t.Errorf("activator %d: %d pods assigned, capacity %d, position %d/%d; want %d, %d, %d/2", i, len(th.assigned), th.capacity, th.index, th.count, want, want, i)
		}
	}
	if s := res.Revisions[0]; s.MaxAppConcurrency != 1 || s.Errors != 0 {
		t.Errorf("max app concurrency %d, %d errors; want 1 and 0", s.MaxAppConcurrency, s.Errors)
	}
}

// With Knative's defaults (stable window 60s, scale-to-zero grace 30s, §3.1) the last pod
// goes when Knative's rules say it does, counted from the end of the last request, L:
//   - the stable window average reaches 0 once a whole window holds no concurrency (§3.4
//     "Scale-to-zero requires obsStable to be 0"): the last stat that saw the request is
//     recorded within 2s of L (the 1s stat period, then the 1s scrape, §3.3.2), it leaves
//     the 60s window 1s bucket later, and the 2s decider tick then decides 0: at L + 60s to
//     L + 60s + 5s;
//   - the PA, Active for far longer than a stable window, goes Inactive without scaling (§3.5.4
//     Active=True); its status write queues the next reconcile (the reconciler watches its
//     PodAutoscalers; the 3s requeue comes later), which then:
//   - activator in the path (the default TBC 200 keeps one pod in Proxy mode, §3.5.5): finds
//     the SKS in Proxy mode for longer than the grace period and scales to zero at once (the
//     fast path): L + 60s to L + 65s;
//   - pods in the path (TBC 0, Serve mode): the SKS switches to Proxy only now, so the
//     scale-down waits for the grace period of proxying: L + 90s to L + 95s;
//
// plus a reconcile delay or two (Timing.Reconcile, PublicEndpoints). The pod then drains.
func TestScaleToZero_KnativeDefaults_StableWindowThenGrace_Section3_5_4(t *testing.T) {
	const window, grace = 60 * time.Second, 30 * time.Second
	const lag = 5 * time.Second // stat period, scrape, bucket and decider tick, as above
	tm := DefaultTiming
	cases := []struct {
		name  string
		tbc   string
		after time.Duration // from the decision to scale to zero until the pod is deleted
	}{
		{"activator in the path (TBC 200)", "200", 0},
		{"pods in the path (TBC 0)", "0", grace},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := service{annotations: annos(serving.TargetBurstCapacityAnnotationKey, c.tbc)}.spec(t, nil,
				Constant{Rate: 5, Duration: 20 * time.Second}, Idle{Duration: 150 * time.Second})
			spec.Arrivals = Poisson // the last request's end varies with the seed
			for seed := range int64(10) {
				spec.Seed = seed
				res := run(t, spec)
				var last time.Duration
				for _, r := range res.Requests {
					last = max(last, r.Sent+r.Latency)
				}
				var terminating time.Duration
				for _, e := range res.Events {
					if e.Kind == EventPod && strings.HasPrefix(e.Message, "terminating") {
						terminating = e.Time
					}
				}
				lo := last + window + c.after
				hi := lo + lag + 2*tm.Reconcile + tm.PublicEndpoints
				if terminating < lo || terminating > hi {
					t.Errorf("seed %d: last pod terminating at %s; last request ended at %s; want within [%s, %s]", seed, terminating, last, lo, hi)
				}
				if final := res.Samples[len(res.Samples)-1]; final.ReadyPods != 0 || final.ActualPods != 0 || final.DesiredPods != 0 {
					t.Errorf("seed %d: at the end ready/actual/desired = %d/%d/%d, want 0/0/0", seed, final.ReadyPods, final.ActualPods, final.DesiredPods)
				}
			}
		})
	}
}

// A failed user container runs again after the pod plan's restart delay (the restart-delay
// annotation), not its container-start delay, then starts up and is Ready again, as the live
// kubelet does (podruntime Plan.Restart).
func TestFailPod_RestartsAfterPlanRestartDelay(t *testing.T) {
	for _, tc := range []struct {
		name    string
		anns    []string
		readyIn time.Duration // from the exit to Ready again: restart delay + 1s startup
	}{
		{"restart-delay annotation", []string{podruntime.RestartDelayAnnotation, "7s"}, 8 * time.Second},
		{"default: the container-start delay", nil, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			anns := annos(append([]string{serving.MinScaleAnnotationKey, "1", podruntime.ContainerStartDelayAnnotation, "2s"}, tc.anns...)...)
			spec := service{startup: time.Second, annotations: anns}.spec(t, nil, Constant{Rate: 2, Duration: 30 * time.Second})
			const failAt = 5 * time.Second
			spec.Actions = []Action{{Name: "fail", At: failAt, Do: func(c *Control) error {
				if n, err := c.FailPods("svc-00001", 1, 1); n != 1 || err != nil {
					return fmt.Errorf("FailPods = %d, %w; want 1 pod", n, err)
				}
				return nil
			}}}
			res := run(t, spec)
			var exited, readyAgain time.Duration = -1, -1
			for _, ev := range res.Events {
				switch {
				case ev.Kind == EventPod && strings.Contains(ev.Message, "exited"):
					exited = ev.Time
				case ev.Kind == EventPod && strings.HasPrefix(ev.Message, "ready") && exited >= 0 && readyAgain < 0:
					readyAgain = ev.Time
				}
			}
			if exited != failAt || readyAgain-exited != tc.readyIn {
				t.Errorf("container exited at %s, ready again at %s; want exit at %s, ready %s later", exited, readyAgain, failAt, tc.readyIn)
			}
		})
	}
}
