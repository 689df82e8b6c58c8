package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/servingsim/servingsim/stack/podruntime"
	"github.com/servingsim/servingsim/stack/rng"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newTestApp(t *testing.T, cfg Config, clk *clocktesting.FakeClock) *App {
	t.Helper()
	a, err := New(cfg, Options{Clock: clk, Source: rng.New(1), Name: "ns/pod"})
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	return a
}

// serve runs one request in the background; the channel yields its recorder once done.
func serve(a *App, r *http.Request) <-chan *httptest.ResponseRecorder {
	ch := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		ch <- w
	}()
	return ch
}

func get(target string) *http.Request { return httptest.NewRequest(http.MethodGet, target, nil) }

func waitWaiters(t *testing.T, clk *clocktesting.FakeClock, n int) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for clk.Waiters() < n {
		select {
		case <-deadline:
			t.Fatalf("clock waiters = %d, want %d", clk.Waiters(), n)
		case <-time.After(time.Millisecond):
		}
	}
}

func notDone(t *testing.T, ch <-chan *httptest.ResponseRecorder, what string) {
	t.Helper()
	select {
	case w := <-ch:
		t.Fatalf("%s finished early with %d %q", what, w.Code, w.Body.String())
	case <-time.After(20 * time.Millisecond):
	}
}

func done(t *testing.T, ch <-chan *httptest.ResponseRecorder) *httptest.ResponseRecorder {
	t.Helper()
	select {
	case w := <-ch:
		return w
	case <-time.After(5 * time.Second):
		t.Fatal("request did not finish")
		return nil
	}
}

func sleptBody(d time.Duration) string {
	return fmt.Sprintf("Slept for %.2f milliseconds.\n", float64(d)/float64(time.Millisecond))
}

// §7.1: ?sleep=<ms or duration> holds the request that long on the injected clock and overrides
// the service-time model; without it the model's draw applies.
func TestSleepParamHoldsTheRequestAndOverridesTheModel(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  time.Duration
	}{{"sleep=200", 200 * time.Millisecond}, {"sleep=1500ms", 1500 * time.Millisecond}, {"", time.Hour}} {
		clk := clocktesting.NewFakeClock(epoch)
		a := newTestApp(t, Config{ServiceTime: podruntime.Const(time.Hour)}, clk)
		ch := serve(a, get("/?"+tc.query))
		waitWaiters(t, clk, 1)
		clk.Step(tc.want - time.Millisecond)
		notDone(t, ch, "?"+tc.query)
		clk.Step(time.Millisecond)
		w := done(t, ch)
		if w.Code != http.StatusOK || w.Body.String() != sleptBody(tc.want) {
			t.Errorf("GET /?%s = %d %q, want 200 %q", tc.query, w.Code, w.Body.String(), sleptBody(tc.want))
		}
	}
}

func TestInvalidSleepIsABadRequest(t *testing.T) {
	a := newTestApp(t, Config{}, clocktesting.NewFakeClock(epoch))
	for _, q := range []string{"sleep=-5", "sleep=soon", "sleep=10&sleep-stddev=x"} {
		w := httptest.NewRecorder()
		a.ServeHTTP(w, get("/?"+q))
		if w.Code != http.StatusBadRequest {
			t.Errorf("GET /?%s = %d, want 400", q, w.Code)
		}
	}
}

func TestServiceTimeDrawsAreSeeded(t *testing.T) {
	draw := func(seed int64) []string {
		clk := clocktesting.NewFakeClock(epoch)
		a, err := New(Config{ServiceTime: podruntime.ExpDist(100 * time.Millisecond)},
			Options{Clock: clk, Source: rng.New(seed), Name: "ns/pod"})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for range 5 {
			ch := serve(a, get("/"))
			waitWaiters(t, clk, 1)
			for clk.Waiters() > 0 { // step to the drawn time (a fired timer leaves the waiters at once)
				clk.Step(time.Millisecond)
			}
			out = append(out, done(t, ch).Body.String())
		}
		return out
	}
	a, b, c := draw(7), draw(7), draw(8)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("same seed gave %v and %v", a, b)
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Errorf("different seeds gave the same draws %v", a)
	}
}

func TestErrorRate(t *testing.T) {
	for _, tc := range []struct {
		rate     float64
		lo, hi   int
		requests int
	}{{0, 0, 0, 200}, {1, 200, 200, 200}, {0.3, 540, 660, 2000}} {
		a := newTestApp(t, Config{ErrorRate: tc.rate}, clocktesting.NewFakeClock(epoch))
		failed := 0
		for range tc.requests {
			w := httptest.NewRecorder()
			a.ServeHTTP(w, get("/"))
			if w.Code == http.StatusInternalServerError {
				failed++
			}
		}
		if failed < tc.lo || failed > tc.hi || a.Counters().Errors != int64(failed) {
			t.Errorf("error rate %g: %d of %d failed (counter %d), want %d..%d", tc.rate, failed, tc.requests,
				a.Counters().Errors, tc.lo, tc.hi)
		}
	}
}

// With app-concurrency 1 and overflow "queue" a second request waits inside the app: both are
// in flight (MaxInFlight 2), but only one is worked on at a time.
func TestConcurrencyLimitQueues(t *testing.T) {
	clk := clocktesting.NewFakeClock(epoch)
	a := newTestApp(t, Config{Concurrency: 1}, clk)
	first := serve(a, get("/?sleep=100"))
	waitWaiters(t, clk, 1)
	second := serve(a, get("/?sleep=100"))
	for a.Counters().InFlight < 2 {
		time.Sleep(time.Millisecond)
	}
	clk.Step(100 * time.Millisecond)
	if w := done(t, first); w.Code != http.StatusOK {
		t.Fatalf("first = %d, want 200", w.Code)
	}
	waitWaiters(t, clk, 1) // the second starts its 100ms only now
	clk.Step(99 * time.Millisecond)
	notDone(t, second, "second request")
	clk.Step(time.Millisecond)
	if w := done(t, second); w.Code != http.StatusOK || w.Body.String() != sleptBody(100*time.Millisecond) {
		t.Errorf("second = %d %q, want 200 %q", w.Code, w.Body.String(), sleptBody(100*time.Millisecond))
	}
	if got := a.MaxInFlight(); got != 2 {
		t.Errorf("MaxInFlight() = %d, want 2", got)
	}
}

func TestConcurrencyLimitRejects(t *testing.T) {
	clk := clocktesting.NewFakeClock(epoch)
	a := newTestApp(t, Config{Concurrency: 1, Overflow: OverflowReject}, clk)
	first := serve(a, get("/?sleep=100"))
	waitWaiters(t, clk, 1)
	w := httptest.NewRecorder()
	a.ServeHTTP(w, get("/"))
	if w.Code != http.StatusServiceUnavailable || w.Body.String() != OverloadedBody+"\n" {
		t.Errorf("second = %d %q, want 503 %q", w.Code, w.Body.String(), OverloadedBody)
	}
	clk.Step(100 * time.Millisecond)
	done(t, first)
	if c := a.Counters(); c.Rejected != 1 || c.Requests != 2 || c.InFlight != 0 {
		t.Errorf("Counters() = %+v, want 1 rejected of 2 requests, none in flight", c)
	}
}

func TestKubeletProbesAreAnsweredAndNotCounted(t *testing.T) {
	a := newTestApp(t, Config{ServiceTime: podruntime.Const(time.Hour), ErrorRate: 1}, clocktesting.NewFakeClock(epoch))
	r := get("/healthz")
	r.Header.Set("User-Agent", "kube-probe/1.36")
	w := httptest.NewRecorder()
	a.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("probe = %d, want 200", w.Code)
	}
	if c := a.Counters(); c.Requests != 0 || c.MaxInFlight != 0 {
		t.Errorf("Counters() = %+v, want the probe uncounted", c)
	}
}

func TestResponseBytesPadsTheBody(t *testing.T) {
	a := newTestApp(t, Config{ResponseBytes: 100000}, clocktesting.NewFakeClock(epoch))
	w := httptest.NewRecorder()
	a.ServeHTTP(w, get("/"))
	if got, want := w.Body.Len(), len(sleptBody(0))+100000; got != want {
		t.Errorf("body length = %d, want %d", got, want)
	}
}

// §7.2: echo shows the request as the container saw it, and its env.
func TestEchoReportsRequestAndEnv(t *testing.T) {
	env := map[string]string{"PORT": "8080", "K_SERVICE": "s", "K_CONFIGURATION": "c", "K_REVISION": "r"}
	a := newTestApp(t, Config{Env: env, ErrorRate: 1}, clocktesting.NewFakeClock(epoch))
	for _, r := range []*http.Request{get("/p?echo=1"), func() *http.Request {
		r := get("/p")
		r.Header.Set(EchoHeader, "true")
		return r
	}()} {
		r.Host = "s.ns.example.com"
		r.Header.Set("Forwarded", "for=1.2.3.4")
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		var e Echo
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || w.Code != http.StatusOK {
			t.Fatalf("echo = %d %q (%v), want 200 JSON", w.Code, w.Body.String(), err)
		}
		if e.Host != "s.ns.example.com" || e.Path != "/p" || e.Method != http.MethodGet ||
			len(e.Headers["Forwarded"]) != 1 || e.Headers["Forwarded"][0] != "for=1.2.3.4" {
			t.Errorf("echo = %+v, want host, path, method and Forwarded as sent", e)
		}
		for k, v := range env {
			if e.Env[k] != v {
				t.Errorf("echo env[%s] = %q, want %q", k, e.Env[k], v)
			}
		}
	}
}

// Every reply the app writes names the revision that served it (its K_REVISION), whatever the
// outcome, so load results can be attributed without echo mode.
func TestRepliesNameTheServingRevision(t *testing.T) {
	env := map[string]string{"K_REVISION": "hello-00002"}
	for _, tc := range []struct {
		name   string
		cfg    Config
		target string
		code   int
	}{
		{"ok", Config{Env: env}, "/", http.StatusOK},
		{"injected error", Config{Env: env, ErrorRate: 1}, "/", http.StatusInternalServerError},
		{"bad sleep", Config{Env: env}, "/?sleep=-1", http.StatusBadRequest},
		{"echo", Config{Env: env}, "/?echo=1", http.StatusOK},
	} {
		a := newTestApp(t, tc.cfg, clocktesting.NewFakeClock(epoch))
		w := httptest.NewRecorder()
		a.ServeHTTP(w, get(tc.target))
		if w.Code != tc.code || w.Header().Get(RevisionHeader) != "hello-00002" {
			t.Errorf("%s: reply %d with %s %q, want %d with hello-00002", tc.name, w.Code, RevisionHeader, w.Header().Get(RevisionHeader), tc.code)
		}
	}
	a := newTestApp(t, Config{}, clocktesting.NewFakeClock(epoch))
	w := httptest.NewRecorder()
	a.ServeHTTP(w, get("/"))
	if h, ok := w.Header()[RevisionHeader]; ok {
		t.Errorf("without K_REVISION the reply has %s %q, want none", RevisionHeader, h)
	}
}
