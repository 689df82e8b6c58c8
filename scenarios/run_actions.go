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
	"github.com/servingsim/servingsim/stack/app"
)

// conditionPoll is how often a when-condition is checked.
const conditionPoll = 100 * time.Millisecond

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
	case a.FailPod != nil:
		return l.failPods(ctx, a.FailPod)
	case a.SetApp != nil:
		return l.setApp(ctx, a.SetApp)
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

// failPods crashes the user container of Count ready pods of the revision, in name order, like
// killPods: the pod runtime reports the exit and restarts the container after the pod's restart
// delay (podruntime.Runtime.FailContainer), and the sandbox drops the requests inside it.
func (l *liveRun) failPods(ctx context.Context, f *FailPod) error {
	rev := f.Revision
	if rev == "" {
		rev = l.rec.latest(f.Service)
	}
	if rev == "" {
		return fmt.Errorf("%s has no revision yet", f.Service)
	}
	pods := &corev1.PodList{}
	if err := l.st.Client.List(ctx, pods, client.InNamespace(l.ns), client.MatchingLabels{serving.RevisionLabelKey: rev}); err != nil {
		return err
	}
	var names []string
	for i := range pods.Items {
		if p := &pods.Items[i]; p.DeletionTimestamp == nil && podReady(p) {
			names = append(names, p.Name)
		}
	}
	slices.Sort(names)
	n := max(f.Count, 1)
	if len(names) < n {
		return fmt.Errorf("%s has %d ready pods, fewer than the %d to fail", rev, len(names), n)
	}
	code := int32(max(f.ExitCode, 1))
	var errs []error
	for _, name := range names[:n] {
		errs = append(errs, l.st.System.PodRuntime.FailContainer(types.NamespacedName{Namespace: l.ns, Name: name}, code))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	l.rec.event("pod", rev, fmt.Sprintf("user container of %s exited with code %d", strings.Join(names[:n], ", "), code))
	return nil
}

// setApp changes the app model of the revision's pods, or of every revision of the service
// that exists now (as virtual mode does), running and started later.
func (l *liveRun) setApp(ctx context.Context, sa *SetApp) error {
	sb := l.rec.sandbox
	if sb == nil {
		return errors.New("the stack runs no live pod sandbox whose apps could change")
	}
	revs := []string{sa.Revision}
	if sa.Revision == "" {
		list := &servingv1.RevisionList{}
		if err := l.st.Client.List(ctx, list, client.InNamespace(l.ns), client.MatchingLabels{serving.ConfigurationLabelKey: sa.Service}); err != nil {
			return err
		}
		revs = revs[:0]
		for _, r := range list.Items {
			revs = append(revs, r.Name)
		}
		slices.Sort(revs)
		if len(revs) == 0 {
			return fmt.Errorf("%s has no revision yet", sa.Service)
		}
	}
	var sampler app.Sampler
	if sa.ServiceTime != "" {
		s, err := sa.ServiceTime.Sampler()
		if err != nil {
			return err
		}
		sampler = s
	}
	edit := func(cfg *app.Config) {
		if sampler != nil {
			cfg.ServiceTime = sampler
		}
		if sa.ErrorRate != nil {
			cfg.ErrorRate = float64(*sa.ErrorRate)
		}
		if sa.Concurrency != nil {
			cfg.Concurrency = *sa.Concurrency
		}
	}
	var errs []error
	for _, rev := range revs {
		n, err := sb.UpdateApps(l.ns, rev, edit)
		errs = append(errs, err)
		l.rec.event("app", rev, fmt.Sprintf("app model changed on %d running pod(s): %s", n, sa.Describe()))
	}
	return errors.Join(errs...)
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
