package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/servingsim/servingsim/scenarios"
)

// progressTick is how often the bar redraws its elapsed and remaining time.
const progressTick = 200 * time.Millisecond

// barUnit is the resolution of the running bar.
const barUnit = 100 * time.Millisecond

// progressView shows a live run's progress (scenarios.RunOptions.OnProgress). On a terminal each
// step is a line printed above a bar that names the phase and, while the load runs, fills with
// its elapsed time and says what remains; elsewhere (CI logs, pipes) it prints the lines alone.
type progressView struct {
	w   io.Writer
	tty bool
	now func() time.Time

	mu        sync.Mutex
	bar       *progressbar.ProgressBar
	scenario  string
	phase     string
	loadStart time.Time // when the load began, on now
	total     time.Duration
	phaseFrom time.Time
	stop      chan struct{}
	stopped   chan struct{}
}

// newProgressView writes to w, drawing a bar when w is a terminal.
func newProgressView(w io.Writer) *progressView {
	return &progressView{w: w, tty: isTerminal(w), now: time.Now}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressLine renders a step as a plain line:
//
//	[  12.3s] quickstart running 12s of 30s, 18s left: action: at 10s: update service hello
func progressLine(p scenarios.Progress) string {
	return fmt.Sprintf("[%6s] %s %s: %s", p.Since.Round(100*time.Millisecond), p.Scenario, phaseDetail(p.Phase, p.Elapsed, p.Total), p.Message)
}

// phaseDetail is the phase with, while the load runs, its elapsed and remaining time.
func phaseDetail(phase string, elapsed, total time.Duration) string {
	if phase != scenarios.PhaseRunning {
		return phase
	}
	elapsed = min(max(elapsed, 0), total)
	return fmt.Sprintf("%s %s of %s, %s left", phase, elapsed.Round(time.Second), total, (total - elapsed).Round(time.Second))
}

// Report shows one step.
func (v *progressView) Report(p scenarios.Progress) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.tty {
		fmt.Fprintln(v.w, progressLine(p))
		return
	}
	v.clearLocked()
	fmt.Fprintln(v.w, progressLine(p))
	v.scenario = p.Scenario
	if p.Phase != v.phase {
		v.phase, v.phaseFrom = p.Phase, v.now()
		v.newBarLocked(p)
	}
	if p.Phase == scenarios.PhaseRunning {
		// Steps come every few seconds; between them the ticker extrapolates from this one.
		v.loadStart, v.total = v.now().Add(-p.Elapsed), p.Total
	}
	v.drawLocked()
	if v.stop == nil && v.bar != nil {
		v.stop, v.stopped = make(chan struct{}), make(chan struct{})
		go v.tick(v.stop, v.stopped)
	}
}

// newBarLocked replaces the bar for a new phase: a spinner while the stack starts and while the
// run is evaluated, a bar over the scenario's duration while the load runs.
func (v *progressView) newBarLocked(p scenarios.Progress) {
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(v.w), progressbar.OptionUseANSICodes(true), progressbar.OptionSetWidth(30),
		progressbar.OptionSetElapsedTime(false), progressbar.OptionSetPredictTime(false),
		progressbar.OptionSetSpinnerChangeInterval(0), // the ticker below redraws
	}
	units := int64(-1)
	if p.Phase == scenarios.PhaseRunning && p.Total >= barUnit {
		units = int64(p.Total / barUnit)
	}
	v.bar = progressbar.NewOptions64(units, opts...)
}

// drawLocked redraws the bar with the phase and the time.
func (v *progressView) drawLocked() {
	if v.bar == nil {
		return
	}
	desc := fmt.Sprintf("%s %s %s", v.scenario, v.phase, v.now().Sub(v.phaseFrom).Round(time.Second))
	if v.phase == scenarios.PhaseRunning {
		elapsed := v.now().Sub(v.loadStart)
		desc = v.scenario + " " + phaseDetail(v.phase, elapsed, v.total)
		if units := v.bar.GetMax64(); units > 0 {
			// Stay below the maximum: reaching it would finish the bar while requests drain.
			_ = v.bar.Set64(min(int64(elapsed/barUnit), units-1))
		}
	} else {
		_ = v.bar.Add(1) // turn the spinner
	}
	v.bar.Describe(desc)
}

// clearLocked erases the bar from the terminal line.
func (v *progressView) clearLocked() {
	if v.bar != nil {
		_ = v.bar.Clear()
	}
}

func (v *progressView) tick(stop <-chan struct{}, stopped chan<- struct{}) {
	defer close(stopped)
	t := time.NewTicker(progressTick)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			v.mu.Lock()
			v.drawLocked()
			v.mu.Unlock()
		}
	}
}

// Pause erases the bar so that other output can go to the terminal; the next step draws it
// again.
func (v *progressView) Pause() {
	v.stopTicker()
	v.mu.Lock()
	defer v.mu.Unlock()
	v.clearLocked()
	v.bar, v.phase = nil, ""
}

// Close erases the bar and stops redrawing it.
func (v *progressView) Close() { v.Pause() }

func (v *progressView) stopTicker() {
	v.mu.Lock()
	stop, stopped := v.stop, v.stopped
	v.stop, v.stopped = nil, nil
	v.mu.Unlock()
	if stop != nil {
		close(stop)
		<-stopped
	}
}
