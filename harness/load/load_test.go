package load

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// server is a loopback target that records what arrives and how many requests overlap.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	hosts    map[string]int
	requests []*http.Request
	bodies   []string
	inFlight atomic.Int64
	peak     atomic.Int64
}

func newServer(t *testing.T, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{hosts: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
		}
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.hosts[r.Host]++
		s.requests = append(s.requests, r.Clone(context.Background()))
		s.bodies = append(s.bodies, string(body))
		s.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) addr() string { return strings.TrimPrefix(s.URL, "http://") }

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

func run(t *testing.T, opts Options) *Report {
	t.Helper()
	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	return rep
}

func TestRunConstantSendsExactlyRateTimesDuration(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	rep := run(t, Options{Addr: s.addr(), Target: Target{Host: "hello.demo.example.com"},
		Phases: []Phase{Constant{Rate: 50, Duration: 400 * time.Millisecond}, Constant{Rate: 2.5, Duration: 800 * time.Millisecond}}})
	want := []uint64{20, 2}
	for i, p := range rep.Phases {
		if p.Planned != want[i] || p.Sent != want[i] {
			t.Errorf("phase %s planned %d sent %d, want %d (rate × duration)", p.Name, p.Planned, p.Sent, want[i])
		}
	}
	if len(rep.Results) != 22 || s.count() != 22 || rep.Metrics.Requests != 22 || rep.Metrics.Success != 1 {
		t.Errorf("results %d, server saw %d, metrics %d requests success %.2f; want 22, 22, 22, 1",
			len(rep.Results), s.count(), rep.Metrics.Requests, rep.Metrics.Success)
	}
	for i := 1; i < len(rep.Results); i++ {
		if rep.Results[i].Timestamp.Before(rep.Results[i-1].Timestamp) {
			t.Fatalf("Results[%d] was sent before Results[%d]; want send order", i, i-1)
		}
	}
	if rep.Results[0].Attack != "0-constant" || rep.Results[len(rep.Results)-1].Attack != "1-constant" {
		t.Errorf("first/last result attacks = %q/%q, want 0-constant/1-constant", rep.Results[0].Attack, rep.Results[len(rep.Results)-1].Attack)
	}
}

func TestRunSendsTheTargetWithItsHostHeader(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	run(t, Options{Addr: s.addr(),
		Target: Target{Host: "candidate-hello.demo.svc.cluster.local", Path: "/work?sleep=1", Method: http.MethodPost,
			Header: http.Header{"Knative-Serving-Tag": {"candidate"}, "Host": {"ignored"}}, Body: []byte("payload")},
		Phases: []Phase{Constant{Rate: 20, Duration: 200 * time.Millisecond}}})
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) != 4 || s.hosts["candidate-hello.demo.svc.cluster.local"] != 4 {
		t.Fatalf("server saw hosts %v over %d requests, want 4 with Host candidate-hello.demo.svc.cluster.local", s.hosts, len(s.requests))
	}
	r := s.requests[0]
	if r.Method != http.MethodPost || r.URL.RequestURI() != "/work?sleep=1" || r.Header.Get("Knative-Serving-Tag") != "candidate" || s.bodies[0] != "payload" {
		t.Errorf("request = %s %s tag %q body %q, want POST /work?sleep=1 tag candidate body payload",
			r.Method, r.URL.RequestURI(), r.Header.Get("Knative-Serving-Tag"), s.bodies[0])
	}
}

func TestRunPhaseCounts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		phase    Phase
		min, max uint64 // sent
	}{
		{"step exact", Step{From: 10, To: 30, Steps: 3, StepDuration: 200 * time.Millisecond}, 12, 12}, // 2+4+6
		{"ramp from 0 exact", Ramp{From: 0, To: 60, Duration: 500 * time.Millisecond}, 15, 15},
		{"ramp up LinearPacer", Ramp{From: 20, To: 40, Duration: 500 * time.Millisecond}, 13, 15},
		{"ramp down LinearPacer", Ramp{From: 40, To: 20, Duration: 500 * time.Millisecond}, 13, 15},
		{"sine", Sine{Mean: 40, Amp: 20, Period: 500 * time.Millisecond, Duration: 500 * time.Millisecond}, 18, 20},
		{"idle", Idle{Duration: 100 * time.Millisecond}, 0, 0},
		{"burst spread exact", Burst{Requests: 10, Within: 200 * time.Millisecond}, 10, 10},
		{"trace exact", Trace{Arrivals: []time.Duration{0, 10 * time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond, 150 * time.Millisecond}}, 5, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, nil)
			rep := run(t, Options{Addr: s.addr(), Phases: []Phase{c.phase}})
			p := rep.Phases[0]
			if p.Sent < c.min || p.Sent > c.max || uint64(len(rep.Results)) != p.Sent || uint64(s.count()) != p.Sent {
				t.Errorf("%#v: sent %d (planned %d), results %d, server saw %d; want %d..%d each",
					c.phase, p.Sent, p.Planned, len(rep.Results), s.count(), c.min, c.max)
			}
		})
	}
}

// The closed model keeps exactly Clients requests outstanding: the server never sees more.
func TestRunConcurrentIsAClosedModel(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(5 * time.Millisecond)
		_, _ = io.WriteString(w, "ok")
	})
	rep := run(t, Options{Addr: s.addr(), Phases: []Phase{Concurrent{Clients: 3, Duration: 200 * time.Millisecond}}})
	if p := s.peak.Load(); p != 3 {
		t.Errorf("peak concurrency at the server = %d, want 3 (Clients)", p)
	}
	if n := rep.Phases[0].Sent; n < 3 || uint64(len(rep.Results)) != n {
		t.Errorf("sent %d with %d results, want several, each with a result", n, len(rep.Results))
	}
}

// A burst with no spread sends every request at once: all are in flight together.
func TestRunBurstAtOnceIsParallel(t *testing.T) {
	t.Parallel()
	const n = 20
	var s *server
	s = newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i < 200 && s.inFlight.Load() < n; i++ { // wait (bounded) for the others
			time.Sleep(5 * time.Millisecond)
		}
		_, _ = io.WriteString(w, "ok")
	})
	rep := run(t, Options{Addr: s.addr(), Phases: []Phase{Burst{Requests: n}, Constant{Rate: 10, Duration: 100 * time.Millisecond}}})
	if p := rep.Phases[0]; p.Sent != n || s.peak.Load() != n {
		t.Errorf("burst sent %d, peak concurrency %d; want %d and %d", p.Sent, s.peak.Load(), n, n)
	}
	if len(rep.Results) != n+1 {
		t.Errorf("results = %d, want %d", len(rep.Results), n+1)
	}
}

func TestRunCountsErrorsAndTimeouts(t *testing.T) {
	t.Parallel()
	t.Run("server errors", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", http.StatusServiceUnavailable) })
		rep := run(t, Options{Addr: s.addr(), Phases: []Phase{Constant{Rate: 20, Duration: 200 * time.Millisecond}}})
		if len(rep.Results) != 4 || rep.Metrics.Success != 0 || rep.Metrics.StatusCodes["503"] != 4 {
			t.Errorf("results %d, success %.2f, codes %v; want 4 results, all 503", len(rep.Results), rep.Metrics.Success, rep.Metrics.StatusCodes)
		}
	})
	t.Run("hanging server", func(t *testing.T) {
		release := make(chan struct{})
		s := newServer(t, func(_ http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		rep := run(t, Options{Addr: s.addr(), Timeout: 100 * time.Millisecond,
			Phases: []Phase{Constant{Rate: 20, Duration: 200 * time.Millisecond}}})
		if len(rep.Results) != 4 {
			t.Fatalf("results = %d, want 4 (every request sent)", len(rep.Results))
		}
		for _, r := range rep.Results {
			if r.Code != 0 || !strings.Contains(r.Error, "Client.Timeout") {
				t.Errorf("result = code %d error %q, want a counted client timeout", r.Code, r.Error)
			}
		}
	})
	t.Run("nobody listening", func(t *testing.T) {
		s := newServer(t, nil)
		addr := s.addr()
		s.Close()
		rep := run(t, Options{Addr: addr, Phases: []Phase{Constant{Rate: 20, Duration: 100 * time.Millisecond}}})
		if len(rep.Results) != 2 || rep.Metrics.Success != 0 || len(rep.Metrics.Errors) == 0 {
			t.Errorf("results %d success %.2f errors %v, want 2 failed results", len(rep.Results), rep.Metrics.Success, rep.Metrics.Errors)
		}
	})
}

// Cancelling mid-run stops sending; requests already sent still end as results.
func TestRunCancelledAccountsForEverySentRequest(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	s := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		once.Do(cancel)
		_, _ = io.WriteString(w, "ok")
	})
	rep, err := Run(ctx, Options{Addr: s.addr(), Phases: []Phase{Constant{Rate: 50, Duration: 10 * time.Second}}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run() error = %v, want context.Canceled", err)
	}
	if p := rep.Phases[0]; p.Sent == 0 || p.Sent >= p.Planned || uint64(len(rep.Results)) != p.Sent {
		t.Errorf("after cancel: sent %d of %d planned with %d results; want fewer than planned, each with a result", p.Sent, p.Planned, len(rep.Results))
	}
}

func TestReportResultsEncodeWithVegeta(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	rep := run(t, Options{Addr: s.addr(), Target: Target{Host: "hello.demo"}, Phases: []Phase{Constant{Rate: 20, Duration: 200 * time.Millisecond}}})
	var buf bytes.Buffer
	enc := vegeta.NewEncoder(&buf)
	for i := range rep.Results {
		if err := enc.Encode(&rep.Results[i]); err != nil {
			t.Fatal(err)
		}
	}
	dec := vegeta.NewDecoder(&buf)
	n := 0
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			break
		}
		if !r.Equal(rep.Results[n]) {
			t.Errorf("decoded result %d = %+v, want %+v", n, r, rep.Results[n])
		}
		n++
	}
	if n != len(rep.Results) {
		t.Errorf("decoded %d results, want %d", n, len(rep.Results))
	}
	var text bytes.Buffer
	if err := vegeta.NewTextReporter(&rep.Metrics).Report(&text); err != nil || !strings.Contains(text.String(), "Requests") {
		t.Errorf("text report = %q, %v; want vegeta's report", text.String(), err)
	}
}

func TestRunRejectsUnboundedOptions(t *testing.T) {
	ok := Constant{Rate: 1, Duration: time.Second}
	cases := []struct {
		name string
		opts Options
		want string // substring naming the field
	}{
		{"no addr", Options{Phases: []Phase{ok}}, "Options.Addr"},
		{"bad addr", Options{Addr: "localhost", Phases: []Phase{ok}}, "Options.Addr"},
		{"no phases", Options{Addr: "127.0.0.1:1"}, "Options.Phases"},
		{"rate over 50k", Options{Addr: "127.0.0.1:1", Phases: []Phase{ok, Constant{Rate: 50_001, Duration: time.Second}}}, "Phases[1] (constant): Rate = 50001"},
		{"ramp over MaxRate", Options{Addr: "127.0.0.1:1", MaxRate: 100, Phases: []Phase{Ramp{From: 1, To: 200, Duration: time.Second}}}, "To = 200"},
		{"MaxRate over 50k", Options{Addr: "127.0.0.1:1", MaxRate: 60_000, Phases: []Phase{ok}}, "Options.MaxRate"},
		{"sine peak over MaxRate", Options{Addr: "127.0.0.1:1", MaxRate: 100, Phases: []Phase{Sine{Mean: 80, Amp: 30, Period: time.Second, Duration: time.Second}}}, "Mean+Amp"},
		{"sine amp ≥ mean", Options{Addr: "127.0.0.1:1", Phases: []Phase{Sine{Mean: 10, Amp: 10, Period: time.Second, Duration: time.Second}}}, "Amp = 10"},
		{"over an hour", Options{Addr: "127.0.0.1:1", Phases: []Phase{Constant{Rate: 1, Duration: 40 * time.Minute}, Idle{Duration: 30 * time.Minute}}}, "total duration"},
		{"step steps", Options{Addr: "127.0.0.1:1", Phases: []Phase{Step{From: 1, To: 2, StepDuration: time.Second}}}, "Steps = 0"},
		{"zero duration", Options{Addr: "127.0.0.1:1", Phases: []Phase{Constant{Rate: 1}}}, "Duration = 0s"},
		{"negative rate", Options{Addr: "127.0.0.1:1", Phases: []Phase{Ramp{From: -1, To: 2, Duration: time.Second}}}, "From = -1"},
		{"clients", Options{Addr: "127.0.0.1:1", Phases: []Phase{Concurrent{Clients: 20_000, Duration: time.Second}}}, "Clients = 20000"},
		{"nil phase", Options{Addr: "127.0.0.1:1", Phases: []Phase{nil}}, "Phases[0] is nil"},
		{"burst at once too big", Options{Addr: "127.0.0.1:1", Phases: []Phase{Burst{Requests: 20_000}}}, "Requests = 20000"},
		{"burst spread too fast", Options{Addr: "127.0.0.1:1", Phases: []Phase{Burst{Requests: 100, Within: time.Millisecond}}}, "Requests/Within = 100000"},
		{"trace out of order", Options{Addr: "127.0.0.1:1", Phases: []Phase{Trace{Arrivals: []time.Duration{time.Second, 0}}}}, "Arrivals[1] = 0s is before"},
		{"trace too dense", Options{Addr: "127.0.0.1:1", MaxRate: 2, Phases: []Phase{Trace{Arrivals: []time.Duration{0, 1, 2}}}}, "3 arrivals within one second"},
	}
	for _, c := range cases {
		rep, err := Run(context.Background(), c.opts)
		if err == nil || rep != nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Run() = %v, %v; want no report and an error naming %q", c.name, rep, err, c.want)
		}
	}
}
