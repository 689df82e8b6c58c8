package queueproxy

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"

	"github.com/servingsim/servingsim/stack/apis/serving"
)

// Bodies of the queue-proxy's own replies (§5).
const (
	ShuttingDownBody  = "shutting down"
	badProbeTemplate  = "unexpected probe header value: %s"
	forwardedHeader   = "Forwarded"
	xForwardedFor     = "X-Forwarded-For"
	xForwardedHost    = "X-Forwarded-Host"
	xForwardedProto   = "X-Forwarded-Proto"
	userAgentHeader   = "User-Agent"
	contentTypeHeader = "Content-Type"
)

// isKubeletProbe reports a kubelet probe: User-Agent kube-probe/… or a K-Kubelet-Probe header.
func isKubeletProbe(r *http.Request) bool {
	return strings.HasPrefix(r.UserAgent(), serving.KubeProbeUserAgentPrefix) ||
		r.Header.Get(serving.KubeletProbeHeaderName) != ""
}

// isHealthCheck reports a request for the drainer's health handler: a kubelet probe, an
// activator or autoscaler probe (by User-Agent) or any K-Network-Probe other than the ingress
// prober's "probe".
func isHealthCheck(r *http.Request) bool {
	if isKubeletProbe(r) {
		return true
	}
	ua := r.UserAgent()
	if strings.HasPrefix(ua, serving.ActivatorProbeUserAgent) || strings.HasPrefix(ua, serving.AutoscalingProbeUserAgent) {
		return true
	}
	v := r.Header.Get(serving.ProbeHeaderName)
	return v != "" && v != serving.IngressProbeValue
}

// buildHandler composes §5's chain, outermost first: drainer with health checks → timeout →
// Forwarded shim → stats and breaker → reverse proxy (Host restore, revision headers stripped).
func (q *QueueProxy) buildHandler() http.Handler {
	h := q.proxyHandler(q.reverseProxy())
	h = forwardedShim(h)
	h = &timeoutHandler{next: h, clk: q.clk, total: q.cfg.RevisionTimeout, start: q.cfg.ResponseStartTimeout, idle: q.cfg.IdleTimeout}
	return q.drainHandler(h)
}

// drainHandler is Knative's Drainer: health checks answer from the prober (503 "shutting down"
// once draining); ingress probes get 200 with their hash; every other request restarts the
// drain's quiet period and goes on.
func (q *QueueProxy) drainHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isHealthCheck(r) {
			if q.drain.draining() {
				http.Error(w, ShuttingDownBody, http.StatusServiceUnavailable)
				return
			}
			q.health(w, r)
			return
		}
		if r.Header.Get(serving.ProbeHeaderName) == serving.IngressProbeValue {
			w.Header().Set(serving.HashHeaderName, r.Header.Get(serving.HashHeaderName))
			w.WriteHeader(http.StatusOK)
			return
		}
		q.drain.touch()
		next.ServeHTTP(w, r)
	})
}

// health is the queue-proxy's probe handler (§5 Readiness): only K-Network-Probe: queue is
// accepted; it runs the user container's readiness probe and answers 200 "queue" or 503.
func (q *QueueProxy) health(w http.ResponseWriter, r *http.Request) {
	if v := r.Header.Get(serving.ProbeHeaderName); v != serving.QueueProbeValue {
		http.Error(w, fmt.Sprintf(badProbeTemplate, v), http.StatusBadRequest)
		return
	}
	if !q.prober.Probe(r.Context()) {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.Header().Set(contentTypeHeader, "text/plain")
	_, _ = w.Write([]byte(serving.QueueProbeValue))
}

// forwardedShim adds a Forwarded header (RFC 7239) built from X-Forwarded-For/-Host/-Proto
// when the request has none (§5 Handler chain 6): one element per X-Forwarded-For hop, host and
// proto on the first. Simplification: with no X-Forwarded-* at all it describes the direct peer
// (for=<peer>;proto=http), which is what a front proxy would have put there, so the runtime
// contract's Forwarded header (§7.2) holds whatever sits in front.
func forwardedShim(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(forwardedHeader) == "" {
			if fwd := forwardedFrom(r); fwd != "" {
				r.Header.Set(forwardedHeader, fwd)
			}
		}
		next.ServeHTTP(w, r)
	})
}

func forwardedFrom(r *http.Request) string {
	xff := strings.Join(r.Header.Values(xForwardedFor), ",")
	host, proto := r.Header.Get(xForwardedHost), r.Header.Get(xForwardedProto)
	if xff == "" && host == "" && proto == "" {
		peer, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return ""
		}
		xff, proto = peer, "http"
	}
	var elems []string
	for i, node := range strings.Split(xff, ",") {
		node = strings.TrimSpace(node)
		if node == "" {
			continue
		}
		pairs := []string{"for=" + forwardedNode(node)}
		if i == 0 {
			if host != "" {
				pairs = append(pairs, "host="+host)
			}
			if proto != "" {
				pairs = append(pairs, "proto="+proto)
			}
		}
		elems = append(elems, strings.Join(pairs, ";"))
	}
	if len(elems) == 0 { // only host/proto were given
		var pairs []string
		if host != "" {
			pairs = append(pairs, "host="+host)
		}
		if proto != "" {
			pairs = append(pairs, "proto="+proto)
		}
		elems = append(elems, strings.Join(pairs, ";"))
	}
	return strings.Join(elems, ", ")
}

// forwardedNode quotes IPv6 addresses as RFC 7239 requires ("[2001:db8::1]").
func forwardedNode(n string) string {
	if strings.Contains(n, ":") && !strings.HasPrefix(n, "\"") {
		if !strings.HasPrefix(n, "[") {
			n = "[" + n + "]"
		}
		return "\"" + n + "\""
	}
	return n
}

// proxyHandler records stats and applies the breaker (§5 Handler chain 7, Stats, Breaker).
// Kubelet probes bypass both.
func (q *QueueProxy) proxyHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isKubeletProbe(r) {
			next.ServeHTTP(w, r)
			return
		}
		proxied := r.Header.Get(serving.ProxyHeaderName) == serving.ProxyHeaderValue
		q.stats.In(q.clk.Now(), proxied)
		defer func() { q.stats.Out(q.clk.Now(), proxied) }()
		if err := q.breaker.Maybe(r.Context(), func() { next.ServeHTTP(w, r) }); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	})
}

// reverseProxy forwards to the app on podIP:USER_PORT (§5 Handler chain 9): Host is restored
// from K-Original-Host, the revision headers are stripped, Forwarded and X-Forwarded-* pass
// through with the peer appended to X-Forwarded-For; transport errors answer 502.
func (q *QueueProxy) reverseProxy() http.Handler {
	target := net.JoinHostPort(q.cfg.PodIP.String(), fmt.Sprint(q.cfg.UserPort))
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", target
			pr.Out.Host = pr.In.Host
			if h := pr.In.Header.Get(serving.OriginalHostHeaderName); h != "" {
				pr.Out.Host = h
			}
			for _, h := range []string{serving.OriginalHostHeaderName, serving.RevisionHeaderName, serving.RevisionNamespaceHeaderName} {
				pr.Out.Header.Del(h)
			}
			// Rewrite drops these from the outbound request; the app must see them (§7.2).
			for _, h := range []string{forwardedHeader, xForwardedHost, xForwardedProto} {
				if v := pr.In.Header.Values(h); len(v) > 0 {
					pr.Out.Header[h] = v
				}
			}
			if peer, _, err := net.SplitHostPort(pr.In.RemoteAddr); err == nil {
				if prior := pr.In.Header.Values(xForwardedFor); len(prior) > 0 {
					peer = strings.Join(prior, ", ") + ", " + peer
				}
				pr.Out.Header.Set(xForwardedFor, peer)
			}
			if _, ok := pr.In.Header[userAgentHeader]; !ok {
				pr.Out.Header.Set(userAgentHeader, "") // do not invent Go's User-Agent
			}
		},
		Transport: q.transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil && errors.Is(err, r.Context().Err()) {
				return // the request ended (timeout or client gone): nobody to answer
			}
			http.Error(w, err.Error(), http.StatusBadGateway)
		},
		ErrorLog: q.errorLog,
	}
}
