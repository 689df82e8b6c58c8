package activator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/queueproxy"
	"github.com/servingsim/servingsim/stack/rng"
)

// Defaults of Options.
const (
	// DefaultReportingPeriod is the stat period to the autoscaler (§3.1: activator report
	// interval 1s).
	DefaultReportingPeriod = time.Second
	// DefaultShutdownTimeout bounds the graceful shutdown of the HTTP server once the manager
	// stops: in-flight requests get this long, then connections are closed and buffered
	// requests cancelled. (Knative's activator drains for 45s while it leaves the endpoints; a
	// simulation stopping the whole stack has nobody to drain for.)
	DefaultShutdownTimeout = 5 * time.Second
)

// Upstream connection pool to the queue-proxies. Knative's defaults are 1000 idle connections
// and 100 per host; per host is raised so that bursts of hundreds of concurrent requests to one
// pod (CC=0) reuse connections instead of churning loopback ports at ≥10k rps.
const (
	maxIdleConns        = 10000
	maxIdleConnsPerHost = 1000
)

// Options are an activator's identity, dependencies and knobs.
type Options struct {
	// Name is the activator's pod name (e.g. "activator-0"): the PodName of its stats, and
	// part of its controller's and random streams' names. Required, unique per process.
	Name string
	// Address is the loopback IP it listens on (Address:8012) and that the activator-service
	// Endpoints list (as its 10.x stand-in). Required.
	Address string
	// Clock drives timeouts, re-probing and stat reporting. Default clock.RealClock{}.
	Clock clock.WithTicker
	// Source gives the random streams, named "activator/<Name>/lb/<ns>/<revision>". Default
	// rng.New(1).
	Source *rng.Source
	// Stats receives the per-revision stats for the autoscaler (§3.3.3). Default: discarded.
	Stats autoscaler.StatSink
	// Logger receives proxy and server errors. Default logr.Discard().
	Logger logr.Logger
	// ProbeTimeout bounds one pod probe. Default DefaultProbeTimeout (300ms).
	ProbeTimeout time.Duration
	// ProbeFrequency is how often pods that failed their probe are probed again. Default
	// DefaultProbeFrequency (200ms).
	ProbeFrequency time.Duration
	// ReportingPeriod is the stat period. Default DefaultReportingPeriod (1s).
	ReportingPeriod time.Duration
	// ShutdownTimeout bounds the graceful shutdown. Default DefaultShutdownTimeout (5s).
	ShutdownTimeout time.Duration
}

// Activator is one activator instance: the §4 handler chain on Address:8012, a throttler
// and a backend watcher per revision, and the stat reporter. New builds it; SetupWithManager
// registers its backends controller and its server on a manager; Close stops it when it is
// used without one.
type Activator struct {
	opts     Options
	clk      clock.WithTicker
	stats    autoscaler.StatSink
	reporter *ConcurrencyReporter
	handler  http.Handler
	errorLog *log.Logger

	transport  *http.Transport
	bufferPool *bufferPool
	prober     *prober
	// podAddr is host:port of a pod's queue-proxy (ip:8012); tests point it at fake ones.
	podAddr func(ip string) string
	// port is the listen port (8012); tests may change it.
	port int

	draining atomic.Bool
	ctx      context.Context // lifetime of the backend watchers
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	mu         sync.RWMutex
	reader     client.Reader // the manager's cache; nil without a manager
	revisions  map[types.NamespacedName]*revisionInfo
	throttlers map[types.NamespacedName]*Throttler
	watchers   map[types.NamespacedName]context.CancelFunc
	watched    map[types.NamespacedName]*revisionWatcher
	closed     bool
}

// New validates opts and returns an activator that is not serving yet.
func New(opts Options) (*Activator, error) {
	if opts.Name == "" {
		return nil, errors.New("activator: Name is required")
	}
	if a, err := netip.ParseAddr(opts.Address); err != nil || !a.IsLoopback() {
		return nil, fmt.Errorf("activator %s: Address %q is not a loopback IP", opts.Name, opts.Address)
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Source == nil {
		opts.Source = rng.New(1)
	}
	if opts.Logger.GetSink() == nil {
		opts.Logger = logr.Discard()
	}
	opts.ProbeTimeout = cmp.Or(opts.ProbeTimeout, DefaultProbeTimeout)
	opts.ProbeFrequency = cmp.Or(opts.ProbeFrequency, DefaultProbeFrequency)
	opts.ReportingPeriod = cmp.Or(opts.ReportingPeriod, DefaultReportingPeriod)
	opts.ShutdownTimeout = cmp.Or(opts.ShutdownTimeout, DefaultShutdownTimeout)
	if opts.ProbeTimeout < 0 || opts.ProbeFrequency < 0 || opts.ReportingPeriod < 0 || opts.ShutdownTimeout < 0 {
		return nil, fmt.Errorf("activator %s: durations must not be negative", opts.Name)
	}
	stats := opts.Stats
	if stats == nil {
		stats = autoscaler.StatSinkFunc(func(types.NamespacedName, autoscaler.Stat) {})
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &Activator{
		opts: opts, clk: opts.Clock, stats: stats,
		reporter:   NewConcurrencyReporter(opts.Name),
		errorLog:   log.New(logWriter{opts.Logger}, "", 0),
		bufferPool: newBufferPool(),
		port:       int(serving.QueueHTTPPort),
		ctx:        ctx, cancel: cancel,
		revisions:  map[types.NamespacedName]*revisionInfo{},
		throttlers: map[types.NamespacedName]*Throttler{},
		watchers:   map[types.NamespacedName]context.CancelFunc{},
		watched:    map[types.NamespacedName]*revisionWatcher{},
	}
	a.podAddr = func(ip string) string { return net.JoinHostPort(ip, strconv.Itoa(int(serving.QueueHTTPPort))) }
	a.transport = &http.Transport{
		Proxy:               nil,
		DialContext:         dialWithBackoff,
		MaxIdleConns:        maxIdleConns,
		MaxIdleConnsPerHost: maxIdleConnsPerHost,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	a.prober = newProber(opts.ProbeTimeout, func(ip string) string { return a.podAddr(ip) })
	a.handler = a.buildHandler()
	return a, nil
}

// Name is the activator's pod name.
func (a *Activator) Name() string { return a.opts.Name }

// Addr is Address:8012, where it serves.
func (a *Activator) Addr() string { return net.JoinHostPort(a.opts.Address, strconv.Itoa(a.port)) }

// Handler is the handler chain (for tests and in-process use).
func (a *Activator) Handler() http.Handler { return a.handler }

// SetupWithManager registers the activator on mgr: its backends controller (named
// "<Name>-backends") reading Revisions and Endpoints from the manager's cache, and a runnable
// that serves Address:8012 and reports stats until the manager stops, then shuts down within
// ShutdownTimeout and closes the activator.
func (a *Activator) SetupWithManager(mgr ctrl.Manager) error {
	a.mu.Lock()
	a.reader = mgr.GetClient()
	a.mu.Unlock()
	r := &backendsReconciler{reader: mgr.GetClient(), a: a}
	if err := r.setup(mgr, a.opts.Name+"-backends"); err != nil {
		return fmt.Errorf("activator %s: %w", a.opts.Name, err)
	}
	return mgr.Add(server{a})
}

// server runs the activator as a manager runnable. It needs no leader election: every
// activator serves.
type server struct{ a *Activator }

var (
	_ manager.Runnable               = server{}
	_ manager.LeaderElectionRunnable = server{}
)

func (s server) Start(ctx context.Context) error { return s.a.Serve(ctx) }
func (server) NeedLeaderElection() bool          { return false }

// Serve listens on Address:8012 and serves, and reports stats every ReportingPeriod, until
// ctx ends; then it shuts the server down gracefully (bounded by ShutdownTimeout, after which
// buffered and in-flight requests are cancelled) and closes the activator.
func (a *Activator) Serve(ctx context.Context) error {
	defer a.Close()
	ln, err := net.Listen("tcp", a.Addr())
	if err != nil {
		return fmt.Errorf("activator %s listen: %w", a.opts.Name, err)
	}
	reqCtx, cancelRequests := context.WithCancel(context.Background())
	defer cancelRequests()
	srv := &http.Server{
		Handler:     a.handler,
		ErrorLog:    a.errorLog,
		BaseContext: func(net.Listener) context.Context { return reqCtx },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	reporting := make(chan struct{})
	go func() {
		defer close(reporting)
		a.report(ctx)
	}()

	var serveErr error
	stopped := false // the server stopped by itself
	select {
	case <-ctx.Done():
	case serveErr = <-served:
		stopped = true
	}
	a.draining.Store(true)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), a.opts.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		cancelRequests()
		_ = srv.Close()
	}
	if !stopped {
		serveErr = <-served
	}
	<-reporting
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("activator %s serve: %w", a.opts.Name, serveErr)
	}
	return nil
}

// report sends the periodic stats until ctx ends (§3.3.3).
func (a *Activator) report(ctx context.Context) {
	t := a.clk.NewTicker(a.opts.ReportingPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C():
			a.publish(now)
		}
	}
}

func (a *Activator) publish(now time.Time) {
	for _, ks := range a.reporter.Report(now) {
		a.stats.RecordStat(ks.Revision, ks.Stat)
	}
}

// Close stops the backend watchers and releases idle connections. Serve calls it on return.
func (a *Activator) Close() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.cancel()
	a.wg.Wait()
	a.transport.CloseIdleConnections()
	a.prober.close()
}

// revisionInfo is what the data path needs of a Revision.
type revisionInfo struct {
	key      types.NamespacedName
	cc       int
	timeouts timeouts
}

func revisionInfoFrom(rev *servingv1.Revision) *revisionInfo {
	info := &revisionInfo{
		key:      types.NamespacedName{Namespace: rev.Namespace, Name: rev.Name},
		timeouts: timeouts{total: queueproxy.DefaultRevisionTimeout},
	}
	s := rev.Spec
	if s.ContainerConcurrency != nil {
		info.cc = int(max(*s.ContainerConcurrency, 0))
	}
	if s.TimeoutSeconds != nil {
		info.timeouts.total = time.Duration(*s.TimeoutSeconds) * time.Second
	}
	if s.ResponseStartTimeoutSeconds != nil {
		info.timeouts.responseStart = time.Duration(*s.ResponseStartTimeoutSeconds) * time.Second
	}
	if s.IdleTimeoutSeconds != nil {
		info.timeouts.idle = time.Duration(*s.IdleTimeoutSeconds) * time.Second
	}
	return info
}

// setRevision records a revision's data-path settings.
func (a *Activator) setRevision(info *revisionInfo) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.revisions[info.key] = info
}

// forgetRevision drops a deleted revision: its settings, throttler and watcher. Requests
// buffered in its throttler wait until their timeout, as in Knative.
func (a *Activator) forgetRevision(key types.NamespacedName) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.revisions, key)
	delete(a.throttlers, key)
	if stop := a.watchers[key]; stop != nil {
		stop()
	}
	delete(a.watchers, key)
	delete(a.watched, key)
}

// throttlerLocked returns key's throttler, creating it. Callers hold a.mu for writing.
func (a *Activator) throttlerLocked(info *revisionInfo) *Throttler {
	t := a.throttlers[info.key]
	if t == nil {
		t = NewThrottler(info.cc, a.opts.Source.Stream("activator/"+a.opts.Name+"/lb/"+info.key.Namespace+"/"+info.key.Name))
		a.throttlers[info.key] = t
	}
	return t
}

// throttlerFor returns the throttler of a revision the context handler found.
func (a *Activator) throttlerFor(info *revisionInfo) *Throttler {
	a.mu.RLock()
	t := a.throttlers[info.key]
	a.mu.RUnlock()
	if t != nil {
		return t
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.throttlerLocked(info)
}

// setPods hands a revision's ready pod IPs (loopback) to its watcher, which probes them and
// updates the throttler. Unknown revisions are ignored.
func (a *Activator) setPods(key types.NamespacedName, ips []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	info := a.revisions[key]
	if info == nil || a.closed {
		return
	}
	w := a.watched[key]
	if w == nil {
		w = newRevisionWatcher(a.throttlerLocked(info), a.prober, a.clk, a.opts.ProbeFrequency)
		ctx, stop := context.WithCancel(a.ctx)
		a.watched[key], a.watchers[key] = w, stop
		a.wg.Go(func() { w.run(ctx) })
	}
	w.setReady(ips)
}

// setPublicEndpoints updates this activator's index from the ready IPs (loopback) of a
// revision's public Endpoints; when it is not among them the previous index stays (§4).
func (a *Activator) setPublicEndpoints(key types.NamespacedName, ips []string) {
	index, count, ok := ActivatorPosition(ips, a.opts.Address)
	if !ok {
		return
	}
	a.mu.Lock()
	info := a.revisions[key]
	var t *Throttler
	if info != nil {
		t = a.throttlerLocked(info)
	}
	a.mu.Unlock()
	if t != nil {
		t.UpdateActivators(index, count)
	}
}

// lookupRevision finds a revision's settings: those the backends controller recorded, else
// the manager's cache (a revision the controller has not seen yet). Unknown revisions give a
// NotFound error.
func (a *Activator) lookupRevision(ctx context.Context, key types.NamespacedName) (*revisionInfo, error) {
	a.mu.RLock()
	info, reader := a.revisions[key], a.reader
	a.mu.RUnlock()
	if info != nil {
		return info, nil
	}
	if reader != nil && key.Namespace != "" && key.Name != "" {
		rev := &servingv1.Revision{}
		err := reader.Get(ctx, key, rev)
		if err == nil {
			return revisionInfoFrom(rev), nil
		}
		if !isNotFound(err) {
			return nil, err
		}
	}
	return nil, revisionNotFound(key.Name)
}

// RevisionState is one revision's throttler in this activator, for observability.
type RevisionState struct {
	Revision types.NamespacedName
	ThrottlerState
}

// Snapshot returns the state of every revision's throttler, sorted by revision.
func (a *Activator) Snapshot() []RevisionState {
	a.mu.RLock()
	ts := make([]RevisionState, 0, len(a.throttlers))
	throttlers := make([]*Throttler, 0, len(a.throttlers))
	for k, t := range a.throttlers {
		ts = append(ts, RevisionState{Revision: k})
		throttlers = append(throttlers, t)
	}
	a.mu.RUnlock()
	for i, t := range throttlers {
		ts[i].ThrottlerState = t.State()
	}
	slices.SortFunc(ts, func(x, y RevisionState) int {
		return cmp.Or(cmp.Compare(x.Revision.Namespace, y.Revision.Namespace), cmp.Compare(x.Revision.Name, y.Revision.Name))
	})
	return ts
}

// QueueDepth is the number of requests for rev buffered in this activator (waiting for
// capacity); 0 for a revision it has no throttler for.
func (a *Activator) QueueDepth(rev types.NamespacedName) int {
	a.mu.RLock()
	t := a.throttlers[rev]
	a.mu.RUnlock()
	if t == nil {
		return 0
	}
	return t.State().Queued
}

// Upstream dial backoff (§4, pkg:network/transports.go): a dial that times out is retried
// with a 1.4× longer timeout, starting at 50ms, for at most dialSteps attempts. Other errors
// (connection refused) return at once. Simplification: no jittered sleep between attempts.
const (
	dialFirstTimeout = 50 * time.Millisecond
	dialFactor       = 1.4
	dialSteps        = 15
)

func dialWithBackoff(ctx context.Context, network, addr string) (net.Conn, error) {
	timeout := dialFirstTimeout
	for step := 1; ; step++ {
		d := net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
		c, err := d.DialContext(ctx, network, addr)
		var ne net.Error
		if err == nil || step == dialSteps || ctx.Err() != nil || !errors.As(err, &ne) || !ne.Timeout() {
			return c, err
		}
		timeout = time.Duration(float64(timeout) * dialFactor)
	}
}

// bufferPool recycles the reverse proxy's copy buffers.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32*1024); return &b }}}
}

func (b *bufferPool) Get() []byte  { return *(b.p.Get().(*[]byte)) }
func (b *bufferPool) Put(v []byte) { b.p.Put(&v) }

// logWriter sends net/http's error log lines to a logr.Logger.
type logWriter struct{ l logr.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.l.V(1).Info(string(p))
	return len(p), nil
}
