package queueproxy

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"

	"github.com/servingsim/servingsim/stack/apis/serving"
)

// DefaultMaxIdleConns is the keep-alive pool to the app when containerConcurrency is 0 (§5
// Handler chain 9); otherwise the pool holds containerConcurrency connections.
const DefaultMaxIdleConns = 1000

// drainResetAfter is how long /wait-for-drain waits for the termination (Drain) before it
// resets the drainer, as after a liveness-probe restart (§5 Graceful drain).
const drainResetAfter = time.Second

// Options are the queue-proxy's dependencies and knobs.
type Options struct {
	// Clock drives stats, timeouts, the drain and the prober's polling. Default clock.RealClock{}.
	Clock clock.WithTicker
	// DrainQuietPeriod is the drain's quiet period. Default DefaultDrainQuietPeriod (30s).
	DrainQuietPeriod time.Duration
	// ReportingPeriod is the stats period. Default DefaultReportingPeriod (1s).
	ReportingPeriod time.Duration
	// Logger receives proxy errors. Default logr.Discard().
	Logger logr.Logger
}

// QueueProxy is one pod's queue-proxy. New builds it, Start binds its listeners, Drain shuts it
// down gracefully, Close at once.
type QueueProxy struct {
	cfg      Config
	opts     Options
	clk      clock.WithTicker
	started  time.Time
	breaker  *Breaker
	stats    *Stats
	prober   *Prober
	drain    *drainer
	handler  http.Handler
	errorLog *log.Logger

	transport *http.Transport
	servers   []*http.Server // serving, admin, metrics
	main      *http.Server
	stop      chan struct{}
	wg        sync.WaitGroup

	mu          sync.Mutex
	last        PodStat
	terminating bool
	startedUp   bool
	closed      bool
}

// New validates cfg and returns a queue-proxy that is not listening yet.
func New(cfg Config, opts Options) (*QueueProxy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.DrainQuietPeriod <= 0 {
		opts.DrainQuietPeriod = DefaultDrainQuietPeriod
	}
	if opts.ReportingPeriod <= 0 {
		opts.ReportingPeriod = DefaultReportingPeriod
	}
	if opts.Logger.GetSink() == nil {
		opts.Logger = logr.Discard()
	}
	idle := cfg.ContainerConcurrency
	if idle <= 0 {
		idle = DefaultMaxIdleConns
	}
	now := opts.Clock.Now()
	q := &QueueProxy{
		cfg: cfg, opts: opts, clk: opts.Clock, started: now,
		breaker: NewBreaker(cfg.ContainerConcurrency),
		stats:   NewStats(now),
		prober:  NewProber(cfg, opts.Clock),
		drain:   newDrainer(opts.Clock, opts.DrainQuietPeriod),
		transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        idle,
			MaxIdleConnsPerHost: idle,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		errorLog: log.New(logWriter{opts.Logger}, "", 0),
		stop:     make(chan struct{}),
		last:     PodStat{PodName: cfg.Pod, Timestamp: now},
	}
	q.handler = q.buildHandler()
	return q, nil
}

// Config returns the queue-proxy's configuration.
func (q *QueueProxy) Config() Config { return q.cfg }

// Handler is the serving port's handler chain (for tests and in-process use).
func (q *QueueProxy) Handler() http.Handler { return q.handler }

// Breaker is the queue-proxy's breaker; nil when containerConcurrency is 0.
func (q *QueueProxy) Breaker() *Breaker { return q.breaker }

// Concurrency is the number of requests in the queue-proxy now (queued or proxied).
func (q *QueueProxy) Concurrency() int { return q.stats.Concurrency() }

// LastStat is the last reported period, as :9090/metrics serves it.
func (q *QueueProxy) LastStat() PodStat {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.last
}

// Addr is the serving address podIP:QUEUE_SERVING_PORT.
func (q *QueueProxy) Addr() string { return q.hostPort(q.cfg.ServingPort) }

// MetricsAddr is podIP:9090.
func (q *QueueProxy) MetricsAddr() string { return q.hostPort(serving.AutoscalingQueueMetricsPort) }

// AdminAddr is podIP:8022.
func (q *QueueProxy) AdminAddr() string { return q.hostPort(serving.QueueAdminPort) }

func (q *QueueProxy) hostPort(port int32) string {
	return net.JoinHostPort(q.cfg.PodIP.String(), strconv.Itoa(int(port)))
}

// Start binds the serving, admin and metrics ports on the pod IP and starts the stats reporter.
// On error nothing is left listening.
func (q *QueueProxy) Start() error {
	q.mu.Lock()
	if q.startedUp || q.closed {
		q.mu.Unlock()
		return errors.New("queue-proxy already started or closed")
	}
	q.startedUp = true
	q.mu.Unlock()

	admin := http.NewServeMux()
	admin.HandleFunc(serving.QueueDrainPath, q.waitForDrain)
	metrics := http.NewServeMux()
	metrics.HandleFunc(MetricsPath, q.serveMetrics)

	q.main = &http.Server{Handler: q.handler, ErrorLog: q.errorLog}
	if q.cfg.h2c() {
		var p http.Protocols
		p.SetHTTP1(true)
		p.SetUnencryptedHTTP2(true)
		q.main.Protocols = &p
	}
	bind := []struct {
		srv  *http.Server
		addr string
	}{
		{q.main, q.Addr()},
		{&http.Server{Handler: admin, ErrorLog: q.errorLog}, q.AdminAddr()},
		{&http.Server{Handler: metrics, ErrorLog: q.errorLog}, q.MetricsAddr()},
	}
	var lns []net.Listener
	for _, b := range bind {
		ln, err := net.Listen("tcp", b.addr)
		if err != nil {
			for _, l := range lns {
				_ = l.Close()
			}
			return fmt.Errorf("queue-proxy listen %s: %w", b.addr, err)
		}
		lns = append(lns, ln)
	}
	for i, b := range bind {
		q.servers = append(q.servers, b.srv)
		q.wg.Add(1)
		go func(srv *http.Server, ln net.Listener) {
			defer q.wg.Done()
			_ = srv.Serve(ln)
		}(b.srv, lns[i])
	}
	q.wg.Add(1)
	go q.report()
	return nil
}

// report snapshots the stats every reporting period (§5 Stats).
func (q *QueueProxy) report() {
	defer q.wg.Done()
	t := q.clk.NewTicker(q.opts.ReportingPeriod)
	defer t.Stop()
	for {
		select {
		case <-q.stop:
			return
		case now := <-t.C():
			q.publish(now)
		}
	}
}

func (q *QueueProxy) publish(now time.Time) {
	st := q.stats.Report(now)
	per := q.opts.ReportingPeriod.Seconds()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.last = PodStat{
		PodName:                          q.cfg.Pod,
		AverageConcurrentRequests:        st.AverageConcurrency,
		AverageProxiedConcurrentRequests: st.AverageProxiedConcurrency,
		RequestCount:                     st.RequestCount / per,
		ProxiedRequestCount:              st.ProxiedRequestCount / per,
		ProcessUptime:                    now.Sub(q.started).Seconds(),
		Timestamp:                        now,
	}
}

// Draining reports that a drain has started (health checks fail).
func (q *QueueProxy) Draining() bool { return q.drain.draining() }

// Drain is the SIGTERM path (§5 Graceful drain): health checks fail at once, requests keep
// being served, each resets the quiet period; once a quiet period passes with no request the
// servers shut down gracefully (in-flight requests finish). It returns when they have, or with
// ctx's error (then Close is the caller's next step).
func (q *QueueProxy) Drain(ctx context.Context) error {
	q.mu.Lock()
	q.terminating = true
	closed := q.closed
	q.mu.Unlock()
	if closed {
		return nil
	}
	c := q.drain.start()
	select {
	case <-c.done:
	case <-c.cancelled: // closed meanwhile
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	var errs []error
	for _, s := range q.servers { // serving first: in-flight requests finish before admin/metrics go
		if err := s.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// waitForDrain is the user container's preStop hook (§5 Graceful drain): it starts the drain
// and blocks until it completes. If no termination (Drain) follows within 1s the drain is
// reset, as queue-proxy does when the container restarts without a SIGTERM.
func (q *QueueProxy) waitForDrain(w http.ResponseWriter, r *http.Request) {
	c := q.drain.start()
	t := q.clk.NewTimer(drainResetAfter)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			w.WriteHeader(http.StatusOK)
			return
		case <-c.cancelled:
			http.Error(w, "drain reset", http.StatusServiceUnavailable)
			return
		case <-r.Context().Done():
			return
		case <-q.stop:
			return
		case <-t.C():
			q.mu.Lock() // held across the reset so a concurrent Drain either precedes or follows it
			if !q.terminating {
				q.drain.reset()
			}
			q.mu.Unlock()
		}
	}
}

// Close stops everything at once: listeners, open connections, the reporter, idle
// connections to the app.
func (q *QueueProxy) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	q.mu.Unlock()
	close(q.stop)
	var errs []error
	for _, s := range q.servers {
		if err := s.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	q.wg.Wait()
	q.drain.close()
	q.transport.CloseIdleConnections()
	q.prober.close()
	return errors.Join(errs...)
}

// logWriter sends net/http's error log lines to a logr.Logger.
type logWriter struct{ l logr.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.l.V(1).Info(string(p))
	return len(p), nil
}
