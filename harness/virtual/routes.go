package virtual

import (
	"slices"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
)

// Routes (§1.6, §6): a traffic block resolves to the default host's weighted splits and one
// 100% split per tag. A block naming a revision that is not Ready yet (or a configuration
// without a Ready revision) waits, and the previous one stays in force, as Knative's Route
// does not program its Ingress until every target is Ready.

func (e *engine) ensureRoute(name string) *route {
	rt := e.routes[name]
	if rt == nil {
		rt = &route{name: name}
		e.routes[name] = rt
		e.routeOrder = append(e.routeOrder, rt)
	}
	return rt
}

func (e *engine) setTraffic(rt *route, traffic []TrafficTarget) {
	if !rt.hasPend {
		e.pendingRoutes++
	}
	rt.pending, rt.hasPend = append([]TrafficTarget(nil), traffic...), true
	for _, t := range traffic {
		e.refer(t, rt)
	}
	e.resolve(rt)
}

// refer indexes rt under the revision or configuration t names, so a revision becoming Ready
// re-resolves only the routes that may send to it.
func (e *engine) refer(t TrafficTarget, rt *route) {
	key := "c/" + t.ConfigurationName
	if t.RevisionName != "" {
		key = "r/" + t.RevisionName
	}
	if !slices.Contains(e.routeRefs[key], rt) {
		e.routeRefs[key] = append(e.routeRefs[key], rt)
	}
}

// revisionReady marks rev Ready: its configuration's latest ready revision may move, and
// routes waiting for it resolve.
func (e *engine) revisionReady(rev *revision) {
	rev.ready = true
	c := rev.config
	if c.latestReady == nil || c.latestReady.id < rev.id {
		c.latestReady = rev
	}
	for _, key := range []string{"c/" + c.name, "r/" + rev.name()} {
		for _, rt := range e.routeRefs[key] {
			e.resolve(rt)
		}
	}
	if rev.initial {
		e.initialPending--
	}
	e.checkTimeZero()
}

// target resolves one traffic target to a Ready revision, or nil.
func (e *engine) target(t TrafficTarget) *revision {
	if t.RevisionName != "" {
		if rev := e.revByName[t.RevisionName]; rev != nil && rev.ready {
			return rev
		}
		return nil
	}
	if c := e.configs[t.ConfigurationName]; c != nil {
		return c.latestReady
	}
	return nil
}

// resolve applies rt's pending traffic block if every target is Ready, then recomputes its
// splits and the reachability of the revisions they gained or lost.
func (e *engine) resolve(rt *route) {
	if rt.hasPend && e.resolvable(rt.pending) {
		rt.traffic, rt.pending, rt.hasPend = rt.pending, nil, false
		e.pendingRoutes--
	}
	var main []split
	var tags []tagged
	for _, t := range rt.traffic {
		rev := e.target(t)
		if rev == nil {
			continue
		}
		if t.Percent > 0 {
			main = append(main, split{rev: rev, percent: t.Percent})
		}
		if t.Tag != "" {
			tags = append(tags, tagged{tag: t.Tag, rev: rev})
		}
	}
	old := rt.sendsTo()
	rt.main, rt.tags = main, tags
	now := rt.sendsTo()
	for _, rev := range old {
		rev.routes--
	}
	for _, rev := range now {
		rev.routes++
	}
	for _, rev := range append(old, now...) {
		e.updateReachability(rev)
	}
}

func (e *engine) resolvable(traffic []TrafficTarget) bool {
	for _, t := range traffic {
		if e.target(t) == nil {
			return false
		}
	}
	return true
}

// sendsTo lists the revisions rt's splits and tags name, each once.
func (rt *route) sendsTo() []*revision {
	var out []*revision
	for _, s := range rt.main {
		if !slices.Contains(out, s.rev) {
			out = append(out, s.rev)
		}
	}
	for _, t := range rt.tags {
		if !slices.Contains(out, t.rev) {
			out = append(out, t.rev)
		}
	}
	return out
}

// updateReachability is the labeler's routingState (§1.2): a revision some route sends to is
// Reachable; one that was and no longer is becomes Unreachable (min-scale no longer holds it);
// a revision never routed yet stays unknown, which counts as reachable.
func (e *engine) updateReachability(rev *revision) {
	want := rev.pa.Spec.Reachability
	switch {
	case rev.routes > 0:
		want = autoscalingv1alpha1.ReachabilityReachable
		rev.routed = true
	case rev.routed:
		want = autoscalingv1alpha1.ReachabilityUnreachable
	}
	if want != rev.pa.Spec.Reachability {
		rev.pa.Spec.Reachability = want
		e.refreshSpec(rev)
	}
}
