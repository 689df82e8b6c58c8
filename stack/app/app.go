package app

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"

	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/reconciler/revision/resources"
	"github.com/servingsim/servingsim/stack/rng"
)

// Query parameters and headers the app understands (§7.1: Knative's autoscale test image).
const (
	SleepParam       = "sleep"
	SleepStddevParam = "sleep-stddev"
	EchoParam        = "echo"
	// EchoHeader set to a true value asks for the Echo JSON, like ?echo=1.
	EchoHeader = "X-Servingsim-Echo"
	// RevisionHeader is set on every reply the app writes (200, 400, 500, 503) to its
	// container's K_REVISION, so a load generator can tell which revision served a request.
	RevisionHeader = "X-Servingsim-Revision"
)

// Bodies of the app's non-200 replies.
const (
	ErrorBody      = "injected error"
	OverloadedBody = "app concurrency limit reached"
)

// Options are the app's dependencies.
type Options struct {
	// Clock times every wait. Default clock.RealClock{}.
	Clock clock.WithTicker
	// Source supplies the random streams. Default rng.New(0).
	Source *rng.Source
	// Name keys the streams (app/<purpose>/<Name>); the sandbox uses <namespace>/<pod>.
	// Default "app".
	Name string
}

// App is the user-container model of one pod: an http.Handler plus counters. Safe for
// concurrent use.
type App struct {
	model   atomic.Pointer[model] // swapped whole by Update
	clk     clock.WithTicker
	startup time.Duration

	service, errs, jitter *rng.Stream

	inFlight, maxInFlight atomic.Int64
	requests, failed      atomic.Int64
	rejected              atomic.Int64
}

var _ http.Handler = (*App)(nil)

// New validates cfg and returns its App. The startup delay is drawn here.
func New(cfg Config, opts Options) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Source == nil {
		opts.Source = rng.New(0)
	}
	if opts.Name == "" {
		opts.Name = "app"
	}
	if cfg.Overflow == "" {
		cfg.Overflow = OverflowQueue
	}
	stream := func(purpose string) *rng.Stream { return opts.Source.Stream("app/" + purpose + "/" + opts.Name) }
	a := &App{clk: opts.Clock, service: stream("service-time"), errs: stream("errors"), jitter: stream("sleep-stddev")}
	if cfg.StartupDelay != nil {
		a.startup = cfg.StartupDelay.Draw(stream("startup"))
	}
	a.model.Store(newModel(cfg))
	return a, nil
}

// model is the part of an App that Update replaces: the config and its concurrency slots.
type model struct {
	cfg   Config
	slots chan struct{} // nil when unlimited
}

func newModel(cfg Config) *model {
	m := &model{cfg: cfg}
	if cfg.Concurrency > 0 {
		m.slots = make(chan struct{}, cfg.Concurrency)
	}
	return m
}

// Config returns the app's configuration.
func (a *App) Config() Config { return a.model.Load().cfg }

// Update changes the app model of a running app (a scenario's setApp): edit gets a copy of the
// config; its ServiceTime, ErrorRate, Concurrency, Overflow and ResponseBytes apply to requests
// that arrive from now on, while requests already inside finish under the old model (a new
// concurrency limit starts with free slots). Port, Env and StartupDelay stay: the container
// keeps its listener. An invalid result is refused and changes nothing.
func (a *App) Update(edit func(*Config)) error {
	for {
		old := a.model.Load()
		cfg := old.cfg
		edit(&cfg)
		cfg.Port, cfg.Env, cfg.StartupDelay = old.cfg.Port, old.cfg.Env, old.cfg.StartupDelay
		if cfg.Overflow == "" {
			cfg.Overflow = OverflowQueue
		}
		if err := cfg.Validate(); err != nil {
			return err
		}
		if a.model.CompareAndSwap(old, newModel(cfg)) {
			return nil
		}
	}
}

// StartupDelay is this app's drawn startup delay.
func (a *App) StartupDelay() time.Duration { return a.startup }

// Counters are what the app observed.
type Counters struct {
	// InFlight is the number of requests inside the app now (waiting for a slot or served).
	InFlight int64
	// MaxInFlight is the most requests ever inside the app at once (since ResetMaxInFlight).
	MaxInFlight int64
	// Requests counts requests that arrived (probes excluded).
	Requests int64
	// Errors counts injected 500s; Rejected counts 503s of overflow "reject".
	Errors, Rejected int64
}

// Counters returns a snapshot of the counters.
func (a *App) Counters() Counters {
	return Counters{InFlight: a.inFlight.Load(), MaxInFlight: a.maxInFlight.Load(), Requests: a.requests.Load(),
		Errors: a.failed.Load(), Rejected: a.rejected.Load()}
}

// MaxInFlight is the most requests ever inside the app at once.
func (a *App) MaxInFlight() int64 { return a.maxInFlight.Load() }

// ResetMaxInFlight restarts the high-water mark from the current in-flight count.
func (a *App) ResetMaxInFlight() { a.maxInFlight.Store(a.inFlight.Load()) }

// Echo is the JSON reply of echo mode: what the container saw (§7.2 runtime contract).
type Echo struct {
	Method     string              `json:"method"`
	Path       string              `json:"path"`
	Query      string              `json:"query,omitempty"`
	Host       string              `json:"host"`
	Proto      string              `json:"proto"`
	RemoteAddr string              `json:"remoteAddr"`
	Headers    map[string][]string `json:"headers"`
	Env        map[string]string   `json:"env"`
}

// ServeHTTP implements http.Handler.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.UserAgent(), serving.KubeProbeUserAgentPrefix) {
		w.WriteHeader(http.StatusOK) // readiness probe: the port answers
		return
	}
	m := a.model.Load()
	if rev := m.cfg.Env[resources.EnvRevision]; rev != "" {
		w.Header().Set(RevisionHeader, rev)
	}
	a.requests.Add(1)
	n := a.inFlight.Add(1)
	defer a.inFlight.Add(-1)
	for {
		m := a.maxInFlight.Load()
		if n <= m || a.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}

	q := r.URL.Query()
	d, explicit, err := a.serviceTime(q.Get(SleepParam), q.Get(SleepStddevParam))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if m.slots != nil {
		if m.cfg.Overflow == OverflowReject {
			select {
			case m.slots <- struct{}{}:
			default:
				a.rejected.Add(1)
				http.Error(w, OverloadedBody, http.StatusServiceUnavailable)
				return
			}
		} else {
			select {
			case m.slots <- struct{}{}:
			case <-r.Context().Done():
				return // the client is gone
			}
		}
		defer func() { <-m.slots }()
	}
	if !explicit && m.cfg.ServiceTime != nil {
		d = m.cfg.ServiceTime.Draw(a.service)
	}
	start := a.clk.Now()
	if !a.wait(r.Context(), d) {
		return
	}

	if isTrue(q.Get(EchoParam)) || isTrue(r.Header.Get(EchoHeader)) {
		a.echo(w, r, m.cfg.Env)
		return
	}
	if m.cfg.ErrorRate > 0 && a.errs.Float64() < m.cfg.ErrorRate {
		a.failed.Add(1)
		http.Error(w, ErrorBody, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	msg := fmt.Sprintf("Slept for %.2f milliseconds.\n", float64(a.clk.Since(start))/float64(time.Millisecond))
	w.Header().Set("Content-Length", strconv.Itoa(len(msg)+m.cfg.ResponseBytes))
	_, _ = w.Write([]byte(msg))
	writePadding(w, m.cfg.ResponseBytes)
}

// serviceTime resolves ?sleep (milliseconds or a Go duration, §7.1) and ?sleep-stddev; explicit
// reports that the request named its own service time.
func (a *App) serviceTime(sleep, stddev string) (d time.Duration, explicit bool, err error) {
	if sleep == "" {
		return 0, false, nil
	}
	d, err = parseSleep(sleep)
	if err != nil {
		return 0, true, fmt.Errorf("invalid value for %s: %w", SleepParam, err)
	}
	if stddev != "" {
		sd, err := parseSleep(stddev)
		if err != nil {
			return 0, true, fmt.Errorf("invalid value for %s: %w", SleepStddevParam, err)
		}
		v := float64(d) + float64(sd)*a.jitter.NormFloat64()
		d = time.Duration(math.Max(0, v))
	}
	return d, true, nil
}

func parseSleep(v string) (time.Duration, error) {
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		if ms < 0 {
			return 0, fmt.Errorf("negative duration %q", v)
		}
		return time.Duration(ms) * time.Millisecond, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %q", v)
	}
	return d, nil
}

// wait sleeps d on the clock; false if the request ended first.
func (a *App) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := a.clk.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-ctx.Done():
		return false
	}
}

func (a *App) echo(w http.ResponseWriter, r *http.Request, env map[string]string) {
	e := Echo{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Host: r.Host, Proto: r.Proto,
		RemoteAddr: r.RemoteAddr, Headers: r.Header.Clone(), Env: env,
	}
	if e.Headers == nil {
		e.Headers = map[string][]string{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(e)
}

func isTrue(v string) bool {
	b, err := strconv.ParseBool(v)
	return err == nil && b
}

var padding = []byte(strings.Repeat("x", 32<<10))

func writePadding(w http.ResponseWriter, n int) {
	for n > 0 {
		k := min(n, len(padding))
		if _, err := w.Write(padding[:k]); err != nil {
			return
		}
		n -= k
	}
}
