package gateway

import (
	"context"
	"errors"
	"io"
	"math/bits"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"syscall"

	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/rng"
)

// Envoy's reply bodies, which Knative users see from Kourier.
const (
	NoHealthyUpstreamBody  = "no healthy upstream"
	UpstreamTimeoutBody    = "upstream request timeout"
	upstreamResetPrefix    = "upstream connect error or disconnect/reset before headers. reset reason: "
	ConnectFailureBody     = upstreamResetPrefix + "connection failure"
	ConnectionTerminated   = upstreamResetPrefix + "connection termination"
	UpstreamProtocolError  = upstreamResetPrefix + "protocol error"
	forwardedHeader        = "Forwarded"
	xForwardedForHeader    = "X-Forwarded-For"
	contentTypeHeader      = "Content-Type"
	textPlain              = "text/plain"
	forwardedProtoHTTPOnly = "http" // the gateway serves plain HTTP only
)

// lookupFunc is one listener's view of the table.
type lookupFunc func(host string) (Route, bool)

// rewriteHostKey carries a path's rewriteHost to the proxy's Rewrite (rare: domain mappings).
type rewriteHostKey struct{}

// route is the per-request data path (§6): Host → path (header matches first) → weighted split
// → the split Service's ready endpoints → one of them, at random → reverse proxy, keeping Host
// and adding the path's and split's appendHeaders and the forwarding headers. A request with
// RequestIDHeader takes its split draw from its id (see splitDraw); the header is removed.
func (s *Server) route(w http.ResponseWriter, r *http.Request, lookup lookupFunc) {
	rt, ok := lookup(r.Host)
	if !ok {
		w.WriteHeader(http.StatusNotFound) // Envoy: no route for the host, empty body
		return
	}
	path := matchPath(rt.Paths, r, s.opts.TagHeaderRouting())
	if path == nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	draw := splitDraw{stream: s.opts.Stream}
	if id := r.Header.Get(RequestIDHeader); id != "" {
		// The id is the harness's, not the app's: draw from it and keep it off the upstream.
		// The route is named without its namespace: each scenario run gets a fresh generated
		// namespace, and the same run must draw the same.
		r.Header.Del(RequestIDHeader)
		draw = splitDraw{hashed: true, hash: requestHash(s.requestKey, rt.Ingress.Name, id)}
	}
	split := chooseSplit(path.Splits, draw)
	if split == nil {
		replyText(w, http.StatusServiceUnavailable, NoHealthyUpstreamBody)
		return
	}
	ns := split.ServiceNamespace
	if ns == "" {
		ns = rt.Ingress.Namespace
	}
	addrs, err := s.opts.Endpoints.ReadyAddrs(r.Context(), ns, split.ServiceName)
	if err != nil {
		s.opts.Logger.Error(err, "Reading endpoints", "namespace", ns, "service", split.ServiceName)
		addrs = nil
	}
	if len(addrs) == 0 {
		replyText(w, http.StatusServiceUnavailable, NoHealthyUpstreamBody)
		return
	}
	addr := addrs[0]
	if len(addrs) > 1 {
		addr = addrs[s.opts.Stream.IntN(len(addrs))]
	}
	// The proxy clones r after this, so the upstream request carries these; r is ours (the
	// terminal handler) and is not used afterwards.
	r.URL.Scheme, r.URL.Host = "http", addr
	for k, v := range path.AppendHeaders {
		r.Header.Set(k, v)
	}
	for k, v := range split.AppendHeaders {
		r.Header.Set(k, v)
	}
	if path.RewriteHost != "" {
		r = r.WithContext(context.WithValue(r.Context(), rewriteHostKey{}, path.RewriteHost))
	}
	s.proxy.ServeHTTP(w, r)
}

// matchPath returns the first path whose header matches and path prefix accept r. Paths come
// sorted header-matching first (Table.Set). Matches on Knative-Serving-Tag apply only while
// tag-header-based-routing is on (§6 Tag header routing), so a stale Ingress cannot route by
// tag after the feature is turned off.
func matchPath(paths []netv1alpha1.HTTPIngressPath, r *http.Request, tagHeaderRouting bool) *netv1alpha1.HTTPIngressPath {
	for i := range paths {
		p := &paths[i]
		if !headersMatch(p.Headers, r.Header, tagHeaderRouting) {
			continue
		}
		if p.Path != "" && !strings.HasPrefix(r.URL.Path, p.Path) {
			continue
		}
		return p
	}
	return nil
}

func headersMatch(want map[string]netv1alpha1.HeaderMatch, h http.Header, tagHeaderRouting bool) bool {
	for name, m := range want {
		if !tagHeaderRouting && http.CanonicalHeaderKey(name) == serving.TagHeaderName {
			return false
		}
		if h.Get(name) != m.Exact {
			return false
		}
	}
	return true
}

// chooseSplit draws a split with probability percent/Σpercent (Knative's percents sum to 100).
// A single split takes no draw; splits that all weigh 0 are chosen uniformly.
func chooseSplit(splits []netv1alpha1.IngressBackendSplit, draw splitDraw) *netv1alpha1.IngressBackendSplit {
	switch len(splits) {
	case 0:
		return nil
	case 1:
		return &splits[0]
	}
	total := 0
	for i := range splits {
		total += max(splits[i].Percent, 0)
	}
	if total == 0 {
		return &splits[draw.intN(len(splits))]
	}
	n := draw.intN(total)
	for i := range splits {
		if n -= max(splits[i].Percent, 0); n < 0 {
			return &splits[i]
		}
	}
	return &splits[len(splits)-1] // unreachable: n < total
}

// splitDraw is where a split draw comes from: the seeded stream, in request arrival order, or,
// for a request carrying RequestIDHeader, a hash of (seed, route name, id), so the same request
// of the same scenario goes to the same revision however requests interleave.
type splitDraw struct {
	stream *rng.Stream
	hashed bool
	hash   uint64
}

// intN returns a value in [0, n).
func (d splitDraw) intN(n int) int {
	if !d.hashed {
		return d.stream.IntN(n)
	}
	return hashIntN(d.hash, n)
}

// hashIntN maps a uniform 64-bit hash onto [0, n) by multiply-shift (Lemire): the bias is
// below n/2⁶⁴, nothing at Knative's n ≤ 100.
func hashIntN(h uint64, n int) int {
	hi, _ := bits.Mul64(h, uint64(n))
	return int(hi)
}

// requestHash is the deterministic draw of request id on a route under key (the gateway's
// seeded key): FNV-1a of each string, folded in with splitmix64's finalizer, which spreads the
// neighbouring ids a load generator sends ("…/0", "…/1", …) over the whole 64-bit range.
func requestHash(key uint64, route, id string) uint64 {
	h := splitmix64(key ^ fnv1a(route))
	return splitmix64(h ^ fnv1a(id))
}

func fnv1a(s string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime
	}
	return h
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// rewrite finishes the upstream request: the Host stays as the client sent it (queue-proxy and
// the app see it) unless the path rewrites it; X-Forwarded-For gets the client appended, as
// Envoy does, X-Forwarded-Host/-Proto describe the client's request, and an RFC 7239 Forwarded
// element is appended.
func rewrite(pr *httputil.ProxyRequest) {
	if h, ok := pr.In.Context().Value(rewriteHostKey{}).(string); ok {
		pr.Out.Host = h
	}
	// ReverseProxy strips inbound X-Forwarded-* before Rewrite; keep the prior hops.
	if prior := pr.In.Header[xForwardedForHeader]; len(prior) > 0 {
		pr.Out.Header[xForwardedForHeader] = prior
	}
	pr.SetXForwarded()
	elem := forwardedElement(pr.In)
	if prior := pr.In.Header.Values(forwardedHeader); len(prior) > 0 {
		elem = strings.Join(prior, ", ") + ", " + elem
	}
	pr.Out.Header.Set(forwardedHeader, elem)
}

// forwardedElement is "for=<client>;host=<host>;proto=http" (RFC 7239).
func forwardedElement(r *http.Request) string {
	var b strings.Builder
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		b.WriteString("for=")
		if strings.Contains(ip, ":") {
			b.WriteString(`"[` + ip + `]"`) // IPv6 must be bracketed and quoted
		} else {
			b.WriteString(ip)
		}
		b.WriteByte(';')
	}
	b.WriteString("host=")
	b.WriteString(forwardedValue(r.Host))
	b.WriteString(";proto=" + forwardedProtoHTTPOnly)
	return b.String()
}

// forwardedValue quotes v unless it is an RFC 7230 token (a host with a port is not).
func forwardedValue(v string) string {
	for i := 0; i < len(v); i++ {
		if !isTokenChar(v[i]) {
			return `"` + strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), `"`, `\"`) + `"`
		}
	}
	return v
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// upstreamError answers like Envoy when the upstream hop fails: 503 when the connection could
// not be made or broke before response headers, 504 when the headers did not come in time,
// 502 for an unparseable response. A client that went away gets nothing.
func (s *Server) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	code, body := classifyUpstreamError(err)
	s.opts.Logger.V(1).Info("Upstream error", "host", r.Host, "upstream", r.URL.Host, "status", code, "error", err.Error())
	replyText(w, code, body)
}

func classifyUpstreamError(err error) (int, string) {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return http.StatusServiceUnavailable, ConnectFailureBody
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return http.StatusGatewayTimeout, UpstreamTimeoutBody
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.As(err, &op) {
		return http.StatusServiceUnavailable, ConnectionTerminated
	}
	return http.StatusBadGateway, UpstreamProtocolError
}

func replyText(w http.ResponseWriter, code int, body string) {
	w.Header().Set(contentTypeHeader, textPlain)
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}
