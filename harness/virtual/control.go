package virtual

import (
	"fmt"
	"time"

	"github.com/servingsim/servingsim/stack/app"
	"github.com/servingsim/servingsim/stack/config"
)

// Control is what actions and their conditions see of a running simulation: queries on
// revisions and the changes a scenario can make. It is only valid inside Action.When and
// Action.Do.
type Control struct{ e *engine }

// RevisionState is a revision's autoscaling state at one instant.
type RevisionState struct {
	Ready                              bool
	ReadyPods, DesiredPods, ActualPods int32
	Panicking                          bool
	Mode                               string // SKS mode: Serve or Proxy
}

// Now is the virtual time from time zero.
func (c *Control) Now() time.Duration { return c.e.rel(c.e.now) }

// Revision returns the state of the named revision.
func (c *Control) Revision(name string) (RevisionState, bool) {
	rev := c.e.revByName[name]
	if rev == nil {
		return RevisionState{}, false
	}
	return RevisionState{Ready: rev.ready, ReadyPods: rev.readyPods, DesiredPods: rev.desiredScale,
		ActualPods: int32(len(rev.pods)), Panicking: rev.scaler.Panicking(), Mode: rev.sksMode}, true
}

// LatestRevision is the latest created revision of a configuration.
func (c *Control) LatestRevision(configuration string) (string, bool) {
	cfg := c.e.configs[configuration]
	if cfg == nil {
		return "", false
	}
	return cfg.latestCreated().name(), true
}

// Revisions lists a configuration's revisions, oldest first.
func (c *Control) Revisions(configuration string) []string {
	cfg := c.e.configs[configuration]
	if cfg == nil {
		return nil
	}
	out := make([]string, len(cfg.revisions))
	for i, r := range cfg.revisions {
		out[i] = r.name()
	}
	return out
}

// CreateRevision creates a revision of a configuration (created if new): a template change.
func (c *Control) CreateRevision(configuration string, spec RevisionSpec) error {
	cfg := c.e.configs[configuration]
	if cfg == nil {
		return c.e.createConfiguration(Configuration{Name: configuration, Revision: spec})
	}
	return c.e.createRevision(cfg, spec)
}

// SetTraffic replaces a route's traffic block (created if new). It takes effect once every
// revision it names is Ready.
func (c *Control) SetTraffic(route string, traffic []TrafficTarget) {
	c.e.setTraffic(c.e.ensureRoute(route), traffic)
}

// SetConfig replaces the config-* snapshot: every decider and metric spec is rebuilt and every
// PodAutoscaler reconciled.
func (c *Control) SetConfig(cfg *config.Config) {
	c.e.cfg = cfg
	for _, rev := range c.e.revisions {
		c.e.refreshSpec(rev)
	}
}

// KillPods deletes up to n of a revision's pods gracefully, oldest first, as `kubectl delete
// pod` does; the Deployment replaces them. It returns how many it deleted.
func (c *Control) KillPods(revision string, n int) (int, error) {
	rev := c.e.revByName[revision]
	if rev == nil {
		return 0, fmt.Errorf("no revision %q", revision)
	}
	var victims []*pod
	for _, p := range rev.pods {
		if len(victims) < n && p.phase != podTerminating {
			victims = append(victims, p)
		}
	}
	for _, p := range victims {
		c.e.deletePod(p)
	}
	c.e.reconcilePods(rev)
	return len(victims), nil
}

// FailPods crashes the user container of up to n running pods of a revision, oldest first.
func (c *Control) FailPods(revision string, n, exitCode int) (int, error) {
	rev := c.e.revByName[revision]
	if rev == nil {
		return 0, fmt.Errorf("no revision %q", revision)
	}
	done := 0
	for _, p := range rev.pods {
		if done < n && (p.phase == podReady || p.phase == podRunning) {
			c.e.failPod(p, exitCode)
			done++
		}
	}
	return done, nil
}

// UpdateApp changes the app model of a revision's running pods and of the pods it starts later.
func (c *Control) UpdateApp(revision string, edit func(*app.Config)) error {
	rev := c.e.revByName[revision]
	if rev == nil {
		return fmt.Errorf("no revision %q", revision)
	}
	edit(&rev.app)
	if err := rev.app.Validate(); err != nil {
		return err
	}
	for _, p := range rev.pods {
		p.app = rev.app
	}
	return nil
}

func (e *engine) runAction(i int) {
	if e.actionDone[i] {
		return
	}
	e.actionDone[i] = true
	a := e.actions[i]
	e.event(EventAction, a.Name, "applied")
	if a.Do == nil {
		return
	}
	if err := a.Do(e.ctl); err != nil {
		e.err = fmt.Errorf("virtual: action %q at %s: %w", a.Name, e.rel(e.now), err)
	}
}

// checkConditions runs every when-action whose condition holds, and polls again while any is
// pending.
func (e *engine) checkConditions() {
	for i, a := range e.actions {
		if a.When == nil || e.actionDone[i] || e.rel(e.now) < a.After {
			continue
		}
		if a.When(e.ctl) {
			e.whenPending--
			e.runAction(i)
		}
	}
	if e.whenPending > 0 && (e.now <= e.end || !e.quiescent()) {
		e.schedule(e.now+e.timing.ConditionPoll, evConditions, 0, 0, 0)
	}
}
