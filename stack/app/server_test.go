package app

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/servingsim/servingsim/stack/podruntime"
	"github.com/servingsim/servingsim/stack/rng"
)

// testHost is a pod-like loopback address; port 0 keeps parallel runs apart.
const testHost = "127.202.0.1"

func listen(t *testing.T, cfg Config, clk clock.WithTicker) *Server {
	t.Helper()
	a, err := New(cfg, Options{Clock: clk, Source: rng.New(1), Name: "ns/pod"})
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	s, err := a.Listen(testHost)
	if err != nil {
		t.Fatalf("Listen() error = %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func httpGet(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func noKeepAlive() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
}

func TestListenRefusesNonLoopback(t *testing.T) {
	a, _ := New(Config{}, Options{})
	if _, err := a.Listen("0.0.0.0"); err == nil {
		t.Error("Listen(0.0.0.0) error = nil, want a refusal")
	}
}

// §7.1 over a real socket: ?sleep=150 takes at least 150ms.
func TestSleepOverHTTP(t *testing.T) {
	s := listen(t, Config{}, clock.RealClock{})
	start := time.Now()
	code, body := httpGet(t, noKeepAlive(), "http://"+s.Addr()+"/?sleep=150")
	if elapsed := time.Since(start); code != http.StatusOK || elapsed < 150*time.Millisecond || elapsed > 5*time.Second {
		t.Errorf("GET ?sleep=150 = %d %q after %s, want 200 after ≥150ms", code, body, elapsed)
	}
}

// The port refuses connections until the startup delay has passed on the app's clock.
func TestStartupDelayKeepsThePortClosed(t *testing.T) {
	clk := clocktesting.NewFakeClock(epoch)
	s := listen(t, Config{StartupDelay: podruntime.Const(3 * time.Second)}, clk)
	waitWaiters(t, clk, 1)
	clk.Step(2999 * time.Millisecond)
	select {
	case <-s.Ready():
		t.Fatal("Ready before the startup delay")
	case <-time.After(20 * time.Millisecond):
	}
	clk.Step(time.Millisecond)
	select {
	case <-s.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("not Ready after the startup delay")
	}
	conn, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if err != nil {
		t.Fatalf("dial after startup: %v", err)
	}
	_ = conn.Close()
}

// Shutdown lets an in-flight request finish and then refuses new connections.
func TestShutdownFinishesInFlight(t *testing.T) {
	s := listen(t, Config{}, clock.RealClock{})
	c := noKeepAlive()
	res := make(chan int, 1)
	go func() {
		resp, err := c.Get("http://" + s.Addr() + "/?sleep=200")
		if err != nil {
			res <- -1
			return
		}
		_ = resp.Body.Close()
		res <- resp.StatusCode
	}()
	for s.App().Counters().InFlight == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown() error = %v", err)
	}
	if code := <-res; code != http.StatusOK {
		t.Errorf("in-flight request = %d, want 200", code)
	}
	if _, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		t.Error("dial after Shutdown succeeded, want refused")
	}
}
