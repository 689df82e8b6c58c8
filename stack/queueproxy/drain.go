package queueproxy

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// DefaultDrainQuietPeriod is how long a draining queue-proxy waits without requests before it
// finishes (drainSleepDuration, §5 Graceful drain).
const DefaultDrainQuietPeriod = 30 * time.Second

// drainer is Knative's Drainer state: once started, every request resets a quiet-period timer on
// the clock, and the drain completes when it fires. Reset (no SIGTERM after /wait-for-drain)
// abandons a drain that has not completed.
type drainer struct {
	clk   clock.WithTicker
	quiet time.Duration

	mu     sync.Mutex
	cycle  *drainCycle // nil while not draining
	closed bool
	wg     sync.WaitGroup
}

// drainCycle is one started drain.
type drainCycle struct {
	timer     clock.Timer
	done      chan struct{} // closed when the quiet period passed
	cancelled chan struct{} // closed by reset
	finished  bool
}

func newDrainer(clk clock.WithTicker, quiet time.Duration) *drainer {
	return &drainer{clk: clk, quiet: quiet}
}

// start begins a drain (no-op while one runs or after one completed) and returns it.
func (d *drainer) start() *drainCycle {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cycle != nil {
		return d.cycle
	}
	if d.closed { // a cycle that never completes
		c := &drainCycle{done: make(chan struct{}), cancelled: make(chan struct{})}
		close(c.cancelled)
		return c
	}
	c := &drainCycle{timer: d.clk.NewTimer(d.quiet), done: make(chan struct{}), cancelled: make(chan struct{})}
	d.cycle = c
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		select {
		case <-c.timer.C():
			d.mu.Lock()
			c.finished = true
			close(c.done)
			d.mu.Unlock()
		case <-c.cancelled:
			c.timer.Stop()
		}
	}()
	return c
}

// draining reports a started drain (health checks then fail).
func (d *drainer) draining() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cycle != nil
}

// touch restarts the quiet period for a request arriving while draining (Knative resets the
// timer only if it has not fired yet).
func (d *drainer) touch() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c := d.cycle; c != nil && !c.finished && c.timer.Stop() {
		c.timer.Reset(d.quiet)
	}
}

// reset abandons a drain that has not completed.
func (d *drainer) reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c := d.cycle; c != nil && !c.finished {
		close(c.cancelled)
		d.cycle = nil
	}
}

// close stops the drain goroutine, if any; later starts never complete.
func (d *drainer) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.reset()
	d.wg.Wait()
}
