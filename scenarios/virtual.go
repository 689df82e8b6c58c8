package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/servingsim/servingsim/harness"
	"github.com/servingsim/servingsim/harness/virtual"
	"github.com/servingsim/servingsim/reports"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/app"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/kmeta"
	"github.com/servingsim/servingsim/stack/podruntime"
	"github.com/servingsim/servingsim/stack/webhook"
)

func init() { runVirtual = runVirtualMode }

// runVirtualMode is Run in ModeVirtual: the scenario converted by VirtualSpec runs in
// harness/virtual's discrete-event engine, and its result becomes the same Record a live run
// fills, evaluated by the same Evaluate. Only RunOptions.Seed (through SeedFor) applies.
func runVirtualMode(ctx context.Context, s *Scenario, opts RunOptions) (*reports.Run, error) {
	run := &reports.Run{Version: reports.FormatVersion, Mode: ModeVirtual, Seed: opts.SeedFor(s),
		Expectations: []reports.ExpectationResult{}}
	if s == nil {
		return fail(run, errors.New("no scenario"))
	}
	run.Scenario, run.File = s.Metadata.Name, s.Source()
	if err := s.Validate(); err != nil {
		return fail(run, err)
	}
	vs, err := VirtualSpec(s, run.Seed)
	if err != nil {
		return fail(run, err)
	}
	vs.Discard.Samples = true // Record.BuildSeries makes the per-second series, as in live mode
	res, err := virtual.Run(ctx, vs)
	if err != nil {
		return fail(run, err)
	}
	rec := virtualRecord(s, vs, res, run)
	rec.MarkColdStarts()
	rec.BuildSeries()
	Evaluate(s, rec)
	return run, nil
}

// virtualRecord turns a virtual run's result into the Record both drivers hand to Evaluate.
func virtualRecord(s *Scenario, vs virtual.Spec, res *virtual.Result, run *reports.Run) *Record {
	run.Started = virtual.Epoch.Add(res.Bootstrap)
	run.Duration = res.End
	run.Accounting.Sent = res.Sent
	run.Requests = make([]reports.Request, 0, len(res.Requests))
	for _, q := range res.Requests {
		st := &vs.Streams[q.Stream]
		rev := ""
		if q.Served { // as live: the app's response header names the revision
			rev = q.Revision
		}
		run.Requests = append(run.Requests, reports.Request{
			Stream: st.Name, Revision: rev, Tag: st.Tag, ColdStart: q.ColdStart,
			Result: vegeta.Result{Attack: st.Name, Seq: q.Seq, Code: q.Code, Timestamp: run.Started.Add(q.Sent),
				Latency: q.Latency, Error: q.Error, Method: "GET", URL: st.URL},
		})
	}
	for _, d := range res.Decisions {
		run.Decisions = append(run.Decisions, reports.Decision{Time: d.Time, Namespace: vs.Namespace, Revision: d.Revision,
			ReadyPods: d.ReadyPods, Stable: d.Stable, Panic: d.Panic, Target: d.Target, DesiredPods: d.DesiredPods,
			ExcessBurstCapacity: d.ExcessBurstCapacity, Panicking: d.Panicking, Mode: d.Mode})
	}
	for _, e := range res.Events {
		run.Events = append(run.Events, reports.Event{Time: e.Time, Kind: e.Kind, Subject: e.Subject, Message: e.Message})
	}
	rec := &Record{Run: run, Namespace: vs.Namespace, Revisions: map[string][]string{}, Routing: map[string]Routing{},
		AppMaxInFlight: map[string]int{}, ActivatorQueue: map[string][]int{}}
	for _, st := range res.States {
		rec.States = append(rec.States, RevisionState{Time: st.Time, Revision: st.Revision, Ready: st.Ready,
			Actual: st.Actual, Desired: st.Desired, Mode: st.Mode})
	}
	seconds := int(run.Duration/time.Second) + 1
	for _, r := range res.Revisions {
		rec.Revisions[r.Configuration] = append(rec.Revisions[r.Configuration], r.Name)
		if r.MaxAppConcurrency > 0 {
			rec.AppMaxInFlight[r.Name] = r.MaxAppConcurrency
		}
		q := make([]int, seconds)
		copy(q, r.ActivatorQueue)
		rec.ActivatorQueue[r.Name] = q
	}
	for _, rt := range res.Routes {
		rec.Routing[rt.Name] = Routing{Percent: rt.Percent, Tags: rt.Tags}
	}
	return rec
}

// VirtualSpec converts s into the virtual engine's input: the config-* snapshot after the
// overrides, each Configuration's (and Service's) first revision as Knative's admission
// defaults it, with the scenario's pod startup and app model under the template's own
// annotations and env, the Routes' traffic, the streams and the actions.
func VirtualSpec(s *Scenario, seed int64) (virtual.Spec, error) {
	st := s.Spec.Stack
	c := &virtualConverter{s: s, store: config.NewStore(), data: map[string]map[string]string{},
		services: map[string]map[string]any{}, routes: map[string]map[string]any{}, generation: map[string]int64{},
		appDefaults: appAnnotations(st.App)}
	for _, name := range slices.Sorted(maps.Keys(st.ConfigOverrides)) {
		if err := c.setConfig(name, st.ConfigOverrides[name]); err != nil {
			return virtual.Spec{}, err
		}
	}
	var errs []error
	dist := func(name string, d Distribution) podruntime.Dist {
		v, err := d.Dist()
		if err != nil {
			errs = append(errs, fmt.Errorf("spec.stack.podStartup.%s: %w", name, err))
		}
		return v
	}
	c.startup = podruntime.StartupModel{
		Schedule: dist("schedule", st.PodStartup.Schedule), ImagePull: dist("imagePull", st.PodStartup.ImagePull),
		ContainerStart: dist("containerStart", st.PodStartup.ContainerStart), Startup: dist("startup", st.PodStartup.Startup),
		Drain: dist("drain", st.PodStartup.Drain),
	}
	if err := errors.Join(errs...); err != nil {
		return virtual.Spec{}, err
	}
	vs := virtual.Spec{
		Seed: seed, Namespace: s.Metadata.Name, Config: c.store.Load(), Activators: st.Activators,
		DrainQuietPeriod: st.DrainQuietPeriod.D(), Duration: s.Duration(), ClientTimeout: RequestTimeout,
	}
	for _, u := range s.Objects() {
		if err := c.object(&vs, u.Object); err != nil {
			return virtual.Spec{}, err
		}
	}
	for i := range s.Spec.Workload {
		stream, err := c.stream(i)
		if err != nil {
			return virtual.Spec{}, err
		}
		vs.Streams = append(vs.Streams, stream)
	}
	for i, a := range s.Spec.Actions {
		va, err := c.action(a)
		if err != nil {
			return virtual.Spec{}, fmt.Errorf("spec.actions[%d]: %w", i, err)
		}
		vs.Actions = append(vs.Actions, va)
	}
	return vs, nil
}

// virtualConverter holds what converting a scenario and running its actions needs: the
// config-* data in force, the stored Knative objects (defaulted, as JSON maps, to merge patches
// into) and each Configuration's generation.
type virtualConverter struct {
	s           *Scenario
	store       *config.Store
	data        map[string]map[string]string
	services    map[string]map[string]any
	routes      map[string]map[string]any
	generation  map[string]int64
	startup     podruntime.StartupModel
	appDefaults map[string]string
}

// setConfig merges data into ConfigMap name, as a live setConfig does.
func (c *virtualConverter) setConfig(name string, data map[string]string) error {
	merged := maps.Clone(c.data[name])
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, data)
	if err := c.store.Update(name, merged); err != nil {
		return err
	}
	c.data[name] = merged
	return nil
}

// object adds one Knative object of spec.services.
func (c *virtualConverter) object(vs *virtual.Spec, obj map[string]any) error {
	kind, _ := obj["kind"].(string)
	cfg := c.store.Load()
	switch kind {
	case "Service":
		svc := &servingv1.Service{}
		if err := decodeDefaulted(obj, svc, nil, cfg); err != nil {
			return err
		}
		rev, err := c.revision(svc.Name, svc.Spec.Template)
		if err != nil {
			return err
		}
		vs.Configurations = append(vs.Configurations, virtual.Configuration{Name: svc.Name, Revision: rev})
		vs.Routes = append(vs.Routes, virtual.Route{Name: svc.Name, Traffic: trafficOf(svc.Name, svc.Spec.Traffic)})
		return c.store2(c.services, svc.Name, svc)
	case "Configuration":
		cf := &servingv1.Configuration{}
		if err := decodeDefaulted(obj, cf, nil, cfg); err != nil {
			return err
		}
		rev, err := c.revision(cf.Name, cf.Spec.Template)
		if err != nil {
			return err
		}
		vs.Configurations = append(vs.Configurations, virtual.Configuration{Name: cf.Name, Revision: rev})
	case "Route":
		rt := &servingv1.Route{}
		if err := decodeDefaulted(obj, rt, nil, cfg); err != nil {
			return err
		}
		vs.Routes = append(vs.Routes, virtual.Route{Name: rt.Name, Traffic: trafficOf("", rt.Spec.Traffic)})
		return c.store2(c.routes, rt.Name, rt)
	default:
		return fmt.Errorf("spec.services: %q objects are not supported", kind)
	}
	return nil
}

// store2 keeps an object as the JSON map later merge patches apply to.
func (c *virtualConverter) store2(into map[string]map[string]any, name string, obj any) error {
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	into[name] = m
	return nil
}

// decodeDefaulted decodes obj into typed and applies Knative's defaulting (as an update of old
// when old is not nil).
func decodeDefaulted(obj map[string]any, typed, old runtime.Object, cfg *config.Config) error {
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, typed); err != nil {
		return fmt.Errorf("decode %v: %w", obj["kind"], err)
	}
	return webhook.SetDefaults(typed, webhook.Options{Config: cfg, Old: old})
}

// revision is the RevisionSpec a Configuration's template stamps out: named by the template or
// <configuration>-<generation>, with the scenario's pod startup model and app model (the app
// reads its config from the template's annotations over the scenario's defaults, and from the
// user container's env over both).
func (c *virtualConverter) revision(config string, tmpl servingv1.RevisionTemplateSpec) (virtual.RevisionSpec, error) {
	c.generation[config]++
	name := tmpl.Name
	if name == "" {
		name = kmeta.RevisionName(config, c.generation[config])
	}
	annos := maps.Clone(c.appDefaults)
	maps.Copy(annos, tmpl.Annotations)
	env := map[string]string{}
	if cs := tmpl.Spec.Containers; len(cs) > 0 {
		for _, e := range cs[0].Env {
			if e.ValueFrom == nil {
				env[e.Name] = e.Value
			}
		}
	}
	appCfg, err := app.ParseConfig(annos, env)
	if err != nil {
		return virtual.RevisionSpec{}, fmt.Errorf("revision %s: %w", name, err)
	}
	rs := virtual.RevisionSpec{Name: name, Annotations: tmpl.Annotations, App: appCfg, Startup: c.startup}
	if cc := tmpl.Spec.ContainerConcurrency; cc != nil {
		rs.ContainerConcurrency = int(*cc)
	}
	if t := tmpl.Spec.TimeoutSeconds; t != nil {
		rs.Timeout = time.Duration(*t) * time.Second
	}
	return rs, nil
}

// trafficOf converts a traffic block; in a Service (service != "") latestRevision targets name
// the Service's own Configuration.
func trafficOf(service string, tts []servingv1.TrafficTarget) []virtual.TrafficTarget {
	out := make([]virtual.TrafficTarget, 0, len(tts))
	for _, t := range tts {
		vt := virtual.TrafficTarget{Tag: t.Tag, RevisionName: t.RevisionName, ConfigurationName: t.ConfigurationName,
			LatestRevision: t.LatestRevision != nil && *t.LatestRevision}
		if vt.RevisionName == "" && vt.ConfigurationName == "" {
			vt.ConfigurationName = service
		}
		if t.Percent != nil {
			vt.Percent = int(*t.Percent)
		}
		out = append(out, vt)
	}
	return out
}

// stream converts workload stream i.
func (c *virtualConverter) stream(i int) (virtual.Stream, error) {
	st := c.s.Spec.Workload[i]
	path := st.Target.Path
	if path == "" {
		path = "/"
	}
	// The URL results carry: the route's host as Knative names it (§1.8), the harness's domain.
	host := st.Target.Service
	if st.Target.Tag != "" {
		host = st.Target.Tag + "-" + host
	}
	host += "." + c.s.Metadata.Name
	if st.Target.ClusterLocal {
		host += ".svc.cluster.local"
	} else {
		host += "." + harness.DefaultDomain
	}
	vs := virtual.Stream{Name: c.s.StreamName(i), Route: st.Target.Service, Tag: st.Target.Tag,
		ClusterLocal: st.Target.ClusterLocal, Start: st.Start.D(), URL: "http://" + host + path}
	u, err := url.Parse(path)
	if err != nil {
		return vs, fmt.Errorf("spec.workload[%d].target.path: %w", i, err)
	}
	if v := u.Query().Get(app.SleepParam); v != "" {
		if vs.Sleep, err = parseSleepParam(v); err != nil {
			return vs, fmt.Errorf("spec.workload[%d].target.path: ?%s: %w", i, app.SleepParam, err)
		}
		vs.HasSleep = true
		if sd := u.Query().Get(app.SleepStddevParam); sd != "" {
			if vs.SleepStddev, err = parseSleepParam(sd); err != nil {
				return vs, fmt.Errorf("spec.workload[%d].target.path: ?%s: %w", i, app.SleepStddevParam, err)
			}
		}
	}
	for _, ph := range st.Phases {
		vs.Phases = append(vs.Phases, virtualPhase(ph))
	}
	return vs, nil
}

// parseSleepParam reads ?sleep= as the app does: milliseconds, or a Go duration.
func parseSleepParam(v string) (time.Duration, error) {
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms >= 0 {
		return time.Duration(ms) * time.Millisecond, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration in milliseconds or Go syntax", v)
	}
	return d, nil
}

func virtualPhase(ph Phase) virtual.Phase {
	switch {
	case ph.Constant != nil:
		return virtual.Constant{Rate: ph.Constant.Rate.PerSecond(), Duration: ph.Constant.Duration.D()}
	case ph.Ramp != nil:
		return virtual.Ramp{From: ph.Ramp.From.PerSecond(), To: ph.Ramp.To.PerSecond(), Duration: ph.Ramp.Duration.D()}
	case ph.Step != nil:
		p := ph.Step
		return virtual.Step{From: p.From.PerSecond(), To: p.To.PerSecond(), Steps: p.Steps, Duration: p.Duration.D()}
	case ph.Sine != nil:
		p := ph.Sine
		return virtual.Sine{Mean: p.Mean.PerSecond(), Amp: p.Amplitude.PerSecond(), Period: p.Period.D(), Duration: p.Duration.D()}
	case ph.Burst != nil:
		return virtual.Burst{Requests: ph.Burst.Requests, Within: ph.Burst.Within.D()}
	case ph.Concurrent != nil:
		p := ph.Concurrent
		return virtual.Concurrent{Clients: p.Clients, Think: p.Think.D(), Duration: p.Duration.D()}
	case ph.Trace != nil:
		arrivals := make([]time.Duration, len(ph.Trace.Arrivals))
		for j, a := range ph.Trace.Arrivals {
			arrivals[j] = a.D()
		}
		return virtual.Trace{Arrivals: arrivals}
	case ph.Idle != nil:
		return virtual.Idle{Duration: ph.Idle.Duration.D()}
	}
	return virtual.Idle{}
}

// action converts one action: its time or condition, and its effect on the running engine.
func (c *virtualConverter) action(a Action) (virtual.Action, error) {
	va := virtual.Action{Name: a.Describe()}
	switch {
	case a.At != nil:
		va.At = a.At.D()
	case a.When != nil:
		cond := *a.When
		va.After = cond.After.D()
		va.When = func(ctl *virtual.Control) bool { return holdsVirtual(ctl, cond) }
	}
	switch {
	case a.UpdateService != nil:
		u := a.UpdateService
		va.Do = func(ctl *virtual.Control) error { return c.updateService(ctl, u) }
	case a.SetTraffic != nil:
		st := a.SetTraffic
		va.Do = func(ctl *virtual.Control) error { return c.setTraffic(ctl, st) }
	case a.SetConfig != nil:
		sc := a.SetConfig
		va.Do = func(ctl *virtual.Control) error {
			if err := c.setConfig(sc.ConfigMap, sc.Data); err != nil {
				return err
			}
			ctl.SetConfig(c.store.Load())
			return nil
		}
	case a.KillPod != nil:
		k := a.KillPod
		va.Do = func(ctl *virtual.Control) error {
			rev, err := latestOr(ctl, k.Service, k.Revision)
			if err != nil {
				return err
			}
			n := max(k.Count, 1)
			killed, err := ctl.KillPods(rev, n)
			if err == nil && killed < n {
				err = fmt.Errorf("%s has %d running pods, fewer than the %d to kill", rev, killed, n)
			}
			return err
		}
	case a.FailPod != nil:
		f := a.FailPod
		va.Do = func(ctl *virtual.Control) error {
			rev, err := latestOr(ctl, f.Service, f.Revision)
			if err != nil {
				return err
			}
			_, err = ctl.FailPods(rev, max(f.Count, 1), max(f.ExitCode, 1))
			return err
		}
	case a.SetApp != nil:
		sa := a.SetApp
		va.Do = func(ctl *virtual.Control) error { return setAppVirtual(ctl, sa) }
	default:
		return va, errors.New("no effect set")
	}
	return va, nil
}

// latestOr is rev, or owner's latest created revision.
func latestOr(ctl *virtual.Control, owner, rev string) (string, error) {
	if rev != "" {
		return rev, nil
	}
	latest, ok := ctl.LatestRevision(owner)
	if !ok {
		return "", fmt.Errorf("%s has no revision", owner)
	}
	return latest, nil
}

// holdsVirtual checks a when-condition against the engine's state, as the live runner checks
// it against its recorder.
func holdsVirtual(ctl *virtual.Control, c Condition) bool {
	rev, err := latestOr(ctl, c.Service, c.Revision)
	if err != nil {
		return false
	}
	st, ok := ctl.Revision(rev)
	return ok && (c.ReadyPods == nil || c.ReadyPods.Contains(int(st.ReadyPods))) &&
		(c.DesiredPods == nil || c.DesiredPods.Contains(int(st.DesiredPods))) &&
		(c.Panicking == nil || *c.Panicking == st.Panicking) &&
		(c.SKSMode == "" || c.SKSMode == st.Mode)
}

// updateService merges the patch into the stored Service and applies what changed: a new
// template makes a new revision (§1.3, §1.4), a new traffic block a new route.
func (c *virtualConverter) updateService(ctl *virtual.Control, u *UpdateService) error {
	stored := c.services[u.Name]
	if stored == nil {
		return fmt.Errorf("no Service %q", u.Name)
	}
	cfg := c.store.Load()
	old := &servingv1.Service{}
	if err := decodeDefaulted(stored, old, nil, cfg); err != nil {
		return err
	}
	merged, err := mergeJSON(stored, u.Patch)
	if err != nil {
		return err
	}
	svc := &servingv1.Service{}
	if err := decodeDefaulted(merged, svc, old, cfg); err != nil {
		return err
	}
	if !equality.Semantic.DeepEqual(old.Spec.Template, svc.Spec.Template) {
		rev, err := c.revision(svc.Name, svc.Spec.Template)
		if err != nil {
			return err
		}
		if err := ctl.CreateRevision(svc.Name, rev); err != nil {
			return err
		}
	}
	if !equality.Semantic.DeepEqual(old.Spec.Traffic, svc.Spec.Traffic) {
		ctl.SetTraffic(svc.Name, trafficOf(svc.Name, svc.Spec.Traffic))
	}
	return c.store2(c.services, svc.Name, svc)
}

// setTraffic replaces a Service's or Route's traffic block.
func (c *virtualConverter) setTraffic(ctl *virtual.Control, st *SetTraffic) error {
	patch := map[string]any{"spec": map[string]any{"traffic": st.Traffic}}
	if _, ok := c.services[st.Service]; ok {
		return c.updateService(ctl, &UpdateService{Name: st.Service, Patch: patch})
	}
	stored := c.routes[st.Service]
	if stored == nil {
		return fmt.Errorf("no Service or Route %q", st.Service)
	}
	merged, err := mergeJSON(stored, patch)
	if err != nil {
		return err
	}
	rt := &servingv1.Route{}
	if err := decodeDefaulted(merged, rt, nil, c.store.Load()); err != nil {
		return err
	}
	ctl.SetTraffic(rt.Name, trafficOf("", rt.Spec.Traffic))
	return c.store2(c.routes, rt.Name, rt)
}

// mergeJSON applies a JSON merge patch (RFC 7386) to obj.
func mergeJSON(obj map[string]any, patch any) (map[string]any, error) {
	orig, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	pb, err := json.Marshal(patch)
	if err != nil {
		return nil, err
	}
	merged, err := jsonpatch.MergePatch(orig, pb)
	if err != nil {
		return nil, fmt.Errorf("merge patch: %w", err)
	}
	var out map[string]any
	return out, json.Unmarshal(merged, &out)
}

// setAppVirtual changes the app model of the named revision, or of every revision of the
// service.
func setAppVirtual(ctl *virtual.Control, sa *SetApp) error {
	revs := []string{sa.Revision}
	if sa.Revision == "" {
		revs = ctl.Revisions(sa.Service)
	}
	var sampler app.Sampler
	if sa.ServiceTime != "" {
		s, err := sa.ServiceTime.Sampler()
		if err != nil {
			return err
		}
		sampler = s
	}
	for _, rev := range revs {
		err := ctl.UpdateApp(rev, func(cfg *app.Config) {
			if sampler != nil {
				cfg.ServiceTime = sampler
			}
			if sa.ErrorRate != nil {
				cfg.ErrorRate = float64(*sa.ErrorRate)
			}
			if sa.Concurrency != nil {
				cfg.Concurrency = *sa.Concurrency
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}
