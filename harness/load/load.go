package load

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/servingsim/servingsim/stack/gateway"
)

// Target is the request every phase sends.
type Target struct {
	// Host is the Host header: a ksvc, tag or cluster-local host. Empty: Options.Addr.
	Host string
	// Path is the request path and query. Default "/".
	Path string
	// Method defaults to GET.
	Method string
	// Header is sent with every request (Host here is ignored; use Host).
	Header http.Header
	// Body is sent with every request.
	Body []byte
}

// Defaults of Options.
const (
	// DefaultTimeout is vegeta's per-request timeout.
	DefaultTimeout = vegeta.DefaultTimeout
	// DefaultMaxWorkers bounds the open-model phases' concurrent requests (vegeta adds workers
	// up to this when responses are slow).
	DefaultMaxWorkers = 10_000
	// DefaultMaxBody is how many bytes of each response body a Result keeps.
	DefaultMaxBody = 4 << 10
	// initialWorkers is vegeta's initial worker count.
	initialWorkers = vegeta.DefaultWorkers
)

// Options describe one load run.
type Options struct {
	// Addr is the gateway's host:port (loopback). Required.
	Addr string
	// Target is what every request looks like.
	Target Target
	// Phases run one after another, each starting when the previous one's length has passed.
	Phases []Phase
	// Timeout bounds each request, from send to the end of its body. Default DefaultTimeout.
	Timeout time.Duration
	// MaxWorkers bounds the in-flight requests of open-model phases. Default DefaultMaxWorkers.
	MaxWorkers uint64
	// MaxRate is the highest rate a phase may ask for. Default and ceiling: MaxRate.
	MaxRate float64
	// MaxBody is how many bytes of each response body are kept; -1 keeps all. Default DefaultMaxBody.
	MaxBody int64
	// Stream names the run's requests for the gateway: each carries gateway.RequestIDHeader
	// "<Stream>/<phase name>/<Result.Seq>" ("<phase name>/<Result.Seq>" when empty), from which the
	// gateway draws its weighted split, so a seeded scenario assigns the same requests to the
	// same revisions in every run. Give concurrent runs against one route distinct names.
	Stream string
}

// PhaseReport accounts for one phase.
type PhaseReport struct {
	// Name is the vegeta attack name of the phase's results: "<index>-<kind>".
	Name string
	Kind string
	// Planned is how many requests the phase's pacer schedules (0 for idle and closed-model
	// phases). Sent falls short only when the target is so slow that MaxWorkers requests are
	// in flight until the phase (plus its catch-up grace) is over.
	Planned uint64
	// Sent is how many requests the phase issued; each has exactly one Result.
	Sent uint64
}

// Report is the outcome of Run.
type Report struct {
	// Results are every request's result in send order. Each phase's results carry its
	// PhaseReport.Name as Attack and their sequence within the phase as Seq; vegeta's
	// encoders and reporters take them as they are.
	Results []vegeta.Result
	// Metrics aggregates Results.
	Metrics vegeta.Metrics
	Phases  []PhaseReport
}

// Run sends the phases' load to opts.Addr and returns every result. It returns an error for
// invalid options (naming the field, before sending anything), when ctx ends (with what was
// sent so far, every in-flight request finished or timed out), or when a sent request has no
// result.
func Run(ctx context.Context, opts Options) (*Report, error) {
	plans, err := opts.validate()
	if err != nil {
		return nil, err
	}
	opts.defaults()
	transport := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: vegeta.DefaultConnections,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{
		Transport: transport,
		Timeout:   opts.Timeout,
		// Report redirects as they are (Knative's HTTPOption Redirected answers 301).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	var (
		runs    []*phaseRun
		drained sync.WaitGroup
		runErr  error
	)
	start := time.Now()
	var offset time.Duration // when the current phase is due, from start
	for i, p := range opts.Phases {
		if err := sleepUntil(ctx, start.Add(offset)); err != nil {
			runErr = err
			break
		}
		offset += p.Length()
		if plans[i].pacer == nil { // idle
			runs = append(runs, &phaseRun{report: PhaseReport{Name: phaseName(i, p), Kind: p.Kind()}})
			continue
		}
		r := startPhase(ctx, i, p, plans[i], &opts, client, &drained)
		runs = append(runs, r)
		select {
		case <-r.paced:
		case <-ctx.Done():
			r.attacker.Stop()
			runErr = ctx.Err()
		}
		if runErr != nil {
			break
		}
	}
	if runErr == nil { // a trailing idle phase still takes its time
		runErr = sleepUntil(ctx, start.Add(offset))
	}
	drained.Wait()
	rep := report(runs)
	return rep, errors.Join(runErr, rep.check(runs))
}

// phaseRun is one phase in flight.
type phaseRun struct {
	report   PhaseReport
	sent     atomic.Uint64
	attacker *vegeta.Attacker
	paced    chan struct{} // closed when the pacer sends no more
	results  []vegeta.Result
	think    *thinker // closed model with think time; nil otherwise
}

func phaseName(i int, p Phase) string { return fmt.Sprintf("%d-%s", i, p.Kind()) }

// startPhase starts one phase's attack; its results are collected until the attack ends.
func startPhase(ctx context.Context, i int, p Phase, pl plan, opts *Options, client *http.Client, drained *sync.WaitGroup) *phaseRun {
	r := &phaseRun{
		report: PhaseReport{Name: phaseName(i, p), Kind: p.Kind(), Planned: pl.planned},
		paced:  make(chan struct{}),
	}
	if pl.think > 0 {
		r.think = &thinker{think: pl.think, clients: pl.clients, end: time.Now().Add(p.Length()),
			quit: ctx.Done(), sentAt: map[uint64]time.Time{}}
	}
	workers, maxWorkers := uint64(initialWorkers), opts.MaxWorkers
	until := p.Length() + catchUpGrace(p.Length())
	switch {
	case pl.clients > 0:
		workers, maxWorkers, until = pl.clients, pl.clients, p.Length()
	case pl.atOnce:
		workers, maxWorkers, until = pl.planned, max(pl.planned, maxWorkers), MaxTotalDuration
	}
	r.attacker = vegeta.NewAttacker(vegeta.Client(client), vegeta.Workers(min(workers, maxWorkers)),
		vegeta.MaxWorkers(maxWorkers), vegeta.MaxBody(opts.MaxBody))
	pacer := &boundedPacer{inner: pl.pacer, planned: pl.planned, until: until, paced: r.paced}
	results := r.attacker.Attack(r.targeter(opts), pacer, 0, r.report.Name)
	drained.Add(1)
	go func() {
		defer drained.Done()
		for res := range results {
			if r.own(res) {
				r.results = append(r.results, *res)
			}
		}
		pacer.stop() // the attack may end without asking the pacer (Stop)
	}()
	return r
}

// catchUpGrace is how long past its length a phase may keep sending requests it is behind on.
func catchUpGrace(length time.Duration) time.Duration {
	return max(length/10, 100*time.Millisecond)
}

// targeter fills every request from opts, numbers it and counts it as sent. The number n is
// the request's identity: the gateway sees it (gateway.RequestIDHeader) and its Result gets it
// as Seq (own), because vegeta numbers Results before it calls the targeter, outside any
// order the targeter could follow.
func (r *phaseRun) targeter(opts *Options) vegeta.Targeter {
	t := opts.Target
	method := t.Method
	if method == "" {
		method = http.MethodGet
	}
	path := t.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	url := "http://" + opts.Addr + path
	header := t.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	header.Del("Host")
	if t.Host != "" {
		header.Set("Host", t.Host) // vegeta moves it into Request.Host
	}
	idPrefix := requestIDPrefix(opts.Stream, r.report.Name)
	return func(tgt *vegeta.Target) error {
		if r.think != nil && !r.think.wait() {
			return errPhaseOver
		}
		n := r.sent.Add(1) - 1
		seq := strconv.FormatUint(n, 10)
		// vegeta copies the header's values into each request, so sharing them is safe.
		h := make(http.Header, len(header)+1)
		maps.Copy(h, header)
		h[gateway.RequestIDHeader] = []string{idPrefix + seq}
		*tgt = vegeta.Target{Method: method, URL: url + seqFragment + seq, Body: t.Body, Header: h}
		if r.think != nil {
			r.think.sent(n)
		}
		return nil
	}
}

// boundedPacer ends a phase: after its planned requests, or when the next request would be due
// after `until`. vegeta runs with no duration of its own, so the phase never sleeps past its end.
type boundedPacer struct {
	inner   vegeta.Pacer
	planned uint64 // 0: no cap
	until   time.Duration
	once    sync.Once
	paced   chan struct{}
}

// Pace implements vegeta.Pacer.
func (b *boundedPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if b.planned > 0 && hits >= b.planned {
		b.stop()
		return 0, true
	}
	wait, stop := b.inner.Pace(elapsed, hits)
	if stop || elapsed+max(wait, 0) > b.until {
		b.stop()
		return 0, true
	}
	return wait, false
}

// Rate implements vegeta.Pacer.
func (b *boundedPacer) Rate(elapsed time.Duration) float64 { return b.inner.Rate(elapsed) }

func (b *boundedPacer) stop() { b.once.Do(func() { close(b.paced) }) }

// report merges the phases' results in send order and aggregates them.
func report(runs []*phaseRun) *Report {
	rep := &Report{}
	n := 0
	for _, r := range runs {
		n += len(r.results)
	}
	rep.Results = make([]vegeta.Result, 0, n)
	for _, r := range runs {
		r.report.Sent = r.sent.Load()
		rep.Phases = append(rep.Phases, r.report)
		rep.Results = append(rep.Results, r.results...)
	}
	sort.SliceStable(rep.Results, func(i, j int) bool { return rep.Results[i].Timestamp.Before(rep.Results[j].Timestamp) })
	for i := range rep.Results {
		rep.Metrics.Add(&rep.Results[i])
	}
	rep.Metrics.Close()
	return rep
}

// check holds the accounting: every sent request has exactly one result, numbered 0..n-1.
func (rep *Report) check(runs []*phaseRun) error {
	var errs []error
	for _, r := range runs {
		sent := r.sent.Load()
		if uint64(len(r.results)) != sent {
			errs = append(errs, fmt.Errorf("load: phase %s sent %d requests but recorded %d results", r.report.Name, sent, len(r.results)))
			continue
		}
		seen := make([]bool, sent)
		for _, res := range r.results {
			if res.Seq >= sent || seen[res.Seq] {
				errs = append(errs, fmt.Errorf("load: phase %s has a duplicate or unknown result seq %d", r.report.Name, res.Seq))
				break
			}
			seen[res.Seq] = true
		}
	}
	return errors.Join(errs...)
}

// sleepUntil waits for t or ctx.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (o *Options) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxWorkers == 0 {
		o.MaxWorkers = DefaultMaxWorkers
	}
	if o.MaxRate <= 0 {
		o.MaxRate = MaxRate
	}
	if o.MaxBody == 0 {
		o.MaxBody = DefaultMaxBody
	}
}

// validate checks opts and returns each phase's plan; errors name the field.
func (o Options) validate() ([]plan, error) {
	if o.Addr == "" {
		return nil, errors.New("load: Options.Addr is required (the gateway's host:port)")
	}
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		return nil, fmt.Errorf("load: Options.Addr = %q is not host:port: %w", o.Addr, err)
	}
	if len(o.Phases) == 0 {
		return nil, errors.New("load: Options.Phases is empty")
	}
	if o.MaxRate > MaxRate {
		return nil, fmt.Errorf("load: Options.MaxRate = %g exceeds %d", o.MaxRate, MaxRate)
	}
	if o.Timeout > MaxTotalDuration {
		return nil, fmt.Errorf("load: Options.Timeout = %s exceeds %s", o.Timeout, MaxTotalDuration)
	}
	maxRate := o.MaxRate
	if maxRate <= 0 {
		maxRate = MaxRate
	}
	plans := make([]plan, len(o.Phases))
	var total time.Duration
	for i, p := range o.Phases {
		if p == nil {
			return nil, fmt.Errorf("load: Options.Phases[%d] is nil", i)
		}
		pl, err := p.plan(maxRate)
		if err != nil {
			return nil, fmt.Errorf("load: Options.Phases[%d] (%s): %w", i, p.Kind(), err)
		}
		plans[i] = pl
		total += p.Length()
		if total > MaxTotalDuration || total < 0 {
			return nil, fmt.Errorf("load: total duration of Options.Phases reaches %s at Phases[%d], over the %s bound", total, i, MaxTotalDuration)
		}
	}
	return plans, nil
}
