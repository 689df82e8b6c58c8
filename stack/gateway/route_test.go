package gateway

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/rng"
)

// Pearson's chi-square over many seeded draws: the observed split frequencies must be
// consistent with the percents (p ≥ 0.001), and a 0% split never drawn.
func TestChooseSplit_FollowsPercents_ChiSquare(t *testing.T) {
	splits := []netv1alpha1.IngressBackendSplit{split("a", 50), split("b", 30), split("zero", 0), split("c", 20)}
	stream := splitDraw{stream: rng.New(7).Stream("gateway")}
	const n = 100_000
	counts := map[string]int{}
	for range n {
		counts[chooseSplit(splits, stream).ServiceName]++
	}
	if counts["zero"] != 0 {
		t.Errorf("0%% split drawn %d times, want 0", counts["zero"])
	}
	chi2 := 0.0
	for name, p := range map[string]float64{"a": .5, "b": .3, "c": .2} {
		exp := n * p
		d := float64(counts[name]) - exp
		chi2 += d * d / exp
	}
	if pv := (distuv.ChiSquared{K: 2}).Survival(chi2); pv < 0.001 {
		t.Errorf("chooseSplit counts %v: chi² = %.1f, p = %.2g; want p ≥ 0.001 for 50/30/20", counts, chi2, pv)
	}
}

func TestChooseSplit_EdgeCases(t *testing.T) {
	stream := splitDraw{stream: rng.New(1).Stream("gateway")}
	if got := chooseSplit(nil, stream); got != nil {
		t.Errorf("chooseSplit(none) = %v, want nil", got)
	}
	one := []netv1alpha1.IngressBackendSplit{split("only", 0)}
	if got := chooseSplit(one, stream); got == nil || got.ServiceName != "only" {
		t.Errorf("chooseSplit(one split) = %v, want it whatever its percent", got)
	}
	zeros := []netv1alpha1.IngressBackendSplit{split("a", 0), split("b", 0)}
	seen := map[string]bool{}
	for range 100 {
		seen[chooseSplit(zeros, stream).ServiceName] = true
	}
	if !seen["a"] || !seen["b"] {
		t.Errorf("chooseSplit(all 0%%) drew %v, want both (uniform)", seen)
	}
}

func TestMatchPath_HeaderPathsFirstAndFlagged(t *testing.T) {
	tb := NewTable()
	ing := helloIngress(true, split("hello-00001", 100))
	ing.Spec.Rules[1].HTTP.Paths = append(ing.Spec.Rules[1].HTTP.Paths, netv1alpha1.HTTPIngressPath{
		Path: "/api", Headers: map[string]netv1alpha1.HeaderMatch{"X-Env": {Exact: "canary"}},
		Splits: []netv1alpha1.IngressBackendSplit{split("canary", 100)},
	})
	tb.Set(ing)
	rt, _ := tb.LookupExternal("hello.demo.example.com")
	cases := []struct {
		path   string
		header http.Header
		flag   bool
		want   string
	}{
		{"/", http.Header{serving.TagHeaderName: {"candidate"}}, true, "hello-00002"},
		{"/", http.Header{serving.TagHeaderName: {"candidate"}}, false, "hello-00001"},
		{"/api/v1", http.Header{"X-Env": {"canary"}}, false, "canary"}, // other header matches are not flagged
		{"/web", http.Header{"X-Env": {"canary"}}, false, "hello-00001"},
		{"/api", http.Header{"X-Env": {"stable"}}, true, "hello-00001"},
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodGet, c.path, nil)
		r.Header = c.header
		p := matchPath(rt.Paths, r, c.flag)
		if p == nil || p.Splits[0].ServiceName != c.want {
			t.Errorf("matchPath(%s, %v, flag=%v) = %v, want the path to %s", c.path, c.header, c.flag, p, c.want)
		}
	}
}

func TestClassifyUpstreamError_LikeEnvoy(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, 503},
		{&net.OpError{Op: "read", Err: syscall.ECONNRESET}, 503},
		{io.EOF, 503},
		{fmt.Errorf("wrapped: %w", io.ErrUnexpectedEOF), 503},
		{timeoutErr{}, 504},
		{errors.New(`malformed HTTP response "garbage"`), 502},
	}
	for _, c := range cases {
		if got, _ := classifyUpstreamError(c.err); got != c.want {
			t.Errorf("classifyUpstreamError(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "net/http: timeout awaiting response headers" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestForwardedElement_RFC7239(t *testing.T) {
	cases := []struct{ remote, host, want string }{
		{"127.0.0.1:5000", "hello.demo", "for=127.0.0.1;host=hello.demo;proto=http"},
		{"127.0.0.1:5000", "hello.demo:8080", `for=127.0.0.1;host="hello.demo:8080";proto=http`},
		{"[::1]:5000", "hello.demo", `for="[::1]";host=hello.demo;proto=http`},
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr, r.Host = c.remote, c.host
		if got := forwardedElement(r); got != c.want {
			t.Errorf("forwardedElement(%s, %s) = %s, want %s", c.remote, c.host, got, c.want)
		}
	}
}
