package scenarios

import (
	"fmt"
	"time"
)

// Builder builds a Scenario in Go, the same value a YAML file loads to:
//
//	s, err := scenarios.New("hello-load").
//		WithService(ksvc).
//		Config("config-autoscaler", "stable-window", "6s").
//		Ramp("hello", 0, 50, 10*time.Second).
//		Constant("hello", 50, 30*time.Second).
//		Expect(&scenarios.ErrorRateExpect{}).
//		Build()
//
// Methods record the first error (a service that does not marshal, an unknown effect type) and
// Build returns it, or the scenario's validation errors.
type Builder struct {
	s   Scenario
	err error
}

// New starts a scenario named name.
func New(name string) *Builder {
	return &Builder{s: Scenario{APIVersion: APIVersion, Kind: Kind, Metadata: Metadata{Name: name}}}
}

// Describe sets metadata.description.
func (b *Builder) Describe(text string) *Builder {
	b.s.Metadata.Description = text
	return b
}

// Label sets a metadata label.
func (b *Builder) Label(key, value string) *Builder {
	if b.s.Metadata.Labels == nil {
		b.s.Metadata.Labels = map[string]string{}
	}
	b.s.Metadata.Labels[key] = value
	return b
}

// Seed sets spec.stack.seed.
func (b *Builder) Seed(seed int64) *Builder {
	b.s.Spec.Stack.Seed = seed
	return b
}

// Config sets one key of a config-* ConfigMap (spec.stack.configOverrides).
func (b *Builder) Config(configMap, key, value string) *Builder {
	st := &b.s.Spec.Stack
	if st.ConfigOverrides == nil {
		st.ConfigOverrides = map[string]map[string]string{}
	}
	if st.ConfigOverrides[configMap] == nil {
		st.ConfigOverrides[configMap] = map[string]string{}
	}
	st.ConfigOverrides[configMap][key] = value
	return b
}

// Stack replaces spec.stack except the config overrides and seed set so far.
func (b *Builder) Stack(st Stack) *Builder {
	keep := b.s.Spec.Stack
	b.s.Spec.Stack = st
	if st.ConfigOverrides == nil {
		b.s.Spec.Stack.ConfigOverrides = keep.ConfigOverrides
	}
	if st.Seed == 0 {
		b.s.Spec.Stack.Seed = keep.Seed
	}
	return b
}

// WithService adds a Knative object to spec.services: a typed object (*servingv1.Service, ...),
// an *unstructured.Unstructured or a map.
func (b *Builder) WithService(obj any) *Builder {
	svc, err := Inline(obj)
	if err != nil && b.err == nil {
		b.err = fmt.Errorf("WithService: %w", err)
	}
	if err == nil {
		b.s.Spec.Services = append(b.s.Spec.Services, svc)
	}
	return b
}

// Phase appends p to the last stream sending to target, starting a stream if there is none.
func (b *Builder) Phase(target Target, p Phase) *Builder {
	w := b.s.Spec.Workload
	for i := len(w) - 1; i >= 0; i-- {
		if sameTarget(w[i].Target, target) {
			w[i].Phases = append(w[i].Phases, p)
			return b
		}
	}
	b.s.Spec.Workload = append(w, Stream{Target: target, Phases: []Phase{p}})
	return b
}

func sameTarget(a, b Target) bool {
	if a.Service != b.Service || a.Tag != b.Tag || a.ClusterLocal != b.ClusterLocal || a.Path != b.Path || len(a.Headers) != len(b.Headers) {
		return false
	}
	for k, v := range a.Headers {
		if b.Headers[k] != v {
			return false
		}
	}
	return true
}

// Constant sends rate requests per second to service's URL for d.
func (b *Builder) Constant(service string, rate float64, d time.Duration) *Builder {
	return b.Phase(Target{Service: service}, Phase{Constant: &ConstantPhase{Rate: Rate(rate), Duration: Duration(d)}})
}

// Ramp changes the rate to service's URL linearly from from to to over d.
func (b *Builder) Ramp(service string, from, to float64, d time.Duration) *Builder {
	return b.Phase(Target{Service: service}, Phase{Ramp: &RampPhase{From: Rate(from), To: Rate(to), Duration: Duration(d)}})
}

// Idle sends nothing to service's URL for d.
func (b *Builder) Idle(service string, d time.Duration) *Builder {
	return b.Phase(Target{Service: service}, Phase{Idle: &IdlePhase{Duration: Duration(d)}})
}

// Concurrent runs clients closed-model clients against service's URL for d.
func (b *Builder) Concurrent(service string, clients int, d time.Duration) *Builder {
	return b.Phase(Target{Service: service}, Phase{Concurrent: &ConcurrentPhase{Clients: clients, Duration: Duration(d)}})
}

// At runs effect (e.g. &UpdateService{...}) at time t.
func (b *Builder) At(t time.Duration, effect Effect) *Builder {
	at := Duration(t)
	return b.action(Action{At: &at}, effect)
}

// When runs effect the first time c holds.
func (b *Builder) When(c Condition, effect Effect) *Builder {
	return b.action(Action{When: &c}, effect)
}

func (b *Builder) action(a Action, effect Effect) *Builder {
	switch e := effect.(type) {
	case *UpdateService:
		a.UpdateService = e
	case *SetTraffic:
		a.SetTraffic = e
	case *SetConfig:
		a.SetConfig = e
	case *KillPod:
		a.KillPod = e
	case *FailPod:
		a.FailPod = e
	case *SetApp:
		a.SetApp = e
	default:
		if b.err == nil {
			b.err = fmt.Errorf("action: unsupported effect %T", effect)
		}
		return b
	}
	b.s.Spec.Actions = append(b.s.Spec.Actions, a)
	return b
}

// Expect adds an expectation (e.g. &ReachesExpect{...}).
func (b *Builder) Expect(c Check) *Builder {
	var e Expectation
	switch t := c.(type) {
	case *ColdStartExpect:
		e.ColdStart = t
	case *PodsExpect:
		e.Pods = t
	case *MaxPodsExpect:
		e.MaxPods = t
	case *ReachesExpect:
		e.Reaches = t
	case *ScalesToZeroExpect:
		e.ScalesToZero = t
	case *PanicExpect:
		e.Panic = t
	case *SKSModeSwitchesExpect:
		e.SKSModeSwitches = t
	case *TrafficSplitExpect:
		e.TrafficSplit = t
	case *AppConcurrencyExpect:
		e.AppConcurrency = t
	case *LatencyExpect:
		e.Latency = t
	case *ErrorRateExpect:
		e.ErrorRate = t
	case *StatusCodesExpect:
		e.StatusCodes = t
	case *ThroughputExpect:
		e.Throughput = t
	default:
		if b.err == nil {
			b.err = fmt.Errorf("expect: unsupported check %T", c)
		}
		return b
	}
	b.s.Spec.Expect = append(b.s.Spec.Expect, e)
	return b
}

// Build validates the scenario and returns it.
func (b *Builder) Build() (*Scenario, error) {
	if b.err != nil {
		return nil, b.err
	}
	s := b.s
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}
