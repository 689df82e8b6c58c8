package activator

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/servingsim/servingsim/stack/apis/serving"
)

var defaultLimits = timeouts{total: 300 * time.Second}

func TestHandler_ProxiesWithHeaderRewrites_Section4Forwarding(t *testing.T) {
	e := newTestEnv(t, Options{})
	pod := startFakePod(t, echoHandler)
	e.addRevision(revA, 0, defaultLimits)
	e.setPods(revA, pod)
	e.waitHealthy(t, revA, 1)

	r := e.get(revA, "/path?x=1", map[string]string{"Host": "hello.ns.example.com", "X-Forwarded-For": "10.9.9.9",
		"Forwarded": "for=10.9.9.9", "User-Agent": "tester"})
	if r.err != nil || r.code != http.StatusOK {
		t.Fatalf("GET = %d %q %v, want 200", r.code, r.body, r.err)
	}
	var got echoed
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatalf("echo %q: %v", r.body, err)
	}
	h := got.Header
	for _, c := range []struct{ what, got, want string }{
		{"K-Proxy-Request", h.Get(serving.ProxyHeaderName), "activator"},
		{"K-Original-Host", h.Get(serving.OriginalHostHeaderName), "hello.ns.example.com"},
		{"Host", got.Host, pod.addr},
		{"URL", got.URL, "/path?x=1"},
		{"Knative-Serving-Revision", h.Get(serving.RevisionHeaderName), ""},
		{"Knative-Serving-Namespace", h.Get(serving.RevisionNamespaceHeaderName), ""},
		{"Forwarded", h.Get("Forwarded"), "for=10.9.9.9"},
		{"User-Agent", h.Get("User-Agent"), "tester"},
	} {
		if c.got != c.want {
			t.Errorf("upstream %s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if xff := h.Get("X-Forwarded-For"); !strings.HasPrefix(xff, "10.9.9.9, 127.") {
		t.Errorf("upstream X-Forwarded-For = %q, want the prior hop then the peer", xff)
	}
	// An existing K-Original-Host (a second activator hop) is kept.
	r = e.get(revA, "/", map[string]string{"Host": "other", serving.OriginalHostHeaderName: "first.example.com"})
	if err := json.Unmarshal([]byte(r.body), &got); err != nil || got.Header.Get(serving.OriginalHostHeaderName) != "first.example.com" {
		t.Errorf("K-Original-Host with one present = %q (%v), want it kept", got.Header.Get(serving.OriginalHostHeaderName), err)
	}
}

func TestHandler_UnknownRevision404_Section4ContextHandler(t *testing.T) {
	e := newTestEnv(t, Options{})
	for _, rev := range []struct{ ns, name string }{{"ns", "nope"}, {"", ""}} {
		r := e.get(revA, "/", map[string]string{serving.RevisionHeaderName: rev.name, serving.RevisionNamespaceHeaderName: rev.ns})
		if r.code != http.StatusNotFound || !strings.HasPrefix(r.body, "Error getting active endpoint: ") ||
			!strings.Contains(r.body, `revision.serving.knative.dev "`+rev.name+`" not found`) {
			t.Errorf("GET unknown revision %q = %d %q, want 404 Error getting active endpoint: ...not found", rev.name, r.code, r.body)
		}
	}
}

func TestHandler_Probes_Section4ProbeHandler(t *testing.T) {
	e := newTestEnv(t, Options{})
	for _, tc := range []struct {
		name     string
		header   map[string]string
		wantCode int
		wantBody string
	}{
		{"activator probe", map[string]string{serving.ProbeHeaderName: "activator"}, 200, "activator"},
		{"other probe value", map[string]string{serving.ProbeHeaderName: "queue"}, 400, `unexpected probe header value: "queue"`},
		{"ingress probe", map[string]string{serving.ProbeHeaderName: "probe", serving.HashHeaderName: "abc"}, 200, ""},
		{"ingress probe without hash", map[string]string{serving.ProbeHeaderName: "probe"}, 400, "no K-Network-Hash header"},
		{"kubelet probe", map[string]string{"User-Agent": "kube-probe/1.36"}, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get(revA, "/healthz", tc.header) // the revision is unknown: probes never reach the lookup
			if r.code != tc.wantCode || strings.TrimSpace(r.body) != tc.wantBody {
				t.Errorf("probe = %d %q, want %d %q", r.code, r.body, tc.wantCode, tc.wantBody)
			}
			if tc.header[serving.HashHeaderName] != "" && r.header.Get(serving.HashHeaderName) != "abc" {
				t.Errorf("ingress probe hash = %q, want echoed", r.header.Get(serving.HashHeaderName))
			}
		})
	}
}

// A request buffered at zero is answered 504 "activator request timeout" when the revision's
// timeout passes: time spent buffering counts (§4 Timeouts).
func TestHandler_TimeoutWhileBuffered504_Section4Timeouts(t *testing.T) {
	for _, tc := range []struct {
		name string
		lim  timeouts
		step time.Duration
	}{
		{"timeoutSeconds", timeouts{total: 10 * time.Second}, 10 * time.Second},
		{"responseStartTimeoutSeconds", timeouts{total: 300 * time.Second, responseStart: 5 * time.Second}, 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clocktesting.NewFakeClock(t0)
			e := newTestEnv(t, Options{Clock: clk})
			e.addRevision(revA, 1, tc.lim)
			res := e.getAsync(revA, "/", nil)
			eventually(t, "request buffered with its timers set", func() bool {
				return e.a.QueueDepth(revA) == 1 && clk.HasWaiters()
			})
			clk.Step(tc.step - time.Millisecond)
			select {
			case r := <-res:
				t.Fatalf("answered %d %q before the timeout", r.code, r.body)
			case <-time.After(20 * time.Millisecond):
			}
			clk.Step(time.Millisecond)
			r := <-res
			if r.code != http.StatusGatewayTimeout || r.body != TimeoutBody {
				t.Errorf("buffered past the timeout = %d %q, want 504 %q", r.code, r.body, TimeoutBody)
			}
			eventually(t, "queue empty", func() bool { return e.a.QueueDepth(revA) == 0 })
		})
	}
}

// Requests wait while a revision has no backends and go through once a probed pod appears
// (§4 Buffering at zero).
func TestHandler_BufferedUntilPodAppears_Section4BufferingAtZero(t *testing.T) {
	e := newTestEnv(t, Options{})
	e.addRevision(revA, 0, defaultLimits)
	var res []<-chan reply
	for range 3 {
		res = append(res, e.getAsync(revA, "/", nil))
	}
	eventually(t, "3 requests buffered", func() bool { return e.a.QueueDepth(revA) == 3 })
	e.setPods(revA, startFakePod(t, okHandler))
	for _, c := range res {
		if r := <-c; r.code != http.StatusOK || r.body != "ok" {
			t.Errorf("buffered request = %d %q %v, want 200 ok", r.code, r.body, r.err)
		}
	}
}

func TestHandler_QueueFull503_Section4TryLoop(t *testing.T) {
	e := newTestEnv(t, Options{})
	e.addRevision(revA, 1, defaultLimits)
	th := e.a.throttlerFor(e.a.revisions[revA])
	th.breaker = NewBreaker(1, 0) // a short queue instead of 10,000
	first := e.getAsync(revA, "/", nil)
	eventually(t, "one request buffered", func() bool { return e.a.QueueDepth(revA) == 1 })
	r := e.get(revA, "/", nil)
	if r.code != http.StatusServiceUnavailable || strings.TrimSpace(r.body) != "pending request queue full" {
		t.Errorf("request with the queue full = %d %q, want 503 pending request queue full", r.code, r.body)
	}
	e.setPods(revA, startFakePod(t, okHandler))
	if r := <-first; r.code != http.StatusOK {
		t.Errorf("buffered request = %d %q, want 200", r.code, r.body)
	}
}

func TestHandler_ProxyError502_Section4(t *testing.T) {
	e := newTestEnv(t, Options{})
	e.addRevision(revA, 0, defaultLimits)
	ln := listenLoopback(t)
	ip, _, _ := net.SplitHostPort(ln.Addr().String())
	_ = ln.Close() // nothing listens: connection refused
	e.a.throttlerFor(e.a.revisions[revA]).UpdateBackends([]string{ip})
	r := e.get(revA, "/", nil)
	if r.code != http.StatusBadGateway {
		t.Errorf("request to a dead pod = %d %q, want 502", r.code, r.body)
	}
	if s := e.state(t, revA); s.InFlight != 0 || s.Queued != 0 {
		t.Errorf("state after 502 = %+v, want nothing in flight", s)
	}
}

// The first request of a revision sends the immediate stat at once; the periodic stat
// subtracts it (§3.3.3).
func TestHandler_Stats_Section3_3_3(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	sink := &statRecorder{}
	e := newTestEnv(t, Options{Clock: clk, Stats: sink, Name: "activator-3"})
	e.addRevision(revA, 0, timeouts{}) // no timers: the fake clock only moves when stepped
	pod := startFakePod(t, okHandler)
	e.register(pod)
	e.a.throttlerFor(e.a.revisions[revA]).UpdateBackends([]string{pod.ip})
	for range 3 {
		if r := e.get(revA, "/", nil); r.code != http.StatusOK {
			t.Fatalf("GET = %d %q", r.code, r.body)
		}
	}
	got := sink.take()
	if len(got) != 1 || got[0].Revision != revA || got[0].Stat.AverageConcurrency != 1 || got[0].Stat.RequestCount != 1 ||
		got[0].Stat.PodName != "activator-3" {
		t.Fatalf("stats after 3 requests = %+v, want one immediate {1, 1} from activator-3", got)
	}
	clk.Step(time.Second)
	e.a.publish(clk.Now())
	got = sink.take()
	if len(got) != 1 || got[0].Stat.RequestCount != 2 || got[0].Stat.AverageConcurrency != 0 {
		t.Errorf("periodic stat = %+v, want count 3 − 1 = 2, concurrency 0 (requests took no clock time)", got)
	}
	// A request held open for the whole next period counts as concurrency 1; the revision was
	// seen this period, so no new immediate stat.
	held := make(chan struct{})
	slow := startFakePod(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { <-held }))
	e.register(slow)
	e.a.throttlerFor(e.a.revisions[revA]).UpdateBackends([]string{slow.ip})
	res := e.getAsync(revA, "/", nil)
	eventually(t, "request in flight", func() bool { return e.state(t, revA).InFlight == 1 })
	clk.Step(time.Second)
	e.a.publish(clk.Now())
	close(held)
	<-res
	got = sink.take()
	if len(got) != 1 || got[0].Stat.AverageConcurrency != 1 || got[0].Stat.RequestCount != 1 {
		t.Errorf("stats with one request in flight all period = %+v, want only the periodic {1, 1}", got)
	}
}
