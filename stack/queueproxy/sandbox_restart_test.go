package queueproxy

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/app"
)

func waitReady(t *testing.T, ready <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: not ready within 5s", what)
	}
}

// A killed user container (a scenario's failPod): the request inside it fails with the
// queue-proxy's 502, the queue-proxy's readiness (K-Network-Probe: queue, §5 Readiness) fails
// while it is down, and after RestartContainer the pod is ready and serves again, with the app's
// counters carried over.
func TestSandbox_KillAndRestartUserContainer(t *testing.T) {
	sb := NewSandbox(SandboxOptions{DrainQuietPeriod: 100 * time.Millisecond})
	pod := revisionPod(0, nil)
	ready, err := sb.Start(context.Background(), pod)
	if err != nil {
		t.Fatalf("Start() error = %v", err)
	}
	defer sb.Stop(pod)
	waitReady(t, ready, "started pod")
	p, _ := sb.Pod("ns", pod.Name)

	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	base := "http://" + p.Queue.Addr()
	inside := make(chan reply, 1)
	go func() { inside <- fetch(client, base+"/?sleep=5s", nil) }()
	eventually(t, "the request inside the app", func() bool { return p.App.Counters().InFlight == 1 })

	sb.KillContainer(pod)
	select {
	case r := <-inside:
		if r.code != http.StatusBadGateway {
			t.Errorf("request inside the killed app = %d %q %v, want 502 from the queue-proxy", r.code, r.body, r.err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("request inside the killed app did not end")
	}
	probe := &http.Client{Timeout: 300 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	if r := fetch(probe, base+"/", map[string]string{serving.ProbeHeaderName: serving.QueueProbeValue}); r.code == http.StatusOK {
		t.Errorf("queue-proxy readiness while the app is down = 200, want a failure")
	}
	if r := fetch(client, base+"/", nil); r.code != http.StatusBadGateway {
		t.Errorf("request while the app is down = %d %v, want 502", r.code, r.err)
	}

	ready, err = sb.RestartContainer(context.Background(), pod)
	if err != nil {
		t.Fatalf("RestartContainer() error = %v", err)
	}
	waitReady(t, ready, "restarted pod")
	if r := fetch(client, base+"/", nil); r.code != http.StatusOK {
		t.Errorf("request after the restart = %d %q %v, want 200", r.code, r.body, r.err)
	}
	if p.Restarts() != 1 || p.App.Counters().Requests != 2 {
		t.Errorf("restarts %d, app requests %d; want 1 restart and the 2 requests that reached the app (before and after) counted",
			p.Restarts(), p.App.Counters().Requests)
	}
	if _, err := sb.RestartContainer(context.Background(), pod); err == nil {
		t.Error("RestartContainer() of a running container error = nil, want an error")
	}
}

// UpdateApps changes the model of the revision's running pods and of pods it starts later.
func TestSandbox_UpdateAppsAppliesToRunningAndLaterPods(t *testing.T) {
	sb := NewSandbox(SandboxOptions{DrainQuietPeriod: 100 * time.Millisecond})
	first := revisionPod(0, nil)
	ready, err := sb.Start(context.Background(), first)
	if err != nil {
		t.Fatalf("Start() error = %v", err)
	}
	defer sb.Stop(first)
	waitReady(t, ready, "first pod")

	n, err := sb.UpdateApps("ns", "hello-00001", func(c *app.Config) { c.ErrorRate = 1 })
	if err != nil || n != 1 {
		t.Fatalf("UpdateApps() = %d, %v; want 1 pod updated", n, err)
	}
	if n, _ := sb.UpdateApps("ns", "other-00001", func(c *app.Config) { c.Concurrency = 3 }); n != 0 {
		t.Errorf("UpdateApps(another revision) updated %d pods, want 0", n)
	}
	later := revisionPod(0, nil)
	later.Name, later.UID = "hello-00001-deployment-abc-later", "pod-later"
	ready, err = sb.Start(context.Background(), later)
	if err != nil {
		t.Fatalf("Start(later) error = %v", err)
	}
	defer sb.Stop(later)
	waitReady(t, ready, "later pod")

	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	for _, pod := range []string{first.Name, later.Name} {
		p, _ := sb.Pod("ns", pod)
		if r := fetch(client, "http://"+p.Queue.Addr()+"/", nil); r.code != http.StatusInternalServerError {
			t.Errorf("%s: reply = %d %v, want 500 (error rate 1)", pod, r.code, r.err)
		}
		if c := p.App.Config(); c.Concurrency != 0 {
			t.Errorf("%s: concurrency %d, want 0 (the other revision's edit does not apply)", pod, c.Concurrency)
		}
	}
	if got := sb.PodsOfRevision("ns", "hello-00001"); len(got) != 2 {
		t.Errorf("PodsOfRevision() = %d pods, want 2", len(got))
	}
}
