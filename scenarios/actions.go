package scenarios

import (
	"fmt"
	"slices"
	"strings"
)

// Action changes the system during a run: at a time (At) or the first time a condition holds
// (When), exactly one of the two; and exactly one effect field.
type Action struct {
	// At is when the action runs.
	At *Duration `json:"at,omitempty"`
	// When runs the action once, the first time the condition holds.
	When *Condition `json:"when,omitempty"`

	// UpdateService applies a JSON merge patch to a Knative Service (a template change makes a
	// new revision).
	UpdateService *UpdateService `json:"updateService,omitempty"`
	// SetTraffic replaces a Service's or Route's traffic block.
	SetTraffic *SetTraffic `json:"setTraffic,omitempty"`
	// SetConfig sets keys of a config-* ConfigMap.
	SetConfig *SetConfig `json:"setConfig,omitempty"`
	// KillPod deletes pods gracefully, as `kubectl delete pod` does.
	KillPod *KillPod `json:"killPod,omitempty"`
	// FailPod crashes the user container of pods.
	FailPod *FailPod `json:"failPod,omitempty"`
	// SetApp changes the app model of a service's running pods.
	SetApp *SetApp `json:"setApp,omitempty"`
}

// Effect is what every action kind implements.
type Effect interface {
	// Kind is the action's key in YAML: "updateService", ...
	Kind() string
	// Describe says what the action does, for reports.
	Describe() string
	validate(v *validator, path string)
}

var (
	_ Effect = (*UpdateService)(nil)
	_ Effect = (*SetTraffic)(nil)
	_ Effect = (*SetConfig)(nil)
	_ Effect = (*KillPod)(nil)
	_ Effect = (*FailPod)(nil)
	_ Effect = (*SetApp)(nil)
)

const actionKinds = "updateService, setTraffic, setConfig, killPod, failPod or setApp"

// Effect returns the action's one set kind, or nil if none is set.
func (a Action) Effect() Effect {
	if es := a.effects(); len(es) > 0 {
		return es[0]
	}
	return nil
}

func (a Action) effects() []Effect {
	var out []Effect
	add := func(set bool, e Effect) {
		if set {
			out = append(out, e)
		}
	}
	add(a.UpdateService != nil, a.UpdateService)
	add(a.SetTraffic != nil, a.SetTraffic)
	add(a.SetConfig != nil, a.SetConfig)
	add(a.KillPod != nil, a.KillPod)
	add(a.FailPod != nil, a.FailPod)
	add(a.SetApp != nil, a.SetApp)
	return out
}

// Describe says when the action runs and what it does: "at 30s: update service hello".
func (a Action) Describe() string {
	when := "never"
	switch {
	case a.At != nil:
		when = "at " + a.At.String()
	case a.When != nil:
		when = "when " + a.When.Describe()
	}
	what := "nothing"
	if e := a.Effect(); e != nil {
		what = e.Describe()
	}
	return when + ": " + what
}

// Condition is a predicate on one service's autoscaling state; every field set must hold.
type Condition struct {
	// Service is the Knative Service or Configuration whose revision is watched.
	Service string `json:"service"`
	// Revision names the revision; default the latest created one.
	Revision string `json:"revision,omitempty"`
	// ReadyPods holds when the revision's ready pod count is in the range.
	ReadyPods *Count `json:"readyPods,omitempty"`
	// DesiredPods holds when the autoscaler's desired scale is in the range.
	DesiredPods *Count `json:"desiredPods,omitempty"`
	// Panicking holds when the autoscaler is (true) or is not (false) in panic mode.
	Panicking *bool `json:"panicking,omitempty"`
	// SKSMode holds when the ServerlessService is in this mode: Serve or Proxy.
	SKSMode string `json:"sksMode,omitempty"`
	// After is the earliest time the condition is checked. Default 0.
	After Duration `json:"after,omitempty"`
}

// Describe renders c: "hello has ready pods at least 3 and is panicking".
func (c Condition) Describe() string {
	var parts []string
	if c.ReadyPods != nil {
		parts = append(parts, "ready pods "+c.ReadyPods.Describe())
	}
	if c.DesiredPods != nil {
		parts = append(parts, "desired pods "+c.DesiredPods.Describe())
	}
	if c.Panicking != nil {
		if *c.Panicking {
			parts = append(parts, "panicking")
		} else {
			parts = append(parts, "not panicking")
		}
	}
	if c.SKSMode != "" {
		parts = append(parts, "SKS in "+c.SKSMode+" mode")
	}
	s := revisionOf(c.Service, c.Revision) + ": " + strings.Join(parts, " and ")
	if c.After > 0 {
		s += " (after " + c.After.String() + ")"
	}
	return s
}

// SKS modes (knative-semantics.md §3.6).
const (
	SKSModeServe = "Serve"
	SKSModeProxy = "Proxy"
)

// UpdateService applies Patch, a JSON merge patch (RFC 7386), to the Knative Service Name.
type UpdateService struct {
	// Name is the Knative Service to update.
	Name string `json:"name"`
	// Patch is merged into the Service, e.g. {spec: {template: {metadata: {annotations: {...}}}}}.
	Patch map[string]any `json:"patch"`
}

// Kind implements Effect.
func (*UpdateService) Kind() string { return "updateService" }

// Describe implements Effect.
func (u *UpdateService) Describe() string {
	keys := make([]string, 0, len(u.Patch))
	for k := range u.Patch {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return fmt.Sprintf("update service %s (patch %s)", u.Name, strings.Join(keys, ", "))
}

// SetTraffic replaces the traffic block of the Knative Service or Route Service.
type SetTraffic struct {
	// Service is the Knative Service or Route.
	Service string `json:"service"`
	// Traffic is the new traffic block, as in the Service's spec.traffic.
	Traffic []TrafficTarget `json:"traffic"`
}

// TrafficTarget is one entry of a traffic block, with Knative's fields.
type TrafficTarget struct {
	// Tag gives the target its own URL, tag-name.
	Tag string `json:"tag,omitempty"`
	// RevisionName pins a revision.
	RevisionName string `json:"revisionName,omitempty"`
	// ConfigurationName names a Configuration (Routes only).
	ConfigurationName string `json:"configurationName,omitempty"`
	// LatestRevision follows the latest ready revision when true.
	LatestRevision *bool `json:"latestRevision,omitempty"`
	// Percent is the share of traffic, 0 to 100.
	Percent *int64 `json:"percent,omitempty"`
}

// String renders t as "50% hello-00001 (tag blue)".
func (t TrafficTarget) String() string {
	who := t.RevisionName
	if who == "" {
		who = "latest"
		if t.ConfigurationName != "" {
			who += " of " + t.ConfigurationName
		}
	}
	s := who
	if t.Percent != nil {
		s = fmt.Sprintf("%d%% %s", *t.Percent, who)
	}
	if t.Tag != "" {
		s += " (tag " + t.Tag + ")"
	}
	return s
}

// Kind implements Effect.
func (*SetTraffic) Kind() string { return "setTraffic" }

// Describe implements Effect.
func (s *SetTraffic) Describe() string {
	parts := make([]string, len(s.Traffic))
	for i, t := range s.Traffic {
		parts[i] = t.String()
	}
	return fmt.Sprintf("set traffic of %s to %s", s.Service, strings.Join(parts, ", "))
}

// SetConfig sets keys of the config-* ConfigMap ConfigMap in knative-serving.
type SetConfig struct {
	// ConfigMap is the ConfigMap's name, e.g. config-autoscaler.
	ConfigMap string `json:"configMap"`
	// Data are the keys to set, with Knative's names and values.
	Data map[string]string `json:"data"`
}

// Kind implements Effect.
func (*SetConfig) Kind() string { return "setConfig" }

// Describe implements Effect.
func (s *SetConfig) Describe() string {
	keys := make([]string, 0, len(s.Data))
	for k := range s.Data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + s.Data[k]
	}
	return fmt.Sprintf("set %s %s", s.ConfigMap, strings.Join(parts, " "))
}

// KillPod deletes Count of a revision's pods gracefully: they drain, and the Deployment
// replaces them.
type KillPod struct {
	// Service is the Knative Service or Configuration.
	Service string `json:"service"`
	// Revision names the revision; default the latest created one.
	Revision string `json:"revision,omitempty"`
	// Count is how many pods to delete. Default 1.
	Count int `json:"count,omitempty"`
}

// Kind implements Effect.
func (*KillPod) Kind() string { return "killPod" }

// Describe implements Effect.
func (k *KillPod) Describe() string {
	return fmt.Sprintf("kill %d pod(s) of %s", max(k.Count, 1), revisionOf(k.Service, k.Revision))
}

// FailPod makes the user container of Count pods exit with ExitCode: the pods go not-ready and
// the kubelet restarts the container.
type FailPod struct {
	// Service is the Knative Service or Configuration.
	Service string `json:"service"`
	// Revision names the revision; default the latest created one.
	Revision string `json:"revision,omitempty"`
	// Count is how many pods fail. Default 1.
	Count int `json:"count,omitempty"`
	// ExitCode is the container's exit code, 1 to 255. Default 1.
	ExitCode int `json:"exitCode,omitempty"`
}

// Kind implements Effect.
func (*FailPod) Kind() string { return "failPod" }

// Describe implements Effect.
func (f *FailPod) Describe() string {
	return fmt.Sprintf("fail %d pod(s) of %s with exit code %d", max(f.Count, 1), revisionOf(f.Service, f.Revision), max(f.ExitCode, 1))
}

// SetApp changes the app model of the running pods of a revision (and of pods it starts later).
type SetApp struct {
	// Service is the Knative Service or Configuration.
	Service string `json:"service"`
	// Revision names the revision; default every revision of the service.
	Revision string `json:"revision,omitempty"`
	// ServiceTime is the new service-time distribution.
	ServiceTime Distribution `json:"serviceTime,omitempty"`
	// ErrorRate is the new probability of a 500.
	ErrorRate *Fraction `json:"errorRate,omitempty"`
	// Concurrency is the new app concurrency limit; 0 is unlimited.
	Concurrency *int `json:"concurrency,omitempty"`
}

// Kind implements Effect.
func (*SetApp) Kind() string { return "setApp" }

// Describe implements Effect.
func (s *SetApp) Describe() string {
	var parts []string
	if s.ServiceTime != "" {
		parts = append(parts, "service time "+string(s.ServiceTime))
	}
	if s.ErrorRate != nil {
		parts = append(parts, "error rate "+s.ErrorRate.String())
	}
	if s.Concurrency != nil {
		parts = append(parts, fmt.Sprintf("concurrency %d", *s.Concurrency))
	}
	who := s.Service
	if s.Revision != "" {
		who = s.Revision
	}
	return fmt.Sprintf("set app of %s: %s", who, strings.Join(parts, ", "))
}

// revisionOf names a service's revision for messages: "hello" (latest) or "hello-00002".
func revisionOf(service, revision string) string {
	if revision != "" {
		return revision
	}
	return service
}
