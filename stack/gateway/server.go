package gateway

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/servingsim/servingsim/stack/rng"
)

// Kourier's listener ports: the external gateway (Service kourier, port 80 → 8080) and the
// internal one (Service kourier-internal, port 80 → 8081).
const (
	ExternalPort = 8080
	InternalPort = 8081
)

// RequestIDHeader carries a request's identity from servingsim's load generator (harness/load):
// "<stream>/<phase>/<seq>", unique within a run. The gateway draws the request's weighted split
// from (seed, route name, id) instead of from its stream in arrival order, so the same request of the
// same seeded scenario goes to the same revision in every run (concurrent arrivals reorder
// stream draws). It is harness-internal: the gateway removes it before proxying, so the
// activator, queue-proxy and app see what Knative's would.
const RequestIDHeader = "X-Servingsim-Request"

// Defaults of Options.
const (
	// DefaultUpstreamTimeout bounds the wait for an upstream's response headers. Kourier sets
	// no route timeout and leaves it to the revision (timeoutSeconds ≤ max-revision-timeout-
	// seconds, 600 by default); we keep the bound so nothing waits forever.
	DefaultUpstreamTimeout = 600 * time.Second
	// DefaultConnectTimeout is Kourier's cluster connect timeout.
	DefaultConnectTimeout = 5 * time.Second
	// DefaultShutdownTimeout bounds the graceful shutdown; remaining connections are then closed.
	DefaultShutdownTimeout = 30 * time.Second
	// DefaultMaxIdleConnsPerHost is the keep-alive pool per upstream (pod or activator), large
	// enough for ≥10k rps over loopback without re-dialling.
	DefaultMaxIdleConnsPerHost = 1000
	// DefaultIdleTimeout is Envoy's downstream idle timeout (1h).
	DefaultIdleTimeout = time.Hour
	// DefaultReadHeaderTimeout bounds a client's request headers.
	DefaultReadHeaderTimeout = time.Minute
)

// Options are the gateway's dependencies and knobs.
type Options struct {
	// Table holds the programmed Ingress rules. Required.
	Table *Table
	// Endpoints resolves a split's Service to ready upstreams. Required; in the system a
	// NewClientEndpoints over the manager's cache.
	Endpoints EndpointsReader
	// Clock bounds the graceful shutdown. Default clock.RealClock{}.
	Clock clock.Clock
	// Stream draws weighted splits and endpoint choices; its first draw, taken in New, keys the
	// splits of requests with RequestIDHeader. Default rng.New(0).Stream("gateway").
	Stream *rng.Stream
	// Logger receives upstream and server errors. Default logr.Discard().
	Logger logr.Logger
	// TagHeaderRouting reports config-features tag-header-based-routing, read per request so a
	// ConfigMap change applies at once. Default: off.
	TagHeaderRouting func() bool
	// ExternalAddr is host:port of the external listener (ExternalIP rules), e.g.
	// 127.0.4.1:8080. Empty: no external listener.
	ExternalAddr string
	// InternalAddr is host:port of the internal listener (ClusterLocal rules, and ExternalIP
	// ones too as Kourier's internal gateway does), e.g. 127.0.4.1:8081. Empty: none.
	InternalAddr string
	// UpstreamTimeout bounds the wait for response headers (then 504). Default DefaultUpstreamTimeout.
	UpstreamTimeout time.Duration
	// ShutdownTimeout bounds the graceful shutdown. Default DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// MaxIdleConnsPerHost is the keep-alive pool per upstream. Default DefaultMaxIdleConnsPerHost.
	MaxIdleConnsPerHost int
	// Transport replaces the upstream transport (tests). Default: a pooled http.Transport.
	Transport http.RoundTripper
}

// Server is the in-process Kourier: an external and an internal listener that route by Host,
// path and headers to weighted splits of revision Services (§6 Data path). It is a manager
// Runnable: Start serves until its context ends, then shuts down gracefully within a bound.
type Server struct {
	opts       Options
	requestKey uint64          // seeds the split draws of requests with RequestIDHeader
	transport  *http.Transport // owned, closed on shutdown; nil when Options.Transport was given
	proxy      *httputil.ReverseProxy
	external   http.Handler
	internal   http.Handler
	errorLog   *log.Logger

	mu        sync.Mutex
	listeners map[string]net.Listener // by role: "external", "internal"
	started   bool
}

var _ manager.Runnable = (*Server)(nil)
var _ manager.LeaderElectionRunnable = (*Server)(nil)

// New validates opts and returns a gateway that is not listening yet.
func New(opts Options) (*Server, error) {
	if opts.Table == nil || opts.Endpoints == nil {
		return nil, errors.New("gateway.Options: Table and Endpoints are required")
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Stream == nil {
		opts.Stream = rng.New(0).Stream("gateway")
	}
	if opts.Logger.GetSink() == nil {
		opts.Logger = logr.Discard()
	}
	if opts.TagHeaderRouting == nil {
		opts.TagHeaderRouting = func() bool { return false }
	}
	if opts.UpstreamTimeout <= 0 {
		opts.UpstreamTimeout = DefaultUpstreamTimeout
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	if opts.MaxIdleConnsPerHost <= 0 {
		opts.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	}
	s := &Server{opts: opts, requestKey: opts.Stream.Uint64(), listeners: map[string]net.Listener{},
		errorLog: log.New(logWriter{opts.Logger}, "", 0)}
	rt := opts.Transport
	if rt == nil {
		s.transport = &http.Transport{
			Proxy:                 nil, // loopback only: never an environment proxy
			DialContext:           (&net.Dialer{Timeout: DefaultConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:          0, // no global cap; per upstream below
			MaxIdleConnsPerHost:   opts.MaxIdleConnsPerHost,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: opts.UpstreamTimeout,
			ExpectContinueTimeout: time.Second,
			DisableCompression:    true, // pass bodies through as the upstream sent them
		}
		rt = s.transport
	}
	s.proxy = &httputil.ReverseProxy{
		Rewrite:      rewrite,
		Transport:    rt,
		BufferPool:   bufferPool{},
		ErrorHandler: s.upstreamError,
		ErrorLog:     s.errorLog,
	}
	s.external = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.route(w, r, s.opts.Table.LookupExternal) })
	s.internal = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.route(w, r, s.opts.Table.LookupInternal) })
	return s, nil
}

// ExternalHandler is the external listener's handler (ExternalIP rules).
func (s *Server) ExternalHandler() http.Handler { return s.external }

// InternalHandler is the internal listener's handler (ClusterLocal and ExternalIP rules).
func (s *Server) InternalHandler() http.Handler { return s.internal }

// Listen binds the configured listeners; Start calls it if needed. Call it first to learn the
// bound addresses (port 0). On error nothing is left listening.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.listeners) > 0 {
		return nil
	}
	if s.opts.ExternalAddr == "" && s.opts.InternalAddr == "" {
		return errors.New("gateway: neither ExternalAddr nor InternalAddr is set")
	}
	bound := map[string]net.Listener{}
	for _, l := range []struct{ role, addr string }{{"external", s.opts.ExternalAddr}, {"internal", s.opts.InternalAddr}} {
		if l.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			for _, b := range bound {
				_ = b.Close()
			}
			return fmt.Errorf("gateway %s listen %s: %w", l.role, l.addr, err)
		}
		bound[l.role] = ln
	}
	s.listeners = bound
	return nil
}

// ExternalAddr is the bound external address ("" before Listen or when disabled).
func (s *Server) ExternalAddr() string { return s.addr("external") }

// InternalAddr is the bound internal address ("" before Listen or when disabled).
func (s *Server) InternalAddr() string { return s.addr("internal") }

func (s *Server) addr(role string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ln, ok := s.listeners[role]; ok {
		return ln.Addr().String()
	}
	return ""
}

// NeedLeaderElection is false: every replica serves traffic.
func (s *Server) NeedLeaderElection() bool { return false }

// Start serves until ctx ends, then stops accepting, lets in-flight requests finish within
// ShutdownTimeout and closes what remains. It can run once.
func (s *Server) Start(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("gateway: already started")
	}
	s.started = true
	var servers []*http.Server
	serveErr := make(chan error, len(s.listeners))
	for role, ln := range s.listeners {
		h := s.external
		if role == "internal" {
			h = s.internal
		}
		srv := &http.Server{Handler: h, ErrorLog: s.errorLog,
			ReadHeaderTimeout: DefaultReadHeaderTimeout, IdleTimeout: DefaultIdleTimeout}
		servers = append(servers, srv)
		go func() {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				serveErr <- fmt.Errorf("gateway %s serve: %w", role, err)
				return
			}
			serveErr <- nil
		}()
	}
	s.mu.Unlock()

	var err error
	received := 0
	select {
	case <-ctx.Done():
	case err = <-serveErr: // a listener failed: take the other one down too
		received++
	}
	s.shutdown(servers)
	for ; received < len(servers); received++ {
		if e := <-serveErr; e != nil && err == nil {
			err = e
		}
	}
	return err
}

func (s *Server) shutdown(servers []*http.Server) {
	sctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t := s.opts.Clock.NewTimer(s.opts.ShutdownTimeout)
	defer t.Stop()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-t.C():
			cancel()
		case <-done:
		}
	}()
	var wg sync.WaitGroup
	for _, srv := range servers {
		wg.Go(func() {
			if err := srv.Shutdown(sctx); err != nil {
				s.opts.Logger.Info("Gateway shutdown timed out; closing connections", "error", err.Error())
				_ = srv.Close()
			}
		})
	}
	wg.Wait()
	if s.transport != nil {
		s.transport.CloseIdleConnections()
	}
}

// logWriter sends net/http's error log lines to a logr.Logger.
type logWriter struct{ l logr.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.l.V(1).Info(string(p))
	return len(p), nil
}

// bufferPool recycles ReverseProxy's 32 KiB copy buffers instead of allocating one per request.
type bufferPool struct{}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *copyBuffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { copyBuffers.Put(&b) }
