package activator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/servingsim/servingsim/stack/apis/serving"
)

// Bodies and headers of the activator's own replies (§4, net:pkg/network/probe_handler.go).
const (
	ShuttingDownBody     = "shutting down"
	noHashBody           = "no K-Network-Hash header"
	badProbeTemplate     = "unexpected probe header value: %q"
	activeEndpointPrefix = "Error getting active endpoint: "
	forwardedHeader      = "Forwarded"
	xForwardedFor        = "X-Forwarded-For"
	xForwardedHost       = "X-Forwarded-Host"
	xForwardedProto      = "X-Forwarded-Proto"
	userAgentHeader      = "User-Agent"
)

// revisionResource names Revisions in NotFound errors ("revision.serving.knative.dev").
var revisionResource = schema.GroupResource{Group: serving.GroupName, Resource: "revision"}

func revisionNotFound(name string) error { return apierrors.NewNotFound(revisionResource, name) }

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }

// buildHandler composes §4's chain, outermost first: health → network probe → activator probe
// → context (revision lookup) → concurrency reporter → timeout → activation (throttler and
// reverse proxy). Knative's full-duplex, metric, request-log and tracing handlers have no
// behaviour to simulate and are left out.
func (a *Activator) buildHandler() http.Handler {
	var h http.Handler = http.HandlerFunc(a.activate)
	h = &timeoutHandler{next: h, clk: a.clk, limits: func(r *http.Request) timeouts { return revisionFrom(r.Context()).timeouts }}
	h = a.concurrencyReporter(h)
	h = a.contextHandler(h)
	h = probeHandler(h)
	h = networkProbeHandler(h)
	return a.healthHandler(h)
}

// isKubeletProbe reports a kubelet probe: User-Agent kube-probe/… or a K-Kubelet-Probe header.
func isKubeletProbe(r *http.Request) bool {
	return strings.HasPrefix(r.UserAgent(), serving.KubeProbeUserAgentPrefix) ||
		r.Header.Get(serving.KubeletProbeHeaderName) != ""
}

// healthHandler answers kubelet probes: 200 while serving, 503 once shutting down.
func (a *Activator) healthHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isKubeletProbe(r) {
			next.ServeHTTP(w, r)
			return
		}
		if a.draining.Load() {
			http.Error(w, ShuttingDownBody, http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// networkProbeHandler answers the ingress prober (K-Network-Probe: probe): 200 echoing
// K-Network-Hash, or 400 without one.
func networkProbeHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(serving.ProbeHeaderName) != serving.IngressProbeValue {
			next.ServeHTTP(w, r)
			return
		}
		hash := r.Header.Get(serving.HashHeaderName)
		if hash == "" {
			http.Error(w, noHashBody, http.StatusBadRequest)
			return
		}
		w.Header().Set(serving.HashHeaderName, hash)
		w.WriteHeader(http.StatusOK)
	})
}

// probeHandler is Knative's activator ProbeHandler (§4): K-Network-Probe: activator gets 200
// "activator" (the autoscaler's proof that the activator is in the path); any other value 400.
func probeHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := r.Header.Get(serving.ProbeHeaderName)
		if v == "" {
			next.ServeHTTP(w, r)
			return
		}
		if v != serving.ActivatorProbeValue {
			http.Error(w, fmt.Sprintf(badProbeTemplate, v), http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(serving.ActivatorProbeValue))
	})
}

type revisionKey struct{}

// revisionFrom is the revision the context handler found for the request.
func revisionFrom(ctx context.Context) *revisionInfo {
	return ctx.Value(revisionKey{}).(*revisionInfo)
}

// contextHandler looks up the revision named by Knative-Serving-Revision and
// Knative-Serving-Namespace (§4): unknown gives 404 "Error getting active endpoint: ...",
// a failed lookup 500.
func (a *Activator) contextHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := types.NamespacedName{Namespace: r.Header.Get(serving.RevisionNamespaceHeaderName), Name: r.Header.Get(serving.RevisionHeaderName)}
		info, err := a.lookupRevision(r.Context(), key)
		if err != nil {
			code := http.StatusInternalServerError
			if isNotFound(err) {
				code = http.StatusNotFound
			}
			http.Error(w, activeEndpointPrefix+err.Error(), code)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), revisionKey{}, info)))
	})
}

// concurrencyReporter counts the request for its revision from arrival to end, buffering
// included, and sends the immediate stat on a revision's first request of a period (§3.3.3).
func (a *Activator) concurrencyReporter(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := revisionFrom(r.Context()).key
		if st, first := a.reporter.In(a.clk.Now(), key); first {
			a.stats.RecordStat(key, st)
		}
		defer func() { a.reporter.Out(a.clk.Now(), key) }()
		next.ServeHTTP(w, r)
	})
}

// activate waits in the revision's throttler and proxies to the pod it picks (§4 Try loop):
// a full queue or a passed deadline answer 503, other failures 500 unless the request already
// ended (the timeout handler answered 504, or the client left).
func (a *Activator) activate(w http.ResponseWriter, r *http.Request) {
	t := a.throttlerFor(revisionFrom(r.Context()))
	err := t.Try(r.Context(), func(dest string) error {
		a.proxy(w, r, a.podAddr(dest))
		return nil
	})
	switch {
	case err == nil:
	case errors.Is(err, ErrRequestQueueFull), errors.Is(err, context.DeadlineExceeded):
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	case r.Context().Err() != nil:
	default:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// proxy forwards to a pod's queue-proxy at target (§4 Forwarding): K-Proxy-Request:
// activator; Host moved into K-Original-Host (an existing one is kept) and the pod address
// used as Host; Knative-Serving-Revision/-Namespace stripped; Forwarded and X-Forwarded-*
// passed on with the peer appended to X-Forwarded-For. Transport errors answer 502.
func (a *Activator) proxy(w http.ResponseWriter, r *http.Request, target string) {
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", target
			pr.Out.Host = ""
			if pr.In.Header.Get(serving.OriginalHostHeaderName) == "" {
				pr.Out.Header.Set(serving.OriginalHostHeaderName, pr.In.Host)
			}
			pr.Out.Header.Set(serving.ProxyHeaderName, serving.ProxyHeaderValue)
			pr.Out.Header.Del(serving.RevisionHeaderName)
			pr.Out.Header.Del(serving.RevisionNamespaceHeaderName)
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
		Transport:    a.transport,
		BufferPool:   a.bufferPool,
		ErrorLog:     a.errorLog,
		ErrorHandler: a.proxyError,
	}
	rp.ServeHTTP(w, r)
}

// proxyError answers 502 with the transport error, unless the request already ended.
func (a *Activator) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil && errors.Is(err, r.Context().Err()) {
		return
	}
	a.opts.Logger.V(1).Info("Error proxying request", "error", err.Error(), "target", r.URL.Host)
	http.Error(w, err.Error(), http.StatusBadGateway)
}
