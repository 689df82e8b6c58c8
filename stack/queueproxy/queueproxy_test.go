package queueproxy

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/servingsim/servingsim/stack/app"
	"github.com/servingsim/servingsim/stack/podruntime"
)

// §7.1 through the queue-proxy: ?sleep reaches the app and holds the request.
func TestQueueProxy_SleepIsProxied(t *testing.T) {
	p := startPod(t, podSpec{})
	r := p.get(t, "/?sleep=150", nil)
	var slept float64
	if _, err := fmt.Sscanf(r.body, "Slept for %f milliseconds.", &slept); err != nil || r.code != http.StatusOK ||
		slept < 150 || r.took < 150*time.Millisecond {
		t.Errorf("GET /?sleep=150 = %d %q %v after %s, want 200 \"Slept for ≥150 milliseconds.\" after ≥150ms", r.code, r.body, r.err, r.took)
	}
}

// §7.2 TestSingleConcurrency: with CC=1 the app never sees two requests at once, even with 5
// concurrent clients; without a breaker (CC=0) it does, so the check can fail.
func TestQueueProxy_SingleConcurrency(t *testing.T) {
	for _, tc := range []struct {
		cc      int
		wantMax func(int64) bool
		want    string
	}{
		{cc: 1, wantMax: func(m int64) bool { return m == 1 }, want: "1"},
		{cc: 0, wantMax: func(m int64) bool { return m > 1 }, want: "> 1"},
	} {
		p := startPod(t, podSpec{cfg: Config{ContainerConcurrency: tc.cc}})
		var wg sync.WaitGroup
		codes := make(chan int, 20)
		for range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 4 {
					r := p.get(t, "/?sleep=30", nil)
					codes <- r.code
				}
			}()
		}
		wg.Wait()
		close(codes)
		for c := range codes {
			if c != http.StatusOK {
				t.Errorf("cc=%d: a request got %d, want 200", tc.cc, c)
			}
		}
		if m := p.app.MaxInFlight(); !tc.wantMax(m) {
			t.Errorf("cc=%d: app MaxInFlight() = %d, want %s", tc.cc, m, tc.want)
		}
	}
}

// §5 Breaker: CC=1 holds 1 + 10 requests; the next is refused at once with 503
// "pending request queue full", and the held ones all complete.
func TestQueueProxy_QueueFull(t *testing.T) {
	release := make(chan struct{})
	var served sync.WaitGroup
	p := startPod(t, podSpec{cfg: Config{ContainerConcurrency: 1}, upstream: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		served.Done()
	})})
	const held = 1 + 10
	served.Add(held)
	replies := make(chan reply, held)
	for range held {
		go func() { replies <- p.get(t, "/", nil) }()
	}
	eventually(t, "11 pending requests", func() bool { return p.qp.Breaker().Pending() == held })
	r := p.get(t, "/", nil)
	if r.code != http.StatusServiceUnavailable || !strings.Contains(r.body, "pending request queue full") {
		t.Errorf("12th request = %d %q, want 503 \"pending request queue full\"", r.code, r.body)
	}
	close(release)
	for range held {
		if r := <-replies; r.err != nil || r.code != http.StatusOK {
			t.Errorf("held request = %d %v, want 200", r.code, r.err)
		}
	}
	served.Wait()
}

// §7.2 TestRevisionTimeout / §5 Handler chain 5: timeoutSeconds 1 with ?sleep=2000 gives 504
// "request timeout" after about a second, and the app's request is cancelled.
func TestQueueProxy_RevisionTimeout(t *testing.T) {
	p := startPod(t, podSpec{cfg: Config{RevisionTimeout: time.Second}})
	r := p.get(t, "/?sleep=2000", nil)
	if r.code != http.StatusGatewayTimeout || r.body != TimeoutBody || r.took < time.Second || r.took > 1900*time.Millisecond {
		t.Errorf("GET ?sleep=2000 = %d %q after %s, want 504 %q after 1s", r.code, r.body, r.took, TimeoutBody)
	}
	eventually(t, "the app to drop the request", func() bool { return p.app.Counters().InFlight == 0 })
	if r := p.get(t, "/?sleep=10", nil); r.code != http.StatusOK {
		t.Errorf("GET ?sleep=10 after a timeout = %d, want 200", r.code)
	}
}

// §5 Readiness: K-Network-Probe: queue runs the user probe and answers 200 "queue"; other values
// are 400; probes bypass the stats; an ingress probe gets its hash back.
func TestQueueProxy_HealthChecks(t *testing.T) {
	p := startPod(t, podSpec{})
	for _, tc := range []struct {
		header   map[string]string
		code     int
		body     string
		bodyPart string
	}{
		{header: map[string]string{"K-Network-Probe": "queue"}, code: 200, body: "queue"},
		{header: map[string]string{"K-Network-Probe": "queue", "User-Agent": "kube-probe/1.36"}, code: 200, body: "queue"},
		{header: map[string]string{"K-Network-Probe": "queue", "User-Agent": "Knative-Activator-Probe"}, code: 200, body: "queue"},
		{header: map[string]string{"K-Network-Probe": "activator"}, code: 400, bodyPart: "unexpected probe header value: activator"},
		{header: map[string]string{"User-Agent": "kube-probe/1.36"}, code: 400, bodyPart: "unexpected probe header value"},
	} {
		r := p.get(t, "/", tc.header)
		if r.code != tc.code || (tc.body != "" && r.body != tc.body) || !strings.Contains(r.body, tc.bodyPart) {
			t.Errorf("GET / %v = %d %q, want %d %q%q", tc.header, r.code, r.body, tc.code, tc.body, tc.bodyPart)
		}
	}
	if st := p.qp.stats.Report(p.qp.clk.Now()); st.RequestCount != 0 {
		t.Errorf("stats after probes only: %v requests, want 0 (probes bypass stats)", st.RequestCount)
	}
	if c := p.app.Counters(); c.Requests != 0 {
		t.Errorf("app saw %d requests from probes, want 0", c.Requests)
	}
	resp, err := p.client.Do(func() *http.Request {
		req, _ := http.NewRequest(http.MethodGet, p.url("/"), nil)
		req.Header.Set("K-Network-Probe", "probe")
		req.Header.Set("K-Network-Hash", "abc")
		return req
	}())
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("K-Network-Hash") != "abc" {
		t.Errorf("ingress probe = %v %v, want 200 with K-Network-Hash abc", resp, err)
	}
	if resp != nil {
		_ = resp.Body.Close()
	}
}

// §5 Readiness: a failing user probe gives 503; an aggressive one (periodSeconds 0) keeps polling
// within one health check until the app comes up.
func TestQueueProxy_ReadinessFollowsTheApp(t *testing.T) {
	tcp := func(period int32) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{
			Host: "127.0.0.1", Port: intstr.FromInt32(8080)}}, PeriodSeconds: period, TimeoutSeconds: 1, SuccessThreshold: 1}
	}
	probe := map[string]string{"K-Network-Probe": "queue"}

	slow := startPod(t, podSpec{cfg: Config{ReadinessProbe: tcp(10)}, app: app.Config{StartupDelay: podruntime.Const(time.Hour)}})
	if r := slow.get(t, "/", probe); r.code != http.StatusServiceUnavailable {
		t.Errorf("probe with the app down (period 10s) = %d %q, want 503", r.code, r.body)
	}

	aggressive := startPod(t, podSpec{cfg: Config{ReadinessProbe: tcp(0)}, app: app.Config{StartupDelay: podruntime.Const(300 * time.Millisecond)}})
	r := aggressive.get(t, "/", probe)
	if r.code != http.StatusOK || r.body != "queue" || r.took < 250*time.Millisecond || r.took > 3*time.Second {
		t.Errorf("aggressive probe while the app starts = %d %q after %s, want 200 \"queue\" after ≈300ms", r.code, r.body, r.took)
	}

	httpProbe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
		Host: "127.0.0.1", Path: "/healthz", Port: intstr.FromString("user-port")}}, SuccessThreshold: 2}
	h := startPod(t, podSpec{cfg: Config{ReadinessProbe: httpProbe}})
	if r := h.get(t, "/", probe); r.code != http.StatusOK {
		t.Errorf("HTTP readiness probe = %d %q, want 200", r.code, r.body)
	}
}

// §5 Stats and §3.3.1: the metrics port serves the last period's time-weighted average and
// per-second counts, as JSON and in Prometheus text format.
func TestQueueProxy_Metrics(t *testing.T) {
	clk := clocktesting.NewFakeClock(epoch)
	release := make(chan struct{})
	p := startPod(t, podSpec{cfg: Config{Pod: "pod-a", Namespace: "ns", Revision: "rev", Configuration: "cfg"},
		opts: Options{Clock: clk}, upstream: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release })})
	res := make(chan reply, 2)
	go func() { res <- p.get(t, "/", nil) }()
	go func() { res <- p.get(t, "/", map[string]string{"K-Proxy-Request": "activator"}) }()
	eventually(t, "two requests in the queue-proxy", func() bool { return p.qp.Concurrency() == 2 })
	clk.Step(500 * time.Millisecond)
	close(release)
	eventually(t, "both requests out", func() bool { return p.qp.Concurrency() == 0 })
	for range 2 {
		if r := <-res; r.code != http.StatusOK {
			t.Fatalf("request = %d %v", r.code, r.err)
		}
	}
	clk.Step(500 * time.Millisecond) // the 1s tick: two requests in flight for half of it
	eventually(t, "the first report", func() bool { return p.qp.LastStat().Timestamp.Equal(epoch.Add(time.Second)) })

	want := PodStat{PodName: "pod-a", AverageConcurrentRequests: 1, AverageProxiedConcurrentRequests: 0.5,
		RequestCount: 2, ProxiedRequestCount: 1, ProcessUptime: 1, Timestamp: epoch.Add(time.Second)}
	var got PodStat
	r := fetch(p.client, "http://"+p.qp.MetricsAddr()+"/metrics", nil)
	if err := json.Unmarshal([]byte(r.body), &got); err != nil || got != want {
		t.Errorf("GET /metrics = %q (%v), want %+v", r.body, err, want)
	}
	prom := fetch(p.client, "http://"+p.qp.MetricsAddr()+"/metrics", map[string]string{"Accept": "text/plain"}).body
	for _, line := range []string{
		`queue_average_concurrent_requests{destination_configuration="cfg",destination_namespace="ns",destination_pod="pod-a",destination_revision="rev"} 1`,
		`queue_average_proxied_concurrent_requests{destination_configuration="cfg",destination_namespace="ns",destination_pod="pod-a",destination_revision="rev"} 0.5`,
		`queue_requests_per_second{destination_configuration="cfg",destination_namespace="ns",destination_pod="pod-a",destination_revision="rev"} 2`,
		`queue_proxied_operations_per_second{destination_configuration="cfg",destination_namespace="ns",destination_pod="pod-a",destination_revision="rev"} 1`,
		"# TYPE process_uptime gauge",
	} {
		if !strings.Contains(prom, line+"\n") {
			t.Errorf("Prometheus metrics lack %q:\n%s", line, prom)
		}
	}
}

// §5 Handler chain: Host comes back from K-Original-Host and the revision headers never reach
// the app (§4 Forwarding).
func TestQueueProxy_HostRestoredAndRevisionHeadersStripped(t *testing.T) {
	p := startPod(t, podSpec{})
	e := p.echo(t, map[string]string{
		"Host": "activator-service.knative-serving", "K-Original-Host": "hello.ns.example.com",
		"Knative-Serving-Revision": "hello-00001", "Knative-Serving-Namespace": "ns", "K-Proxy-Request": "activator",
		"X-User": "kept",
	})
	if e.Host != "hello.ns.example.com" {
		t.Errorf("app saw Host %q, want hello.ns.example.com (restored from K-Original-Host)", e.Host)
	}
	for _, h := range []string{"K-Original-Host", "Knative-Serving-Revision", "Knative-Serving-Namespace"} {
		if v, ok := e.Headers[h]; ok {
			t.Errorf("app saw %s: %v, want it stripped", h, v)
		}
	}
	if got := e.Headers["X-User"]; len(got) != 1 || got[0] != "kept" {
		t.Errorf("app saw X-User %v, want [kept] (user headers pass through)", got)
	}
	if e2 := p.echo(t, map[string]string{"Host": "direct.example.com"}); e2.Host != "direct.example.com" {
		t.Errorf("without K-Original-Host the app saw Host %q, want direct.example.com", e2.Host)
	}
}

// §7.2 runtime contract: the app sees Forwarded (built from X-Forwarded-*), X-Forwarded-For with
// the queue-proxy's peer appended, and its PORT and K_* env.
func TestQueueProxy_EchoShowsForwardedAndEnv(t *testing.T) {
	env := map[string]string{"PORT": "8080", "K_SERVICE": "hello", "K_CONFIGURATION": "hello", "K_REVISION": "hello-00001"}
	p := startPod(t, podSpec{app: app.Config{Env: env}})
	e := p.echo(t, map[string]string{"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "hello.example.com"})
	if got, want := e.Headers["Forwarded"], "for=203.0.113.7;host=hello.example.com;proto=https"; len(got) != 1 || got[0] != want {
		t.Errorf("app saw Forwarded %v, want [%s]", got, want)
	}
	if got := e.Headers["X-Forwarded-For"]; len(got) != 1 || !strings.HasPrefix(got[0], "203.0.113.7, 127.") {
		t.Errorf("app saw X-Forwarded-For %v, want the client then the queue-proxy's peer", got)
	}
	for k, v := range env {
		if e.Env[k] != v {
			t.Errorf("app env %s = %q, want %q", k, e.Env[k], v)
		}
	}
	bare := p.echo(t, nil)
	if got := bare.Headers["Forwarded"]; len(got) != 1 || !strings.HasPrefix(got[0], "for=127.") || !strings.HasSuffix(got[0], ";proto=http") {
		t.Errorf("without X-Forwarded-* the app saw Forwarded %v, want one for the peer", got)
	}
}

// §5 Graceful drain: health checks fail at once, requests keep being served (each restarting the
// quiet period), in-flight ones finish, then the listeners close.
func TestQueueProxy_Drain(t *testing.T) {
	const quiet = 200 * time.Millisecond
	p := startPod(t, podSpec{opts: Options{DrainQuietPeriod: quiet}})
	long := make(chan reply, 1)
	go func() { long <- p.get(t, "/?sleep=700", nil) }()
	eventually(t, "the long request in flight", func() bool { return p.qp.Concurrency() == 1 })

	waited := make(chan reply, 1)
	go func() { waited <- fetch(p.client, "http://"+p.qp.AdminAddr()+"/wait-for-drain", nil) }()

	start := time.Now()
	drained := make(chan error, 1)
	go func() { drained <- p.qp.Drain(context.Background()) }()
	eventually(t, "draining", p.qp.Draining)

	if r := p.get(t, "/", map[string]string{"K-Network-Probe": "queue"}); r.code != http.StatusServiceUnavailable || !strings.Contains(r.body, ShuttingDownBody) {
		t.Errorf("health check while draining = %d %q, want 503 %q", r.code, r.body, ShuttingDownBody)
	}
	time.Sleep(100 * time.Millisecond)
	lastRequest := time.Now()
	if r := p.get(t, "/?sleep=10", nil); r.code != http.StatusOK {
		t.Errorf("new request during the quiet period = %d %v, want 200", r.code, r.err)
	}
	if r := <-long; r.code != http.StatusOK {
		t.Errorf("in-flight request across the drain = %d %v, want 200", r.code, r.err)
	}
	if err := <-drained; err != nil {
		t.Errorf("Drain() = %v, want nil", err)
	}
	if took := time.Since(start); took < 700*time.Millisecond || time.Since(lastRequest) < quiet {
		t.Errorf("Drain() returned %s after start, %s after the last request; want after the in-flight request and a quiet period",
			took, time.Since(lastRequest))
	}
	if r := <-waited; r.code != http.StatusOK {
		t.Errorf("/wait-for-drain = %d, want 200 once drained", r.code)
	}
	for _, addr := range []string{p.qp.Addr(), p.qp.AdminAddr(), p.qp.MetricsAddr()} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.Close()
			t.Errorf("dial %s after the drain succeeded, want refused", addr)
		}
	}
}

// /wait-for-drain without a termination following within 1s resets the drainer (§5).
func TestQueueProxy_WaitForDrainWithoutTerminationResets(t *testing.T) {
	clk := clocktesting.NewFakeClock(epoch)
	p := startPod(t, podSpec{opts: Options{Clock: clk, DrainQuietPeriod: time.Hour}})
	waited := make(chan reply, 1)
	go func() { waited <- fetch(p.client, "http://"+p.qp.AdminAddr()+"/wait-for-drain", nil) }()
	eventually(t, "draining", p.qp.Draining)
	eventually(t, "the reset timer", func() bool { return clk.Waiters() >= 3 }) // ticker, quiet, reset
	clk.Step(time.Second)
	if r := <-waited; r.code != http.StatusServiceUnavailable {
		t.Errorf("/wait-for-drain = %d %q, want 503 after the reset", r.code, r.body)
	}
	if p.qp.Draining() {
		t.Error("Draining() = true after the reset, want false")
	}
	if r := p.get(t, "/", map[string]string{"K-Network-Probe": "queue"}); r.code != http.StatusOK {
		t.Errorf("health check after the reset = %d, want 200", r.code)
	}
}

// h2c revisions are served on 8013 (§5 Ports); HTTP/1 still works there.
func TestQueueProxy_H2CPort(t *testing.T) {
	p := startPod(t, podSpec{cfg: Config{ServingPort: 8013}})
	if !strings.HasSuffix(p.qp.Addr(), ":8013") {
		t.Fatalf("Addr() = %s, want port 8013", p.qp.Addr())
	}
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	h2 := &http.Client{Transport: &http.Transport{Protocols: &protocols}}
	defer h2.CloseIdleConnections()
	resp, err := h2.Get(p.url("/?sleep=1"))
	if err != nil {
		t.Fatalf("h2c GET: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		t.Errorf("h2c GET = %d over HTTP/%d, want 200 over HTTP/2", resp.StatusCode, resp.ProtoMajor)
	}
	if r := p.get(t, "/", nil); r.code != http.StatusOK {
		t.Errorf("HTTP/1 GET on 8013 = %d, want 200", r.code)
	}
}

func TestForwardedFrom(t *testing.T) {
	for _, tc := range []struct {
		header map[string]string
		remote string
		want   string
	}{
		{map[string]string{"X-Forwarded-For": "1.1.1.1, 2.2.2.2"}, "127.0.0.1:1", "for=1.1.1.1, for=2.2.2.2"},
		{map[string]string{"X-Forwarded-For": "2001:db8::1", "X-Forwarded-Proto": "http"}, "127.0.0.1:1", `for="[2001:db8::1]";proto=http`},
		{map[string]string{"X-Forwarded-Host": "h"}, "127.0.0.1:1", "host=h"},
		{nil, "127.10.0.9:4321", "for=127.10.0.9;proto=http"},
	} {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.remote
		for k, v := range tc.header {
			r.Header.Set(k, v)
		}
		if got := forwardedFrom(r); got != tc.want {
			t.Errorf("forwardedFrom(%v, %s) = %q, want %q", tc.header, tc.remote, got, tc.want)
		}
	}
}
