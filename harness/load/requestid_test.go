package load

import (
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/servingsim/servingsim/stack/gateway"
)

// echoID answers with the request id the gateway would see.
func echoID(w http.ResponseWriter, r *http.Request) {
	_, _ = io.WriteString(w, r.Header.Get(gateway.RequestIDHeader))
}

// Every request carries "<stream>/<phase>/<seq>" naming exactly its own Result, also when many
// workers race (vegeta numbers Results before it calls the targeter), so the gateway can key
// its split draw on it and a record can key assignments on (stream, Attack, Seq). The Result's
// URL is the target's, without the number.
func TestRunStampsEachRequestWithItsResultsID(t *testing.T) {
	t.Parallel()
	slow := func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond) // keep several workers busy at once
		echoID(w, r)
	}
	for _, stream := range []string{"split", ""} {
		s := newServer(t, slow)
		rep := run(t, Options{Addr: s.addr(), Stream: stream, Phases: []Phase{
			Constant{Rate: 400, Duration: 250 * time.Millisecond},
			Concurrent{Clients: 8, Duration: 150 * time.Millisecond},
			Burst{Requests: 30},
		}})
		seen := map[string]bool{}
		for _, res := range rep.Results {
			want := res.Attack + "/" + strconv.FormatUint(res.Seq, 10)
			if stream != "" {
				want = stream + "/" + want
			}
			if got := string(res.Body); got != want {
				t.Errorf("stream %q: result %s #%d: the server saw request id %q, want %q", stream, res.Attack, res.Seq, got, want)
			}
			if res.URL != s.URL+"/" {
				t.Errorf("stream %q: result URL %q, want %q", stream, res.URL, s.URL+"/")
			}
			if seen[want] {
				t.Errorf("stream %q: request id %q sent twice", stream, want)
			}
			seen[want] = true
		}
		if len(seen) < 100 {
			t.Errorf("stream %q: %d distinct request ids, want one per request (≥ 100)", stream, len(seen))
		}
	}
}

// Think time in the closed model: each client waits Think after an outcome, so no client sends
// more than one request per Think, and the Results' latencies leave the think out.
func TestRunConcurrentThinkTime(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	const clients, think, duration = 3, 200 * time.Millisecond, 700 * time.Millisecond
	rep := run(t, Options{Addr: s.addr(), Phases: []Phase{Concurrent{Clients: clients, Think: think, Duration: duration}}})
	n := len(rep.Results)
	// Each client: its first request at once, then at most one per think within the phase.
	if most := clients * (int(duration/think) + 1); n < clients || n > most {
		t.Errorf("%d clients, think %s, %s: %d requests, want %d..%d (without think: thousands)", clients, think, duration, n, clients, most)
	}
	latencies := make([]time.Duration, n)
	for i, res := range rep.Results {
		if res.Code != http.StatusOK {
			t.Errorf("result %d: %d %q, want 200", i, res.Code, res.Error)
		}
		latencies[i] = res.Latency
	}
	slices.Sort(latencies)
	if med := latencies[n/2]; med >= think {
		t.Errorf("median latency %s, want below the think time %s (the think is not part of a request)", med, think)
	}
}

// A failed request is an outcome too: the client thinks after it rather than retrying at once.
func TestRunConcurrentThinkAfterErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	addr := s.addr()
	s.Close() // nothing listens: every request fails to connect
	const think, duration = 150 * time.Millisecond, 500 * time.Millisecond
	rep, _ := Run(t.Context(), Options{Addr: addr, Phases: []Phase{Concurrent{Clients: 2, Think: think, Duration: duration}}})
	if rep == nil {
		t.Fatal("Run returned no report")
	}
	if most := 2 * (int(duration/think) + 1); len(rep.Results) > most {
		t.Errorf("2 clients with think %s against a closed port: %d requests in %s, want ≤ %d", think, len(rep.Results), duration, most)
	}
	for _, res := range rep.Results {
		if res.Error == "" || strings.Contains(res.Error, seqFragment) {
			t.Errorf("result %d: error %q, want a connection error naming the target URL as it was", res.Seq, res.Error)
		}
	}
}

func TestConcurrentThinkValidation(t *testing.T) {
	for _, think := range []time.Duration{-time.Millisecond, MaxTotalDuration + 1} {
		_, err := Run(t.Context(), Options{Addr: "127.0.0.1:1", Phases: []Phase{Concurrent{Clients: 1, Think: think, Duration: time.Second}}})
		if err == nil {
			t.Errorf("Concurrent.Think = %s: Run() error = nil, want one naming Think", think)
		} else if !strings.Contains(err.Error(), "Phases[0]") || !strings.Contains(err.Error(), "Think") {
			t.Errorf("Concurrent.Think = %s: Run() error = %v, want it to name Phases[0] and Think", think, err)
		}
	}
}
