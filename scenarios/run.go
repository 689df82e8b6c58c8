package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/servingsim/servingsim/harness"
	"github.com/servingsim/servingsim/harness/load"
	"github.com/servingsim/servingsim/reports"
	"github.com/servingsim/servingsim/scenarios/recording"
)

// Run modes.
const (
	// ModeLive runs the scenario on a real stack: API server, controllers, HTTP on loopback,
	// vegeta load, wall-clock time.
	ModeLive = "live"
	// ModeVirtual runs it in virtual time on the deterministic cores (RunVirtual).
	ModeVirtual = "virtual"
)

// DefaultSeed is the seed of a run when neither RunOptions.Seed nor spec.stack.seed sets one.
const DefaultSeed = 1

// Bounds of a live run: every run stops by itself.
const (
	// ReadyTimeout bounds the wait for every object of spec.services to be Ready.
	ReadyTimeout = 2 * time.Minute
	// RequestTimeout bounds each request of the workload (vegeta's default).
	RequestTimeout = load.DefaultTimeout
	// runGrace is how long past the scenario's duration and the last request's timeout a run
	// may take before it is cut off.
	runGrace = 30 * time.Second
	// maxBody is how much of each response body a request record keeps (error replies are short).
	maxBody = 512
	// progressEvery is how often progress lines report while the load runs.
	progressEvery = 5 * time.Second
)

// RunOptions configure Run.
type RunOptions struct {
	// Mode is ModeLive (default) or ModeVirtual.
	Mode string
	// Stack is a running stack to reuse (live mode). The scenario's config overrides are
	// applied to its config-* ConfigMaps and restored afterwards, and its objects deleted; the
	// other stack settings (activators, pod startup, app model, drain) need a fresh stack, so a
	// scenario that sets them fails. Default: the run starts a stack with the scenario's
	// settings (StackOptions) and stops it afterwards.
	Stack *harness.Stack
	// Seed overrides spec.stack.seed; 0 keeps it (and a scenario without one gets DefaultSeed).
	// A reused Stack keeps its own seed.
	Seed int64
	// Logger receives the runner's log lines and, when Run starts the stack, its components'.
	// Default: discard.
	Logger logr.Logger
	// Progress receives a line per step and, while the load runs, every few seconds (elapsed
	// time and each revision's pods). Default: none.
	Progress io.Writer
	// OnProgress, when set, receives the same steps as Progress with the run's phase and how far
	// the load is (simctl run's progress bar). Default: none.
	OnProgress func(Progress)
	// Inspect, when set, is called in live mode once the load and actions are over, before the
	// run's objects are deleted or its stack stops, with the stack and the run's namespace
	// (simctl run prints the Services from it).
	Inspect func(ctx context.Context, st *harness.Stack, namespace string)
	// Recording, when set, receives the live run's recording once the run is over (gzip JSON
	// lines, docs/recording-format.md; simctl run writes it to recording.jsonl.gz).
	Recording io.Writer
}

// runVirtual runs a scenario in virtual mode; scenarios/virtual.go sets it.
var runVirtual func(ctx context.Context, s *Scenario, opts RunOptions) (*reports.Run, error)

// Run runs scenario s and returns its record with the verdict: Pass when every expectation held
// and every request is accounted for, Fail otherwise. It always returns a Run (write it with
// reports.WriteDir); the error is non-nil exactly when the run could not complete (Verdict
// Error: invalid scenario, stack failure, a failed action, ctx ended), and says why.
//
// Live mode starts (or reuses) a stack, applies spec.services unchanged in a fresh namespace,
// waits until they are Ready (time zero), runs every workload stream concurrently through the
// gateway and every action at its time or condition, records per-revision pod counts, the
// KPA's decisions, SKS modes, activator queues and every request, then evaluates the
// expectations (Evaluate). It stops by itself: the scenario's Duration plus the request
// timeout and a grace period; ctx cancels it.
func Run(ctx context.Context, s *Scenario, opts RunOptions) (*reports.Run, error) {
	mode := opts.Mode
	if mode == "" {
		mode = ModeLive
	}
	run := &reports.Run{Version: reports.FormatVersion, Mode: mode, Seed: opts.SeedFor(s), Expectations: []reports.ExpectationResult{}}
	if s == nil {
		return fail(run, errors.New("no scenario"))
	}
	run.Scenario, run.File = s.Metadata.Name, s.Source()
	switch mode {
	case ModeVirtual:
		if runVirtual == nil {
			return fail(run, errors.New("virtual mode not available"))
		}
		return runVirtual(ctx, s, opts)
	case ModeLive:
	default:
		return fail(run, fmt.Errorf("unknown mode %q; want %s or %s", mode, ModeLive, ModeVirtual))
	}
	if err := s.Validate(); err != nil {
		return fail(run, err)
	}
	if opts.Logger.GetSink() == nil {
		opts.Logger = logr.Discard()
	}
	l := &liveRun{s: s, opts: opts, run: run, clk: clock.RealClock{}, began: time.Now()}
	err := l.execute(ctx)
	if err != nil {
		l.progress("error: %v", err)
		return fail(run, err)
	}
	l.progress("verdict: %s", run.Verdict)
	return run, nil
}

// SeedFor is the seed a run of s uses: the reused Stack's, Seed, spec.stack.seed or DefaultSeed.
func (o RunOptions) SeedFor(s *Scenario) int64 {
	switch {
	case o.Stack != nil:
		return stackSeed(o.Stack)
	case o.Seed != 0:
		return o.Seed
	case s != nil && s.Spec.Stack.Seed != 0:
		return s.Spec.Stack.Seed
	}
	return DefaultSeed
}

// fail marks run as not completed because of err.
func fail(run *reports.Run, err error) (*reports.Run, error) {
	run.Verdict, run.Error = reports.Error, err.Error()
	return run, err
}

// liveRun is one live run in progress.
type liveRun struct {
	s     *Scenario
	opts  RunOptions
	run   *reports.Run
	clk   clock.Clock
	began time.Time

	st     *harness.Stack
	ns     string
	rec    *liveRecorder
	replay *recording.Recorder // nil unless RunOptions.Recording
	config *configChange
	zero   time.Time

	mu   sync.Mutex
	errs []error
}

// Progress is one step of a live run (RunOptions.OnProgress).
type Progress struct {
	Scenario string
	// Phase is PhaseStarting (stack and services), PhaseRunning (load and actions) or
	// PhaseFinishing (evaluation).
	Phase   string
	Message string
	// Since is the time since the run began; Elapsed is how far into the scenario's Duration
	// (Total) the load is, 0 before it starts.
	Since, Elapsed, Total time.Duration
}

// Phases of a live run.
const (
	PhaseStarting  = "starting"
	PhaseRunning   = "running"
	PhaseFinishing = "finishing"
)

func (l *liveRun) progress(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.opts.Logger.Info(msg, "scenario", l.s.Metadata.Name)
	since := time.Since(l.began)
	if l.opts.Progress != nil {
		fmt.Fprintf(l.opts.Progress, "[%6s] %s: %s\n", since.Round(100*time.Millisecond), l.s.Metadata.Name, msg)
	}
	if l.opts.OnProgress != nil {
		// l.zero is set before, and l.run.Duration after, the load's goroutines run.
		p := Progress{Scenario: l.s.Metadata.Name, Phase: PhaseStarting, Message: msg, Since: since, Total: l.s.Duration()}
		switch {
		case l.run.Duration > 0:
			p.Phase, p.Elapsed = PhaseFinishing, l.run.Duration
		case !l.zero.IsZero():
			p.Phase, p.Elapsed = PhaseRunning, l.clk.Since(l.zero)
		}
		l.opts.OnProgress(p)
	}
}

// addErr records a problem that makes the run's verdict Error without stopping it.
func (l *liveRun) addErr(err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
}

// execute is the live run: stack, namespace, services, load and actions, record, verdict.
func (l *liveRun) execute(ctx context.Context) (err error) {
	var sandbox *AppSandbox
	if l.opts.Stack != nil {
		l.st = l.opts.Stack
		if probs := OwnStackSettings(l.s); len(probs) > 0 {
			return fmt.Errorf("%s need a stack of their own; run without RunOptions.Stack", strings.Join(probs, ", "))
		}
	} else {
		hopts, sb, err := StackOptions(l.s, l.run.Seed, l.opts.Logger)
		if err != nil {
			return err
		}
		l.progress("starting the stack (seed %d)", l.run.Seed)
		st, err := harness.Start(ctx, hopts)
		if err != nil {
			return fmt.Errorf("start stack: %w", err)
		}
		defer func() {
			if stopErr := st.Stop(); stopErr != nil {
				l.opts.Logger.Error(stopErr, "Stopping the stack")
			}
		}()
		l.st, sandbox = st, sb
		l.progress("stack up")
	}
	l.config = newConfigChange(l.st.Client)
	cleanupCtx := context.WithoutCancel(ctx)
	if l.opts.Stack != nil {
		defer func() {
			if err := l.config.restore(cleanupCtx); err != nil {
				l.opts.Logger.Error(err, "Restoring the config-* ConfigMaps")
			}
		}()
		for _, cm := range sortedKeys(l.s.Spec.Stack.ConfigOverrides) {
			if err := l.config.set(ctx, cm, l.s.Spec.Stack.ConfigOverrides[cm]); err != nil {
				return err
			}
		}
	}

	prefix := l.s.Metadata.Name
	if len(prefix) > 50 {
		prefix = strings.TrimRight(prefix[:50], "-")
	}
	if l.ns, err = l.st.NewNamespace(ctx, prefix); err != nil {
		return err
	}
	var inner = l.st.System.Pods
	if sandbox != nil {
		inner = sandbox.Sandbox
	}
	if l.rec, err = startLiveRecorder(ctx, l.st, l.ns, inner, l.clk); err != nil {
		return err
	}
	defer l.rec.stop()
	if l.replay, err = l.startRecording(ctx); err != nil {
		return err
	}
	defer l.replay.Stop()
	if sandbox != nil {
		sandbox.setOnStop(l.rec.noteApp)
		defer sandbox.setOnStop(nil)
	}
	if l.opts.Stack != nil {
		defer func() {
			cctx, cancel := context.WithTimeout(cleanupCtx, 30*time.Second)
			defer cancel()
			if err := cleanupNamespace(cctx, l.st.Client, l.ns); err != nil {
				l.opts.Logger.Error(err, "Deleting the run's objects", "namespace", l.ns)
			}
		}()
	}

	if err := l.applyServices(ctx); err != nil {
		return err
	}
	l.zero = l.clk.Now()
	l.rec.startClock(l.zero)
	l.replay.MarkZero(l.zero)
	l.run.Started = l.zero
	l.progress("services Ready in namespace %s; running for %s", l.ns, l.s.Duration())

	reps := l.runWorkload(ctx)
	l.rec.stop()
	if l.opts.Inspect != nil {
		l.opts.Inspect(ctx, l.st, l.ns)
	}
	return l.finish(ctx, reps)
}

// applyServices creates spec.services in the namespace, unchanged, and waits until each is Ready.
func (l *liveRun) applyServices(ctx context.Context) error {
	var objs []client.Object
	for _, u := range l.s.Objects() {
		b, err := json.Marshal(u.Object)
		if err != nil {
			return err
		}
		typed, err := harness.DecodeYAML(fmt.Sprintf("spec.services %s %s", u.GetKind(), u.GetName()), b)
		if err != nil {
			return err
		}
		objs = append(objs, typed...)
	}
	if err := l.st.Apply(ctx, l.ns, objs...); err != nil {
		return err
	}
	deadline := time.Now().Add(ReadyTimeout)
	for _, o := range objs {
		if err := l.st.WaitReady(ctx, o, max(time.Until(deadline), time.Second)); err != nil {
			return fmt.Errorf("spec.services: %w", err)
		}
	}
	return nil
}

// streamReport is one stream's load outcome.
type streamReport struct {
	name string
	tag  string
	rep  *load.Report
	err  error
}

// runWorkload runs every stream and action until the scenario's duration has passed and every
// stream is done, or the run's bound.
func (l *liveRun) runWorkload(ctx context.Context) []streamReport {
	duration := l.s.Duration()
	ctx, cancel := context.WithDeadline(ctx, l.zero.Add(duration+RequestTimeout+runGrace))
	defer cancel()
	actionsCtx, stopActions := context.WithCancel(ctx)
	waitActions := l.runActions(actionsCtx, l.addErr)

	reps := make([]streamReport, len(l.s.Spec.Workload))
	var wg sync.WaitGroup
	for i, st := range l.s.Spec.Workload {
		reps[i] = streamReport{name: l.s.StreamName(i), tag: st.Target.Tag}
		wg.Go(func() { reps[i].rep, reps[i].err = l.runStream(ctx, st, reps[i].name) })
	}
	streamsDone := make(chan struct{})
	go func() { wg.Wait(); close(streamsDone) }()
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	end := l.zero.Add(duration)
	for waiting := true; waiting; {
		select {
		case <-streamsDone:
			waiting = false
		case <-tick.C:
			l.progress("%s of %s elapsed, %s", l.clk.Since(l.zero).Round(time.Second), duration, l.podSummary())
		}
	}
	sleepUntil(ctx, end) // expectation windows may reach past the load
	stopActions()
	waitActions()
	l.run.Duration = l.clk.Since(l.zero)
	return reps
}

// runStream sends one stream's load, starting at its start time.
func (l *liveRun) runStream(ctx context.Context, st Stream, name string) (*load.Report, error) {
	phases, err := loadPhases(st)
	if err != nil {
		return nil, err
	}
	if !sleepUntil(ctx, l.zero.Add(st.Start.D())) {
		return nil, ctx.Err()
	}
	target, addr, err := streamTarget(ctx, l.st, l.ns, st.Target)
	if err != nil {
		return nil, err
	}
	return load.Run(ctx, load.Options{Addr: addr, Target: target, Phases: phases, Timeout: RequestTimeout, MaxBody: maxBody, Stream: name})
}

// podSummary renders the ready pods of every revision: "hello-00001 2/2 ready".
func (l *liveRun) podSummary() string {
	l.rec.mu.Lock()
	defer l.rec.mu.Unlock()
	revs := sortedKeys(l.rec.cur)
	if len(revs) == 0 {
		return "no revisions"
	}
	parts := make([]string, len(revs))
	for i, rev := range revs {
		s := l.rec.cur[rev]
		parts[i] = fmt.Sprintf("%s %d ready/%d pods (%s)", rev, s.Ready, s.Actual, s.Mode)
	}
	return strings.Join(parts, ", ")
}

// finish assembles the record and evaluates the expectations.
func (l *liveRun) finish(ctx context.Context, reps []streamReport) error {
	run := l.run
	for _, r := range reps {
		if r.rep == nil {
			if r.err != nil {
				l.addErr(fmt.Errorf("stream %s: %w", r.name, r.err))
			}
			continue
		}
		if r.err != nil && (errors.Is(r.err, context.Canceled) || errors.Is(r.err, context.DeadlineExceeded)) {
			l.addErr(fmt.Errorf("stream %s cut off: %w", r.name, r.err))
		}
		for _, ph := range r.rep.Phases {
			run.Accounting.Sent += int(ph.Sent)
		}
		for _, res := range r.rep.Results {
			q := reports.Request{Stream: r.name, Result: res, Revision: revisionFromHeaders(res.Headers), Tag: r.tag}
			q.Result.Headers = nil // the revision is all a record needs from them
			run.Requests = append(run.Requests, q)
		}
	}
	sort.SliceStable(run.Requests, func(i, j int) bool {
		return run.Requests[i].Result.Timestamp.Before(run.Requests[j].Result.Timestamp)
	})
	l.writeRecording()
	rec := &Record{Run: run}
	l.rec.finish(rec)
	routing, err := routingOf(context.WithoutCancel(ctx), l.st.Client, l.ns)
	if err != nil {
		l.addErr(fmt.Errorf("read traffic: %w", err))
	}
	rec.Routing = routing
	rec.MarkColdStarts()
	rec.BuildSeries()
	l.mu.Lock()
	runErr := errors.Join(l.errs...)
	l.mu.Unlock()
	if runErr != nil {
		run.Verdict, run.Error = reports.Error, runErr.Error()
	}
	Evaluate(l.s, rec)
	l.progress("%d requests sent, %s", run.Accounting.Sent, summarize(run))
	return runErr
}

// summarize counts the expectations that held: "4 of 5 expectations met".
func summarize(run *reports.Run) string {
	met := 0
	for _, e := range run.Expectations {
		if e.Passed {
			met++
		}
	}
	return fmt.Sprintf("%d of %d checks met", met, len(run.Expectations))
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
