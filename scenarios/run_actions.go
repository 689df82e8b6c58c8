package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
)

// conditionPoll is how often a when-condition is checked.
const conditionPoll = 100 * time.Millisecond

// liveUnsupported lists what a scenario asks for that live mode cannot do yet, each with the
// field path, so the run fails before it starts instead of silently skipping it.
func liveUnsupported(s *Scenario) []string {
	var out []string
	for i, a := range s.Spec.Actions {
		switch {
		case a.FailPod != nil:
			out = append(out, fmt.Sprintf("spec.actions[%d].failPod: crashing a running pod's container is not supported in live mode yet", i))
		case a.SetApp != nil:
			out = append(out, fmt.Sprintf("spec.actions[%d].setApp: changing running pods' app model is not supported in live mode yet", i))
		}
	}
	for i, st := range s.Spec.Workload {
		for j, ph := range st.Phases {
			if ph.Concurrent != nil && ph.Concurrent.Think > 0 {
				out = append(out, fmt.Sprintf("spec.workload[%d].phases[%d].concurrent.think: think time is not supported in live mode yet", i, j))
			}
		}
	}
	return out
}

// runActions runs every action of the scenario at its time or when its condition first holds,
// until ctx ends. Failures are reported through fail and recorded as events.
func (l *liveRun) runActions(ctx context.Context, fail func(error)) (wait func()) {
	done := make(chan struct{}, len(l.s.Spec.Actions))
	for i, a := range l.s.Spec.Actions {
		go func() {
			defer func() { done <- struct{}{} }()
			if !l.actionDue(ctx, a) {
				if a.When != nil {
					l.rec.event("action", a.Effect().Kind(), "never ran: "+a.When.Describe()+" did not hold")
				}
				return
			}
			err := l.apply(ctx, a)
			msg := a.Describe()
			if err != nil {
				msg += ": failed: " + err.Error()
				fail(fmt.Errorf("spec.actions[%d] (%s): %w", i, a.Describe(), err))
			}
			l.rec.event("action", a.Effect().Kind(), msg)
			l.progress("action: %s", msg)
		}()
	}
	return func() {
		for range l.s.Spec.Actions {
			<-done
		}
	}
}

// actionDue waits until a is due: its time, or its condition holding. False if ctx ended first.
func (l *liveRun) actionDue(ctx context.Context, a Action) bool {
	if a.At != nil {
		return sleepUntil(ctx, l.zero.Add(a.At.D()))
	}
	c := a.When
	if c == nil || !sleepUntil(ctx, l.zero.Add(c.After.D())) {
		return false
	}
	t := time.NewTicker(conditionPoll)
	defer t.Stop()
	for {
		if l.holds(*c) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}

// holds checks a when-condition against the recorder's current view.
func (l *liveRun) holds(c Condition) bool {
	rev := c.Revision
	if rev == "" {
		rev = l.rec.latest(c.Service)
	}
	if rev == "" {
		return false
	}
	s, panicking, ok := l.rec.state(rev)
	if !ok {
		return false
	}
	return (c.ReadyPods == nil || c.ReadyPods.Contains(int(s.Ready))) &&
		(c.DesiredPods == nil || c.DesiredPods.Contains(int(s.Desired))) &&
		(c.Panicking == nil || *c.Panicking == panicking) &&
		(c.SKSMode == "" || c.SKSMode == s.Mode)
}

// apply carries out one action's effect against the API server.
func (l *liveRun) apply(ctx context.Context, a Action) error {
	c := l.st.Client
	switch {
	case a.UpdateService != nil:
		return mergePatch(ctx, c, &servingv1.Service{}, l.ns, a.UpdateService.Name, a.UpdateService.Patch)
	case a.SetTraffic != nil:
		var obj client.Object = &servingv1.Route{}
		if l.kindOf(a.SetTraffic.Service) == "Service" {
			obj = &servingv1.Service{}
		}
		return mergePatch(ctx, c, obj, l.ns, a.SetTraffic.Service, map[string]any{"spec": map[string]any{"traffic": a.SetTraffic.Traffic}})
	case a.SetConfig != nil:
		return l.config.set(ctx, a.SetConfig.ConfigMap, a.SetConfig.Data)
	case a.KillPod != nil:
		return l.killPods(ctx, a.KillPod)
	}
	return fmt.Errorf("%s is not supported in live mode", a.Effect().Kind())
}

// kindOf is the kind of the scenario's object named name ("Service", "Route", ...).
func (l *liveRun) kindOf(name string) string {
	for _, o := range l.s.Objects() {
		if o.GetName() == name && (o.GetKind() == "Service" || o.GetKind() == "Route") {
			return o.GetKind()
		}
	}
	return ""
}

func mergePatch(ctx context.Context, c client.Client, obj client.Object, ns, name string, patch any) error {
	b, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	obj.SetNamespace(ns)
	obj.SetName(name)
	return c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, b))
}

// killPods deletes Count running pods of the revision gracefully, in name order (the choice is
// deterministic: pod names come from seeded streams).
func (l *liveRun) killPods(ctx context.Context, k *KillPod) error {
	rev := k.Revision
	if rev == "" {
		rev = l.rec.latest(k.Service)
	}
	if rev == "" {
		return fmt.Errorf("%s has no revision yet", k.Service)
	}
	pods := &corev1.PodList{}
	if err := l.st.Client.List(ctx, pods, client.InNamespace(l.ns), client.MatchingLabels{serving.RevisionLabelKey: rev}); err != nil {
		return err
	}
	var names []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			names = append(names, p.Name)
		}
	}
	slices.Sort(names)
	n := max(k.Count, 1)
	if len(names) < n {
		return fmt.Errorf("%s has %d running pods, fewer than the %d to kill", rev, len(names), n)
	}
	var errs []error
	for _, name := range names[:n] {
		p := &corev1.Pod{}
		p.Namespace, p.Name = l.ns, name
		if err := l.st.Client.Delete(ctx, p); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	l.rec.event("pod", rev, "killed "+strings.Join(names[:n], ", "))
	return nil
}

// sleepUntil waits for t or ctx; false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
