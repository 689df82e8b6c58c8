package scenarios

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	sigsjson "sigs.k8s.io/json"

	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/app"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/webhook"
)

// Validate checks every field of s and returns an ErrorList of all problems (nil if none).
// Load and Parse call it; call it on scenarios built in Go (New(...).Build does).
func (s *Scenario) Validate() error {
	if errs := s.validate(nil); len(errs) > 0 {
		return sortErrors(errs, s.source)
	}
	return nil
}

// validator collects the problems of one scenario and what later checks refer to.
type validator struct {
	s    *Scenario
	errs ErrorList
	// overrides is the config-* store after spec.stack.configOverrides; cfg its snapshot.
	overrides map[string]map[string]string
	cfg       *config.Config
	// Knative objects by kind and name.
	ksvcs, configs, routes map[string]*knObject
	// tags holds the traffic tags of each Service or Route: declared, or set by setTraffic.
	tags    map[string]map[string]bool
	streams map[string]bool
	// decodeErrs are the decoder's problems (see validate).
	decodeErrs ErrorList
}

// knObject is one Knative object of spec.services.
type knObject struct {
	kind, name string
	at         string // spec.services[i] path, for messages
	obj        map[string]any
	// valid is false when Knative would reject the object as written; actions on it are then
	// not checked again.
	valid bool
}

// validate checks s; decodeErrs are the problems the decoder already reported, so that a union
// with a misspelt kind is not also reported as empty.
func (s *Scenario) validate(decodeErrs ErrorList) ErrorList {
	v := &validator{s: s, decodeErrs: decodeErrs, ksvcs: map[string]*knObject{}, configs: map[string]*knObject{}, routes: map[string]*knObject{},
		tags: map[string]map[string]bool{}, streams: map[string]bool{}}
	v.header()
	v.stack()
	v.services()
	v.collectActionTags()
	for i := range s.Spec.Workload {
		v.stream(i)
	}
	for i := range s.Spec.Workload {
		v.streams[s.StreamName(i)] = true
	}
	for i, a := range s.Spec.Actions {
		v.action(indexPath("spec.actions", i), a)
	}
	for i, e := range s.Spec.Expect {
		p := indexPath("spec.expect", i)
		if c := v.oneOf(p, "expectation", expectKinds, len(e.checks()), e.Check() != nil); c {
			e.Check().validate(v, fieldPath(p, e.Check().Kind()))
		}
	}
	if d := s.Duration(); d > MaxDuration && len(v.errs) == 0 {
		v.add("spec", "the scenario runs for %s; a scenario may last at most %s", d, MaxDuration)
	}
	return v.errs
}

// add records a problem at path in the scenario file.
func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, locate(Error{File: v.s.source, Path: path, Msg: fmt.Sprintf(format, args...)}, v.s.pos, false))
}

// addObj records a problem at path inside object j of services entry i: in the entry's file
// if it has one. atKey points at the field's key rather than its value (unknown fields).
func (v *validator) addObj(i, j int, path, msg string, atKey bool) {
	svc := v.s.Spec.Services[i]
	if svc.File == "" {
		p := joinPath(indexPath("spec.services", i), path)
		v.errs = append(v.errs, locate(Error{File: v.s.source, Path: p, Msg: msg}, v.s.pos, atKey))
		return
	}
	e := Error{File: svc.display, Path: path, Msg: msg}
	if e.File == "" {
		e.File = svc.File
	}
	if j < len(svc.pos) {
		e = locate(e, svc.pos[j], atKey)
	}
	v.errs = append(v.errs, e)
}

// locate sets e's line and column from pos (e.Path, or its nearest located ancestor).
func locate(e Error, pos positions, atKey bool) Error {
	if p, ok := pos.lookup(e.Path); ok {
		e.Line, e.Column = p.line, p.col
		if atKey {
			e.Line, e.Column = p.keyLine, p.keyCol
		}
	}
	return e
}

func joinPath(base, rel string) string {
	switch {
	case rel == "":
		return base
	case strings.HasPrefix(rel, "["):
		return base + rel
	}
	return base + "." + rel
}

// oneOf checks that exactly one of a union's fields is set; it reports whether one is.
func (v *validator) oneOf(path, what, kinds string, n int, set bool) bool {
	switch {
	case n == 0 && slices.ContainsFunc(v.decodeErrs, func(e Error) bool { return strings.HasPrefix(e.Path, path+".") }):
		// Already reported: a misspelt or malformed kind.
	case n == 0:
		v.add(path, "empty %s; want exactly one of %s", what, kinds)
	case n > 1:
		v.add(path, "%s sets %d kinds; want exactly one of %s", what, n, kinds)
	}
	return n == 1 && set
}

func (v *validator) header() {
	s := v.s
	switch s.APIVersion {
	case APIVersion:
	case "":
		v.add("apiVersion", "required; want %s", APIVersion)
	default:
		v.add("apiVersion", "%q is not supported; want %s", s.APIVersion, APIVersion)
	}
	switch s.Kind {
	case Kind:
	case "":
		v.add("kind", "required; want %s", Kind)
	default:
		v.add("kind", "%q is not a scenario; want %s", s.Kind, Kind)
	}
	if s.Metadata.Name == "" {
		v.add("metadata.name", "required; a lowercase name like cold-start")
	} else if msgs := validation.IsDNS1123Label(s.Metadata.Name); len(msgs) > 0 {
		v.add("metadata.name", "%q is not a valid name: %s", s.Metadata.Name, strings.Join(msgs, "; "))
	}
	for _, k := range slices.Sorted(maps.Keys(s.Metadata.Labels)) {
		p := fieldPath("metadata.labels", k)
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			v.add(p, "label key %q: %s", k, strings.Join(msgs, "; "))
		}
		if msgs := validation.IsValidLabelValue(s.Metadata.Labels[k]); len(msgs) > 0 {
			v.add(p, "label value %q: %s", s.Metadata.Labels[k], strings.Join(msgs, "; "))
		}
	}
}

func (v *validator) stack() {
	st := v.s.Spec.Stack
	const p = "spec.stack"
	if st.Seed < 0 {
		v.add(p+".seed", "%d is negative; want a seed ≥ 0 (0: the runner's --seed)", st.Seed)
	}
	if st.Activators < 0 || st.Activators > MaxActivators {
		v.add(p+".activators", "%d activators; want 1 to %d (0: Knative's default, 1)", st.Activators, MaxActivators)
	}
	if st.DrainQuietPeriod < 0 || st.DrainQuietPeriod.D() > 5*time.Minute {
		v.add(p+".drainQuietPeriod", "%s; want a duration in [0, 5m] (Knative: 30s)", st.DrainQuietPeriod)
	}
	v.overrides = map[string]map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(st.ConfigOverrides)) {
		cp := fieldPath(p+".configOverrides", name)
		if !slices.Contains(config.Names, name) {
			v.add(cp, "unknown ConfigMap %q; want one of %s", name, strings.Join(config.Names, ", "))
			continue
		}
		if v.configData(cp, name, st.ConfigOverrides[name]) {
			v.overrides[name] = st.ConfigOverrides[name]
		}
	}
	v.cfg = v.configStore().Load()

	ps := p + ".podStartup"
	for _, f := range []struct {
		name string
		d    Distribution
	}{{"schedule", st.PodStartup.Schedule}, {"imagePull", st.PodStartup.ImagePull}, {"containerStart", st.PodStartup.ContainerStart},
		{"startup", st.PodStartup.Startup}, {"drain", st.PodStartup.Drain}} {
		v.dist(fieldPath(ps, f.name), f.d)
	}
	ap := p + ".app"
	v.sampler(ap+".serviceTime", st.App.ServiceTime)
	v.sampler(ap+".startupDelay", st.App.StartupDelay)
	v.fraction(ap+".errorRate", st.App.ErrorRate)
	if st.App.Concurrency < 0 {
		v.add(ap+".concurrency", "%d is negative; want ≥ 0 (0: unlimited)", st.App.Concurrency)
	}
	if o := app.Overflow(st.App.Overflow); o != "" && o != app.OverflowQueue && o != app.OverflowReject {
		v.add(ap+".overflow", "%q; want %s or %s", st.App.Overflow, app.OverflowQueue, app.OverflowReject)
	}
	if st.App.ResponseBytes < 0 || st.App.ResponseBytes > 64<<20 {
		v.add(ap+".responseBytes", "%d; want 0 to %d", st.App.ResponseBytes, 64<<20)
	}
}

var configKeyError = regexp.MustCompile(`^[a-z-]+: key "([^"]*)" has value ("[^"]*"): (.*)$`)

// configData checks the data of ConfigMap name with Knative's parser, reporting each bad key at
// its path under at. It reports whether the data is valid.
func (v *validator) configData(at, name string, data map[string]string) bool {
	err := config.NewStore().Update(name, data)
	if err == nil {
		return true
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok { //nolint:errorlint // walking errors.Join's list
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		if m := configKeyError.FindStringSubmatch(e.Error()); m != nil {
			v.add(fieldPath(at, m[1]), "%s is not valid: %s", m[2], m[3])
		} else {
			v.add(at, "%s", e.Error())
		}
	}
	return false
}

// configStore is Knative's config after the overrides (each already checked by configData).
func (v *validator) configStore() *config.Store {
	store := config.NewStore()
	for n, d := range v.overrides {
		_ = store.Update(n, d)
	}
	return store
}

func (v *validator) dist(path string, d Distribution) {
	if _, err := d.Dist(); err != nil {
		v.add(path, "%s; want a duration like \"2s\", \"uniform(1s,3s)\", \"exponential(500ms)\" or \"lognormal(1s,0.5)\"%s", err, flowHint(d))
	}
}

func (v *validator) sampler(path string, d Distribution) {
	if _, err := d.Sampler(); err != nil {
		v.add(path, "%s; want a duration like \"100ms\", \"exponential(100ms)\", \"lognormal(100ms,0.5)\" or \"empirical(10ms:50,100ms:50)\"%s", err, flowHint(d))
	}
}

// flowHint explains the usual cause of a cut-off distribution: a comma inside {...} ends the value.
func flowHint(d Distribution) string {
	if strings.Contains(string(d), "(") && !strings.Contains(string(d), ")") {
		return " (inside {...}, quote a value that has a comma)"
	}
	return ""
}

func (v *validator) fraction(path string, f Fraction) {
	if f < 0 || f > 1 || math.IsNaN(float64(f)) {
		v.add(path, "%s is not in [0, 1]; want a probability like 0.01 or \"1%%\"", formatFloat(float64(f)))
	}
}

var knativeKinds = map[string]func() runtime.Object{
	"Service":       func() runtime.Object { return &servingv1.Service{} },
	"Configuration": func() runtime.Object { return &servingv1.Configuration{} },
	"Route":         func() runtime.Object { return &servingv1.Route{} },
}

func (v *validator) services() {
	svcs := v.s.Spec.Services
	if len(svcs) == 0 {
		v.add("spec.services", "required; want at least one Knative Service, Configuration or Route (inline, or {file: PATH})")
	}
	for i, svc := range svcs {
		if len(svc.Objects) == 0 && svc.File == "" {
			v.add(indexPath("spec.services", i), "empty entry; want an inline Knative object or {file: PATH}")
		}
		for j, obj := range svc.Objects {
			v.object(i, j, obj)
		}
	}
}

// object checks one Knative object the way the API server and Knative's webhook would (strict
// decoding, defaulting, validation) and registers its name and traffic tags.
func (v *validator) object(i, j int, obj map[string]any) {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	want := servingv1.SchemeGroupVersion.String()
	if apiVersion != want {
		v.addObj(i, j, "apiVersion", fmt.Sprintf("%q; want %s (a Knative Service, Configuration or Route)", apiVersion, want), false)
		return
	}
	newObj, ok := knativeKinds[kind]
	if !ok {
		v.addObj(i, j, "kind", fmt.Sprintf("%q; want Service, Configuration or Route", kind), false)
		return
	}
	meta, _ := obj["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	if name == "" {
		v.addObj(i, j, "metadata.name", "required; scenarios refer to objects by name", false)
		return
	}
	if ns, _ := meta["namespace"].(string); ns != "" {
		v.addObj(i, j, "metadata.namespace", "leave it out: every run applies the objects in a fresh namespace", true)
	}
	byKind := map[string]map[string]*knObject{"Service": v.ksvcs, "Configuration": v.configs, "Route": v.routes}[kind]
	at := indexPath("spec.services", i)
	if prev, dup := byKind[name]; dup {
		v.addObj(i, j, "metadata.name", fmt.Sprintf("a %s named %q is already in %s", kind, name, prev.at), false)
		return
	}
	ko := &knObject{kind: kind, name: name, at: at, obj: obj}
	byKind[name] = ko
	if kind != "Configuration" {
		v.tags[name] = map[string]bool{}
		for _, t := range trafficTags(obj) {
			v.tags[name][t] = true
		}
	}
	ko.valid = v.knativeCheck(newObj(), obj, nil, func(path, msg string, atKey bool) { v.addObj(i, j, path, msg, atKey) })
}

// knativeCheck decodes obj strictly into typed, applies Knative's defaults and validation (as
// an UPDATE of old if old is set) and reports each problem through fail. It reports whether
// obj is valid.
func (v *validator) knativeCheck(typed runtime.Object, obj map[string]any, old runtime.Object, fail func(path, msg string, atKey bool)) bool {
	raw, err := json.Marshal(obj)
	if err != nil {
		fail("", err.Error(), false)
		return false
	}
	strict, err := sigsjson.UnmarshalStrict(raw, typed)
	if err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			fail(te.Field, fmt.Sprintf("want %s, got a %s", te.Type, te.Value), false)
		} else {
			fail("", err.Error(), false)
		}
		return false
	}
	for _, e := range strict {
		if m := strictField.FindStringSubmatch(e.Error()); m != nil {
			fail(m[2], m[1]+" field; Knative's API has no such field", true)
		} else {
			fail("", e.Error(), false)
		}
	}
	if len(strict) > 0 {
		return false
	}
	opts := webhook.Options{Config: v.cfg, Old: old}
	if err := webhook.SetDefaults(typed, opts); err != nil {
		fail("", err.Error(), false)
		return false
	}
	fe := webhook.Validate(typed, opts)
	if fe == nil {
		return true
	}
	for _, p := range splitFieldError(fe.Error()) {
		fail(p.path, p.msg, false)
	}
	return false
}

var strictField = regexp.MustCompile(`^(unknown|duplicate) field "(.*)"$`)

type pathMsg struct{ path, msg string }

var fieldPathList = regexp.MustCompile(`^[A-Za-z0-9_.\[\]/-]+(, [A-Za-z0-9_.\[\]/-]+)*$`)

// splitFieldError turns the webhook's rendering ("message: path1, path2" lines, each optionally
// followed by a details line) into one problem per path.
func splitFieldError(text string) []pathMsg {
	var out []pathMsg
	var last []int // indexes of the previous line's entries, for a details line
	for line := range strings.SplitSeq(text, "\n") {
		i := strings.LastIndex(line, ": ")
		if i < 0 || !fieldPathList.MatchString(line[i+2:]) {
			if len(last) == 0 {
				out = append(out, pathMsg{"", line})
				last = []int{len(out) - 1}
				continue
			}
			for _, k := range last {
				out[k].msg += " (" + line + ")"
			}
			continue
		}
		last = last[:0]
		for p := range strings.SplitSeq(line[i+2:], ", ") {
			out = append(out, pathMsg{p, line[:i]})
			last = append(last, len(out)-1)
		}
	}
	return out
}

// trafficTags lists the tags of an object's spec.traffic.
func trafficTags(obj map[string]any) []string {
	spec, _ := obj["spec"].(map[string]any)
	traffic, _ := spec["traffic"].([]any)
	var out []string
	for _, t := range traffic {
		if m, ok := t.(map[string]any); ok {
			if tag, _ := m["tag"].(string); tag != "" {
				out = append(out, tag)
			}
		}
	}
	return out
}

// collectActionTags registers the tags setTraffic actions create, so streams may target them.
func (v *validator) collectActionTags() {
	for _, a := range v.s.Spec.Actions {
		if a.SetTraffic == nil {
			continue
		}
		if tags, ok := v.tags[a.SetTraffic.Service]; ok {
			for _, t := range a.SetTraffic.Traffic {
				if t.Tag != "" {
					tags[t.Tag] = true
				}
			}
		}
	}
}

// host checks that name is a Knative Service or Route (something with a URL).
func (v *validator) host(path, name string) bool {
	if name == "" {
		v.add(path, "required; want the name of a Knative Service or Route in spec.services (%s)", v.names(v.ksvcs, v.routes))
		return false
	}
	if v.ksvcs[name] == nil && v.routes[name] == nil {
		v.add(path, "%q is not a Knative Service or Route in spec.services (%s)", name, v.names(v.ksvcs, v.routes))
		return false
	}
	return true
}

// hostObject returns the Knative Service or Route named name, or nil.
func (v *validator) hostObject(name string) *knObject {
	if ko := v.ksvcs[name]; ko != nil {
		return ko
	}
	return v.routes[name]
}

// isClusterLocal reports whether a Service or Route has only a cluster-local URL (§1.8).
func isClusterLocal(obj map[string]any) bool {
	meta, _ := obj["metadata"].(map[string]any)
	labels, _ := meta["labels"].(map[string]any)
	return labels[serving.VisibilityLabelKey] == serving.VisibilityClusterLocal
}

// owner checks that name is a Knative Service or Configuration (something with revisions).
func (v *validator) owner(path, name string) bool {
	if name == "" {
		v.add(path, "required; want the name of a Knative Service or Configuration in spec.services (%s)", v.names(v.ksvcs, v.configs))
		return false
	}
	if v.ksvcs[name] == nil && v.configs[name] == nil {
		v.add(path, "%q is not a Knative Service or Configuration in spec.services (%s)", name, v.names(v.ksvcs, v.configs))
		return false
	}
	return true
}

// revision checks a revision name: Knative names revisions <configuration>-<suffix>.
func (v *validator) revision(path, owner, rev string) {
	if rev == "" {
		return
	}
	if msgs := validation.IsDNS1123Label(rev); len(msgs) > 0 {
		v.add(path, "%q is not a revision name: %s", rev, strings.Join(msgs, "; "))
		return
	}
	if owner != "" && !strings.HasPrefix(rev, owner+"-") {
		v.add(path, "%q is not a revision of %s; its revisions are named %s-<suffix> (e.g. %s-00001)", rev, owner, owner, owner)
	}
}

// tag checks that tag is a traffic tag of host.
func (v *validator) tag(path, host, tag string) {
	if tag == "" || v.tags[host] == nil {
		return
	}
	if !v.tags[host][tag] {
		known := slices.Sorted(maps.Keys(v.tags[host]))
		if len(known) == 0 {
			v.add(path, "%s has no traffic tags; tags come from its spec.traffic or a setTraffic action", host)
			return
		}
		v.add(path, "%q is not a traffic tag of %s (%s)", tag, host, strings.Join(known, ", "))
	}
}

func (v *validator) names(sets ...map[string]*knObject) string {
	var all []string
	for _, s := range sets {
		all = append(all, slices.Collect(maps.Keys(s))...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	if len(all) == 0 {
		return "none defined"
	}
	return strings.Join(all, ", ")
}

func (v *validator) stream(i int) {
	st := &v.s.Spec.Workload[i]
	p := indexPath("spec.workload", i)
	if st.Name != "" {
		if msgs := validation.IsDNS1123Label(st.Name); len(msgs) > 0 {
			v.add(p+".name", "%q is not a valid stream name: %s", st.Name, strings.Join(msgs, "; "))
		} else if slices.ContainsFunc(v.s.Spec.Workload[:i], func(o Stream) bool { return o.Name == st.Name }) {
			v.add(p+".name", "another stream is named %q; stream names must be unique", st.Name)
		}
	}
	t := st.Target
	tp := p + ".target"
	if v.host(tp+".service", t.Service) {
		v.tag(tp+".tag", t.Service, t.Tag)
	}
	if ko := v.hostObject(t.Service); ko != nil && !t.ClusterLocal && isClusterLocal(ko.obj) {
		v.add(tp+".clusterLocal", "%s is cluster-local (label %s: %s), so it has no external URL; set clusterLocal: true",
			t.Service, serving.VisibilityLabelKey, serving.VisibilityClusterLocal)
	}
	if t.Path != "" && !strings.HasPrefix(t.Path, "/") {
		v.add(tp+".path", "%q; want a path starting with / (e.g. /?sleep=100)", t.Path)
	}
	for _, h := range slices.Sorted(maps.Keys(t.Headers)) {
		switch {
		case strings.EqualFold(h, "Host"):
			v.add(fieldPath(tp+".headers", h), "the Host header comes from the target (service, tag, clusterLocal); leave it out")
		case len(validation.IsHTTPHeaderName(h)) > 0:
			v.add(fieldPath(tp+".headers", h), "%q is not an HTTP header name", h)
		}
	}
	if st.Start < 0 {
		v.add(p+".start", "%s is negative; want a time ≥ 0", st.Start)
	}
	if len(st.Phases) == 0 {
		v.add(p+".phases", "required; want at least one phase (%s)", phaseKinds)
	}
	for j, ph := range st.Phases {
		pp := indexPath(p+".phases", j)
		if v.oneOf(pp, "phase", phaseKinds, len(ph.loads()), ph.Pacing() != nil) {
			l := ph.Pacing()
			l.validate(v, fieldPath(pp, l.Kind()))
		}
	}
	if end := st.End(); end > MaxDuration {
		v.add(p, "ends at %s; a scenario may last at most %s", end, MaxDuration)
	}
}

// rate checks a rate field: ≥ 0 (> 0 if positive), at most MaxRate.
func (v *validator) rate(path string, r Rate, positive bool) {
	switch {
	case r < 0 || (positive && r == 0):
		v.add(path, "%s; want a rate > 0 like 50 or \"50/s\"", r)
	case r > MaxRate:
		v.add(path, "%s is above the limit of %d/s", r, MaxRate)
	}
}

// positive checks a duration field that must be > 0.
func (v *validator) positive(path string, d Duration) {
	switch {
	case d <= 0:
		v.add(path, "required; want a duration > 0 like \"30s\"")
	case d.D() > MaxDuration:
		v.add(path, "%s is longer than a scenario may last (%s)", d, MaxDuration)
	}
}

// nonNegative checks an optional time or duration field.
func (v *validator) nonNegative(path string, d Duration) {
	switch {
	case d < 0:
		v.add(path, "%s is negative; want a time ≥ 0", d)
	case d.D() > MaxDuration:
		v.add(path, "%s is later than a scenario may last (%s)", d, MaxDuration)
	}
}

func (c *ConstantPhase) validate(v *validator, p string) {
	v.rate(p+".rate", c.Rate, true)
	v.positive(p+".duration", c.Duration)
}

func (r *RampPhase) validate(v *validator, p string) {
	v.rate(p+".from", r.From, false)
	v.rate(p+".to", r.To, false)
	if r.From == 0 && r.To == 0 {
		v.add(p, "from and to are both 0; use idle for no load")
	}
	v.positive(p+".duration", r.Duration)
}

func (s *StepPhase) validate(v *validator, p string) {
	v.rate(p+".from", s.From, false)
	v.rate(p+".to", s.To, false)
	if s.Steps < 2 || s.Steps > 1000 {
		v.add(p+".steps", "%d; want 2 to 1000 levels (use constant for one)", s.Steps)
	}
	v.positive(p+".duration", s.Duration)
}

func (s *SinePhase) validate(v *validator, p string) {
	v.rate(p+".mean", s.Mean, true)
	v.rate(p+".amplitude", s.Amplitude, false)
	if s.Amplitude > s.Mean {
		v.add(p+".amplitude", "%s is above the mean %s; the rate would go negative", s.Amplitude, s.Mean)
	} else if s.Mean+s.Amplitude > MaxRate {
		v.add(p, "peaks at %s, above the limit of %d/s", s.Mean+s.Amplitude, MaxRate)
	}
	v.positive(p+".period", s.Period)
	v.positive(p+".duration", s.Duration)
}

func (b *BurstPhase) validate(v *validator, p string) {
	if b.Requests < 1 || b.Requests > MaxRate {
		v.add(p+".requests", "%d; want 1 to %d requests", b.Requests, MaxRate)
	}
	v.nonNegative(p+".within", b.Within)
	if b.Within > 0 && float64(b.Requests)/b.Within.D().Seconds() > MaxRate {
		v.add(p, "%d requests within %s is above the limit of %d/s", b.Requests, b.Within, MaxRate)
	}
}

func (i *IdlePhase) validate(v *validator, p string) { v.positive(p+".duration", i.Duration) }

func (c *ConcurrentPhase) validate(v *validator, p string) {
	if c.Clients < 1 || c.Clients > MaxClients {
		v.add(p+".clients", "%d; want 1 to %d clients", c.Clients, MaxClients)
	}
	v.nonNegative(p+".think", c.Think)
	v.positive(p+".duration", c.Duration)
}

func (t *TracePhase) validate(v *validator, p string) {
	if t.File == "" && len(t.Arrivals) == 0 {
		v.add(p, "want file (a trace of arrival times) or arrivals (a list of times)")
		return
	}
	if t.File != "" && v.s.source == "" {
		v.add(p+".file", "a scenario built in Go has no directory to read %s from; set Arrivals", t.File)
	}
	if t.File != "" && v.s.pos[p+".arrivals"] != (position{}) {
		v.add(p, "set file or arrivals, not both")
	}
	// Peak rate over any one-second window, and order.
	lo := 0
	for i, a := range t.Arrivals {
		if a < 0 || (i > 0 && a < t.Arrivals[i-1]) {
			v.add(indexPath(p+".arrivals", i), "%s; arrival times must be ≥ 0 and not decrease", a)
			return
		}
		for a.D()-t.Arrivals[lo].D() >= time.Second {
			lo++
		}
		if i-lo+1 > MaxRate {
			v.add(p, "more than %d arrivals within one second (at %s)", MaxRate, a)
			return
		}
	}
	if t.Length() > MaxDuration {
		v.add(p, "lasts %s; a scenario may last at most %s", t.Length(), MaxDuration)
	}
}

func (v *validator) action(p string, a Action) {
	switch {
	case a.At == nil && a.When == nil:
		v.add(p, "want at (a time) or when (a condition)")
	case a.At != nil && a.When != nil:
		v.add(p, "set at or when, not both")
	case a.At != nil:
		v.nonNegative(p+".at", *a.At)
	default:
		v.condition(p+".when", *a.When)
	}
	if v.oneOf(p, "action", actionKinds, len(a.effects()), a.Effect() != nil) {
		e := a.Effect()
		e.validate(v, fieldPath(p, e.Kind()))
	}
}

func (v *validator) condition(p string, c Condition) {
	if v.owner(p+".service", c.Service) {
		v.revision(p+".revision", c.Service, c.Revision)
	}
	if c.ReadyPods == nil && c.DesiredPods == nil && c.Panicking == nil && c.SKSMode == "" {
		v.add(p, "no condition; set readyPods, desiredPods, panicking or sksMode")
	}
	v.count(p+".readyPods", c.ReadyPods)
	v.count(p+".desiredPods", c.DesiredPods)
	if c.SKSMode != "" && c.SKSMode != SKSModeServe && c.SKSMode != SKSModeProxy {
		v.add(p+".sksMode", "%q; want %s or %s", c.SKSMode, SKSModeServe, SKSModeProxy)
	}
	v.nonNegative(p+".after", c.After)
}

func (v *validator) count(p string, c *Count) {
	if c != nil && (c.Min < 0 || c.Max < c.Min) {
		v.add(p, "%s is an empty range; want min ≤ max, both ≥ 0", c)
	}
}

func (u *UpdateService) validate(v *validator, p string) {
	if u.Name == "" || v.ksvcs[u.Name] == nil {
		if u.Name == "" {
			v.add(p+".name", "required; want a Knative Service in spec.services (%s)", v.names(v.ksvcs))
		} else {
			v.add(p+".name", "%q is not a Knative Service in spec.services (%s)", u.Name, v.names(v.ksvcs))
		}
		return
	}
	if len(u.Patch) == 0 {
		v.add(p+".patch", "required; want a merge patch of the Service, e.g. {spec: {template: {metadata: {annotations: {...}}}}}")
		return
	}
	v.patched(p+".patch", v.ksvcs[u.Name], u.Patch)
}

// patched checks that a merge patch leaves the object valid for Knative (validated as an update).
func (v *validator) patched(p string, ko *knObject, patch map[string]any) {
	orig, err := json.Marshal(ko.obj)
	if err != nil || !ko.valid {
		return
	}
	pb, err := json.Marshal(patch)
	if err != nil {
		v.add(p, "%s", err)
		return
	}
	merged, err := jsonpatch.MergePatch(orig, pb)
	if err != nil {
		v.add(p, "cannot apply the merge patch: %s", err)
		return
	}
	var obj map[string]any
	if err := json.Unmarshal(merged, &obj); err != nil {
		v.add(p, "%s", err)
		return
	}
	if obj["kind"] != ko.kind || obj["apiVersion"] != servingv1.SchemeGroupVersion.String() {
		v.add(p, "the patch must not change apiVersion or kind")
		return
	}
	if m, _ := obj["metadata"].(map[string]any); m["name"] != ko.name {
		v.add(p, "the patch must not rename %s", ko.name)
		return
	}
	old := knativeKinds[ko.kind]()
	if err := json.Unmarshal(orig, old); err != nil {
		return
	}
	if webhook.SetDefaults(old, webhook.Options{Config: v.cfg}) != nil {
		return
	}
	v.knativeCheck(knativeKinds[ko.kind](), obj, old, func(path, msg string, atKey bool) {
		e := Error{File: v.s.source, Path: joinPath(p, path), Msg: "after the patch: " + msg}
		v.errs = append(v.errs, locate(e, v.s.pos, atKey))
	})
}

func (s *SetTraffic) validate(v *validator, p string) {
	if !v.host(p+".service", s.Service) {
		return
	}
	if len(s.Traffic) == 0 {
		v.add(p+".traffic", "required; want a traffic block like [{revisionName: %s-00001, percent: 100}]", s.Service)
		return
	}
	ko := v.hostObject(s.Service)
	traffic := make([]any, len(s.Traffic))
	for i, t := range s.Traffic {
		b, _ := json.Marshal(t)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		traffic[i] = m
	}
	v.patched(p, ko, map[string]any{"spec": map[string]any{"traffic": traffic}})
}

func (s *SetConfig) validate(v *validator, p string) {
	if !slices.Contains(config.Names, s.ConfigMap) {
		v.add(p+".configMap", "%q is not a Knative ConfigMap; want one of %s", s.ConfigMap, strings.Join(config.Names, ", "))
		return
	}
	if len(s.Data) == 0 {
		v.add(p+".data", "required; want the keys to set, e.g. {stable-window: 6s}")
		return
	}
	merged := maps.Clone(v.overrides[s.ConfigMap])
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, s.Data)
	v.configData(p+".data", s.ConfigMap, merged)
}

func (k *KillPod) validate(v *validator, p string) {
	if v.owner(p+".service", k.Service) {
		v.revision(p+".revision", k.Service, k.Revision)
	}
	if k.Count < 0 || k.Count > 1000 {
		v.add(p+".count", "%d; want 1 to 1000 pods (0: 1)", k.Count)
	}
}

func (f *FailPod) validate(v *validator, p string) {
	if v.owner(p+".service", f.Service) {
		v.revision(p+".revision", f.Service, f.Revision)
	}
	if f.Count < 0 || f.Count > 1000 {
		v.add(p+".count", "%d; want 1 to 1000 pods (0: 1)", f.Count)
	}
	if f.ExitCode < 0 || f.ExitCode > 255 {
		v.add(p+".exitCode", "%d; want an exit code 1 to 255 (0: 1)", f.ExitCode)
	}
}

func (s *SetApp) validate(v *validator, p string) {
	if v.owner(p+".service", s.Service) {
		v.revision(p+".revision", s.Service, s.Revision)
	}
	if s.ServiceTime == "" && s.ErrorRate == nil && s.Concurrency == nil {
		v.add(p, "nothing to set; want serviceTime, errorRate or concurrency")
	}
	v.sampler(p+".serviceTime", s.ServiceTime)
	if s.ErrorRate != nil {
		v.fraction(p+".errorRate", *s.ErrorRate)
	}
	if s.Concurrency != nil && *s.Concurrency < 0 {
		v.add(p+".concurrency", "%d is negative; want ≥ 0 (0: unlimited)", *s.Concurrency)
	}
}

// Expectations.

func (v *validator) measure(p, m string) {
	switch m {
	case "", MeasureReady, MeasureDesired, MeasureActual:
	default:
		v.add(p, "%q; want %s, %s or %s", m, MeasureReady, MeasureDesired, MeasureActual)
	}
}

func (v *validator) percentiles(p string, ps Percentiles, required bool) {
	if len(ps) == 0 && required {
		v.add(p, "required; want bounds like {p50: 100ms, p95: 1s}")
	}
	for _, k := range slices.Sorted(maps.Keys(ps)) {
		kp := fieldPath(p, string(k))
		if !k.valid() {
			v.add(kp, "%q is not a statistic; %s", string(k), percentileHelp)
			continue
		}
		if b := ps[k]; b.Min < 0 || b.Max < 0 || (b.Max > 0 && b.Max < b.Min) {
			v.add(kp, "%s is an empty range; want min ≤ max", b)
		}
	}
}

// window checks an optional From..To window.
func (v *validator) window(p string, from Duration, to *Duration) {
	v.nonNegative(p+".from", from)
	if to != nil {
		v.nonNegative(p+".to", *to)
		if *to <= from {
			v.add(p+".to", "%s is not after from (%s)", *to, from)
		}
	}
}

func (c *ColdStartExpect) validate(v *validator, p string) {
	if v.owner(p+".service", c.Service) {
		v.revision(p+".revision", c.Service, c.Revision)
	}
	if c.Count == nil && len(c.Percentiles) == 0 {
		v.add(p, "nothing to check; set count and/or percentiles")
	}
	v.count(p+".count", c.Count)
	v.percentiles(p+".percentiles", c.Percentiles, false)
}

func (e *PodsExpect) validate(v *validator, p string) {
	if v.owner(p+".service", e.Service) {
		v.revision(p+".revision", e.Service, e.Revision)
	}
	v.measure(p+".measure", e.Measure)
	switch {
	case e.At != nil && (e.From != nil || e.To != nil):
		v.add(p, "set at, or from and to, not both")
	case e.At != nil:
		v.nonNegative(p+".at", *e.At)
	case e.From == nil || e.To == nil:
		v.add(p, "want at (a time), or from and to (a window the count must hold throughout)")
	default:
		v.window(p, *e.From, e.To)
	}
	v.count(p+".count", &e.Count)
}

func (e *MaxPodsExpect) validate(v *validator, p string) {
	if v.owner(p+".service", e.Service) {
		v.revision(p+".revision", e.Service, e.Revision)
	}
	v.measure(p+".measure", e.Measure)
	if e.Max < 0 {
		v.add(p+".max", "%d is negative; want a pod count ≥ 0", e.Max)
	}
}

func (e *ReachesExpect) validate(v *validator, p string) {
	if v.owner(p+".service", e.Service) {
		v.revision(p+".revision", e.Service, e.Revision)
	}
	v.measure(p+".measure", e.Measure)
	if e.Pods < 1 {
		v.add(p+".pods", "%d; want a pod count ≥ 1 (use scalesToZero for 0)", e.Pods)
	}
	v.positive(p+".within", e.Within)
	v.nonNegative(p+".after", e.After)
}

func (e *ScalesToZeroExpect) validate(v *validator, p string) {
	if v.owner(p+".service", e.Service) {
		v.revision(p+".revision", e.Service, e.Revision)
	}
	v.positive(p+".within", e.Within)
	if e.After != nil {
		v.nonNegative(p+".after", *e.After)
	}
}

func (e *PanicExpect) validate(v *validator, p string) {
	if v.owner(p+".service", e.Service) {
		v.revision(p+".revision", e.Service, e.Revision)
	}
	if e.Entered == nil {
		v.add(p+".entered", "required; true (panic mode must be entered) or false (never)")
	}
	v.window(p, e.From, e.To)
}

func (e *SKSModeSwitchesExpect) validate(v *validator, p string) {
	if v.owner(p+".service", e.Service) {
		v.revision(p+".revision", e.Service, e.Revision)
	}
	v.count(p+".count", &e.Count)
	v.window(p, e.From, e.To)
}

func (e *TrafficSplitExpect) validate(v *validator, p string) {
	if v.host(p+".service", e.Service) {
		v.tag(p+".tag", e.Service, e.Tag)
	}
	v.window(p, e.From, e.To)
	if e.Confidence != 0 && (e.Confidence <= 0 || e.Confidence >= 1) {
		v.add(p+".confidence", "%s; want a confidence level in (0, 1) like 0.999", formatFloat(float64(e.Confidence)))
	}
	if len(e.Shares) == 0 && e.Tag == "" && e.Service != "" {
		if ko := v.hostObject(e.Service); ko != nil {
			if spec, _ := ko.obj["spec"].(map[string]any); spec["traffic"] == nil && !v.trafficSetBy(e.Service) {
				v.add(p+".shares", "required: %s declares no traffic block to compare with", e.Service)
			}
		}
	}
	var total float64
	for i, s := range e.Shares {
		sp := indexPath(p+".shares", i)
		switch {
		case (s.Revision == "") == (s.Tag == ""):
			v.add(sp, "name the revision or its tag (one of the two)")
		case s.Tag != "":
			v.tag(sp+".tag", e.Service, s.Tag)
		default:
			if msgs := validation.IsDNS1123Label(s.Revision); len(msgs) > 0 {
				v.add(sp+".revision", "%q is not a revision name: %s", s.Revision, strings.Join(msgs, "; "))
			}
		}
		if s.Percent < 0 || s.Percent > 100 || math.IsNaN(s.Percent) {
			v.add(sp+".percent", "%s; want 0 to 100", formatFloat(s.Percent))
		}
		total += s.Percent
	}
	if len(e.Shares) > 0 && math.Abs(total-100) > 1e-9 {
		v.add(p+".shares", "percents add up to %s; want 100", formatFloat(total))
	}
}

func (v *validator) trafficSetBy(host string) bool {
	for _, a := range v.s.Spec.Actions {
		if a.SetTraffic != nil && a.SetTraffic.Service == host {
			return true
		}
	}
	return false
}

func (e *AppConcurrencyExpect) validate(v *validator, p string) {
	if v.owner(p+".service", e.Service) {
		v.revision(p+".revision", e.Service, e.Revision)
	}
	if e.Max < 1 {
		v.add(p+".max", "%d; want a request count ≥ 1", e.Max)
	}
}

func (v *validator) scope(p string, s Scope) {
	switch {
	case s.Stream != "" && (s.Service != "" || s.Tag != ""):
		v.add(p, "set stream, or service (and tag), not both")
	case s.Stream != "":
		if !v.streams[s.Stream] {
			v.add(p+".stream", "%q is not the name of a stream in spec.workload (%s)", s.Stream, strings.Join(slices.Sorted(maps.Keys(v.streams)), ", "))
		}
	case s.Service != "":
		if v.host(p+".service", s.Service) {
			v.tag(p+".tag", s.Service, s.Tag)
		}
	case s.Tag != "":
		v.add(p+".tag", "a tag needs its service")
	}
	v.window(p, s.From, s.To)
}

func (e *LatencyExpect) validate(v *validator, p string) {
	v.scope(p, e.Scope)
	v.percentiles(p+".percentiles", e.Percentiles, true)
}

func (e *ErrorRateExpect) validate(v *validator, p string) {
	v.scope(p, e.Scope)
	v.fraction(p+".max", e.Max)
}

var statusKey = regexp.MustCompile(`^([1-5][0-9][0-9]|[1-5]xx|error)$`)

func (e *StatusCodesExpect) validate(v *validator, p string) {
	v.scope(p, e.Scope)
	if len(e.Codes) == 0 {
		v.add(p+".codes", "required; want counts like {\"200\": \">=100\", 5xx: 0}")
	}
	for _, k := range slices.Sorted(maps.Keys(e.Codes)) {
		kp := fieldPath(p+".codes", k)
		if !statusKey.MatchString(k) {
			v.add(kp, "%q; want a status code (\"200\"), a class (2xx to 5xx) or error (no response)", k)
		}
		c := e.Codes[k]
		v.count(kp, &c)
	}
}

func (e *ThroughputExpect) validate(v *validator, p string) {
	v.scope(p, e.Scope)
	if e.Min == 0 && e.MinOfOffered == 0 {
		v.add(p, "nothing to check; set min (a rate) and/or minOfOffered (a fraction like \"99.9%%\")")
	}
	v.rate(p+".min", e.Min, false)
	v.fraction(p+".minOfOffered", e.MinOfOffered)
}
