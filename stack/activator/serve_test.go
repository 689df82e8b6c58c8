package activator

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/servingsim/servingsim/stack/apis/serving"
)

// Serve listens on Address:8012, reports stats on the clock, and stops when ctx ends.
func TestServe_ListensOn8012AndReports(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	sink := &statRecorder{}
	a, err := New(Options{Name: "activator-1", Address: nextIP(), Clock: clk, Stats: sink})
	if err != nil {
		t.Fatal(err)
	}
	if _, port, _ := net.SplitHostPort(a.Addr()); port != "8012" {
		t.Fatalf("Addr = %s, want port 8012", a.Addr())
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx) }()

	client := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	var body string
	eventually(t, "activator serving", func() bool {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a.Addr()+"/healthz", nil)
		req.Header.Set(serving.ProbeHeaderName, serving.ActivatorProbeValue)
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == http.StatusOK
	})
	if body != "activator" {
		t.Errorf("probe body = %q, want activator", body)
	}

	a.reporter.In(clk.Now(), revA) // a request seen this period
	eventually(t, "reporter ticker", clk.HasWaiters)
	clk.Step(time.Second)
	eventually(t, "periodic stat", func() bool {
		got := sink.take()
		return len(got) == 1 && got[0].Revision == revA && got[0].Stat.PodName == "activator-1"
	})

	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v, want nil after ctx ended", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after ctx ended")
	}
}

// Shutdown is bounded: a request buffered at zero does not hold the server past
// ShutdownTimeout.
func TestServe_ShutdownBounded(t *testing.T) {
	a, err := New(Options{Name: "activator-2", Address: nextIP(), ShutdownTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	a.setRevision(&revisionInfo{key: revA, timeouts: defaultLimits})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx) }()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	res := make(chan error, 1)
	go func() {
		var resp *http.Response
		var err error
		for range 100 { // until the server listens
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+a.Addr()+"/", nil)
			req.Header.Set(serving.RevisionHeaderName, revA.Name)
			req.Header.Set(serving.RevisionNamespaceHeaderName, revA.Namespace)
			if resp, err = client.Do(req); err == nil {
				_ = resp.Body.Close()
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		res <- err
	}()
	eventually(t, "request buffered", func() bool { return a.QueueDepth(revA) == 1 })
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve held by a buffered request past ShutdownTimeout")
	}
	t.Logf("buffered request ended: %v", <-res) // connection closed, or an error reply
	eventually(t, "buffered request released", func() bool { return a.QueueDepth(revA) == 0 })
}
