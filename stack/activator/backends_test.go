package activator

import (
	"net/http"
	"slices"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/servingsim/servingsim/stack/apis/serving"
)

func TestBackendSet_StateMachine_Section4Probing(t *testing.T) {
	s := newBackendSet()
	s.setReady([]string{"127.0.0.3", "127.0.0.1", "127.0.0.2"})
	if got := s.unprobed(); !slices.Equal(got, []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}) {
		t.Fatalf("unprobed = %v, want all ready pods in IP order", got)
	}
	s.markHealthy("127.0.0.1")
	s.markHealthy("127.0.0.3")
	s.markHealthy("127.0.0.9") // not ready: ignored
	if got := s.healthyIPs(); !slices.Equal(got, []string{"127.0.0.1", "127.0.0.3"}) {
		t.Errorf("healthy = %v, want the probed ready pods", got)
	}
	s.setReady([]string{"127.0.0.2", "127.0.0.3"}) // pod 1 left
	if got := s.healthyIPs(); !slices.Equal(got, []string{"127.0.0.3"}) {
		t.Errorf("healthy after pod 1 left = %v, want [127.0.0.3]", got)
	}
	s.setReady([]string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}) // pod 1 back: probed again
	if got := s.unprobed(); !slices.Equal(got, []string{"127.0.0.1", "127.0.0.2"}) {
		t.Errorf("unprobed after pod 1 came back = %v, want it re-probed", got)
	}
}

// Only pods that pass GET /healthz (K-Network-Probe: queue, User-Agent
// Knative-Activator-Probe, 200 "queue") enter the throttler; failed ones are probed again
// every ProbeFrequency on the clock (§4 Backend discovery and probing).
func TestBackends_OnlyProbedPodsEnterThrottler_Section4Probing(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	e := newTestEnv(t, Options{Clock: clk})
	good, bad, wrongBody := startFakePod(t, okHandler), startFakePod(t, okHandler), startFakePod(t, okHandler)
	bad.healthy.Store(false)
	wrongBody.probeBody.Store("ok")
	e.addRevision(revA, 1, timeouts{})
	e.setPods(revA, good, bad, wrongBody)
	e.waitHealthy(t, revA, 1)
	if s := e.state(t, revA); s.Pods[0].Dest != good.ip || s.Capacity != 1 {
		t.Errorf("throttler = %+v, want only %s, capacity 1", s, good.ip)
	}
	req := good.lastProbe.Load().(*http.Request)
	if req.URL.Path != serving.HealthCheckPath || req.Header.Get(serving.ProbeHeaderName) != "queue" ||
		req.UserAgent() != serving.ActivatorProbeUserAgent || req.Method != http.MethodGet {
		t.Errorf("probe = %s %s %v, want GET /healthz with K-Network-Probe: queue and User-Agent %s",
			req.Method, req.URL.Path, req.Header, serving.ActivatorProbeUserAgent)
	}

	// The re-probe waits for the clock.
	eventually(t, "re-probe timer", clk.HasWaiters)
	bad.healthy.Store(true)
	probes := bad.probes.Load()
	time.Sleep(20 * time.Millisecond)
	if bad.probes.Load() != probes {
		t.Fatal("pod re-probed before ProbeFrequency passed on the clock")
	}
	clk.Step(DefaultProbeFrequency)
	e.waitHealthy(t, revA, 2)
	// The wrong-body pod keeps failing and keeps being probed.
	eventually(t, "re-probe timer", clk.HasWaiters)
	n := wrongBody.probes.Load()
	clk.Step(DefaultProbeFrequency)
	eventually(t, "another probe", func() bool { return wrongBody.probes.Load() > n })
	if got := e.state(t, revA).HealthyPods; got != 2 {
		t.Errorf("healthy pods = %d, want 2 (a body other than %q fails)", got, serving.QueueProbeValue)
	}
}

func TestBackends_ProbeTimeout_Section4Probing(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	e := newTestEnv(t, Options{Clock: clk, ProbeTimeout: 20 * time.Millisecond})
	slow := startFakePod(t, okHandler)
	slow.probeWait.Store(int64(200 * time.Millisecond))
	e.addRevision(revA, 1, timeouts{})
	e.setPods(revA, slow)
	eventually(t, "probe round over", clk.HasWaiters) // the re-probe timer is set after a failed round
	if got := e.state(t, revA).HealthyPods; got != 0 {
		t.Errorf("healthy pods with a probe slower than ProbeTimeout = %d, want 0", got)
	}
	slow.probeWait.Store(0)
	clk.Step(DefaultProbeFrequency)
	e.waitHealthy(t, revA, 1)
}

// A pod leaving the endpoints leaves the throttler at once; the request it is serving
// finishes normally.
func TestBackends_PodLeavesThrottler_InFlightFinishes_Section4Probing(t *testing.T) {
	e := newTestEnv(t, Options{})
	release := make(chan struct{})
	slow := startFakePod(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		<-release
		_, _ = w.Write([]byte("done"))
	}))
	other := startFakePod(t, okHandler)
	e.addRevision(revA, 1, defaultLimits)
	e.setPods(revA, slow)
	e.waitHealthy(t, revA, 1)
	res := e.getAsync(revA, "/", nil)
	eventually(t, "request on the pod", func() bool { return e.state(t, revA).InFlight == 1 })

	e.setPods(revA, other)
	eventually(t, "pod swapped", func() bool {
		s := e.state(t, revA)
		return s.HealthyPods == 1 && s.Pods[0].Dest == other.ip
	})
	close(release)
	if r := <-res; r.code != http.StatusOK || r.body != "done" {
		t.Errorf("request on the removed pod = %d %q %v, want 200 done", r.code, r.body, r.err)
	}
	if r := e.get(revA, "/", nil); r.code != http.StatusOK || r.body != "ok" {
		t.Errorf("next request = %d %q, want 200 ok from the remaining pod", r.code, r.body)
	}
	e.setPods(revA) // scaled to zero
	e.waitHealthy(t, revA, 0)
	if s := e.state(t, revA); s.Capacity != 0 {
		t.Errorf("capacity with no pods = %d, want 0", s.Capacity)
	}
}
