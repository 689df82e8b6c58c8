package scenarios

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// APIVersion and Kind identify a scenario document.
const (
	APIVersion = "servingsim.dev/v1alpha1"
	Kind       = "Scenario"
)

// Bounds every scenario stays within, so a typo cannot start an hour-long flood.
const (
	// MaxRate is the highest request rate any load phase may ask for, per second.
	MaxRate = 50_000
	// MaxDuration is the longest a scenario may run: load, actions and expectation windows.
	MaxDuration = time.Hour
	// MaxClients bounds the closed-model clients of one concurrent phase.
	MaxClients = 10_000
	// MaxActivators bounds stack.activators.
	MaxActivators = 16
)

// Scenario is one servingsim scenario: the stack it runs on, the Knative objects it applies,
// the load it sends, the actions it takes and what it expects. YAML files (Load, Parse) and Go
// code (New) both produce it. Times in a scenario count from the moment every object in
// services is Ready.
type Scenario struct {
	// APIVersion is always servingsim.dev/v1alpha1.
	APIVersion string `json:"apiVersion"`
	// Kind is always Scenario.
	Kind string `json:"kind"`
	// Metadata names and labels the scenario.
	Metadata Metadata `json:"metadata"`
	// Spec is what the scenario does.
	Spec Spec `json:"spec"`

	// source is the file the scenario came from ("" when built in Go); pos maps field paths to
	// where they are written, for error messages.
	source string
	pos    positions
}

// Metadata names and describes a scenario.
type Metadata struct {
	// Name is the scenario's name: lowercase letters, digits and '-', at most 63 characters.
	// simctl run and list use it; reports and namespaces are named after it.
	Name string `json:"name"`
	// Labels are key/value pairs to select scenarios with (simctl list --labels, ginkgo label
	// filters), with Kubernetes label syntax.
	Labels map[string]string `json:"labels,omitempty"`
	// Description says what the scenario holds and which Knative behaviour or benchmark it
	// cites; its first line is the one-line summary simctl list prints.
	Description string `json:"description,omitempty"`
}

// Spec is the body of a scenario.
type Spec struct {
	// Stack configures the simulated Knative installation.
	Stack Stack `json:"stack,omitempty"`
	// Services are the Knative objects (Services, Configurations, Routes) applied, unchanged,
	// before the scenario's clock starts. At least one.
	Services []Service `json:"services"`
	// Workload is the load: streams of requests, each to one target host.
	Workload []Stream `json:"workload,omitempty"`
	// Actions change the system while the load runs.
	Actions []Action `json:"actions,omitempty"`
	// Expect lists the assertions the run must meet. Request accounting (every request sent
	// has exactly one outcome) is always checked and needs no entry.
	Expect []Expectation `json:"expect,omitempty"`
}

// Stack configures the simulated Knative installation a scenario runs on.
type Stack struct {
	// Seed seeds every random stream. 0 leaves it to the runner (simctl run --seed, default 1).
	Seed int64 `json:"seed,omitempty"`
	// Activators is how many activator instances run (Knative's default install: 1). 0 means 1.
	Activators int `json:"activators,omitempty"`
	// ConfigOverrides sets keys of Knative's config-* ConfigMaps in knative-serving, by
	// ConfigMap name and key, e.g. config-autoscaler: {stable-window: 6s}. Values are Knative's.
	ConfigOverrides map[string]map[string]string `json:"configOverrides,omitempty"`
	// PodStartup is the pod lifecycle model every revision gets unless its template's
	// sim.servingsim.dev/*-delay annotations override a phase.
	PodStartup PodStartup `json:"podStartup,omitempty"`
	// App is the app model of every user container unless its revision's sim.servingsim.dev/app-*
	// annotations or SIM_APP_* env override a field.
	App AppModel `json:"app,omitempty"`
	// DrainQuietPeriod is how long a terminating pod's queue-proxy waits without requests before
	// it exits (Knative: 30s). 0 keeps the harness default.
	DrainQuietPeriod Duration `json:"drainQuietPeriod,omitempty"`
}

// PodStartup gives each pod lifecycle phase a duration distribution (podruntime.StartupModel).
// Unset phases take no time.
type PodStartup struct {
	// Schedule: pod created → bound to the node.
	Schedule Distribution `json:"schedule,omitempty"`
	// ImagePull: bound → images pulled.
	ImagePull Distribution `json:"imagePull,omitempty"`
	// ContainerStart: images pulled → containers running.
	ContainerStart Distribution `json:"containerStart,omitempty"`
	// Startup: containers running → ready (the app's own startup), e.g. "lognormal(1.2s,0.3)".
	Startup Distribution `json:"startup,omitempty"`
	// Drain: deletion observed → containers exit.
	Drain Distribution `json:"drain,omitempty"`
}

// AppModel is the default behaviour of user containers (stack/app Config).
type AppModel struct {
	// ServiceTime is drawn per request unless the request has ?sleep=. Default 0.
	ServiceTime Distribution `json:"serviceTime,omitempty"`
	// ErrorRate is the probability that a request ends in 500, in [0, 1].
	ErrorRate Fraction `json:"errorRate,omitempty"`
	// Concurrency is how many requests the app works on at once; 0 is unlimited.
	Concurrency int `json:"concurrency,omitempty"`
	// Overflow is what the app does beyond Concurrency: "queue" (default) or "reject" (503).
	Overflow string `json:"overflow,omitempty"`
	// StartupDelay is the time from listen to the port answering, drawn once per pod.
	StartupDelay Distribution `json:"startupDelay,omitempty"`
	// ResponseBytes pads each 200 body by this many bytes.
	ResponseBytes int `json:"responseBytes,omitempty"`
}

// Service is one entry of spec.services: an inline Knative object, or {file: PATH} naming a
// YAML file of Knative objects relative to the scenario file. The objects are applied unchanged.
type Service struct {
	// File is the path as written in the scenario; empty for an inline object.
	File string
	// Objects are the Knative objects: the inline object, or every document of File (read by
	// the loader). Each is a JSON-compatible map.
	Objects []map[string]any

	// display is how errors name File (joined to the scenario's directory); pos maps paths
	// inside each object to where they are written in File.
	display string
	pos     []positions
}

// Inline returns a spec.services entry holding obj, which is marshalled to JSON (a typed
// Knative object such as *servingv1.Service, an *unstructured.Unstructured, or a map).
func Inline(obj any) (Service, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return Service{}, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return Service{}, err
	}
	if m == nil {
		return Service{}, fmt.Errorf("%T marshals to null, want a Knative object", obj)
	}
	return Service{Objects: []map[string]any{wholeNumbers(m).(map[string]any)}}, nil
}

// wholeNumbers turns the float64 whole numbers encoding/json produces into int64, as the YAML
// loader gives them, so a Go-built object equals the same object loaded from YAML.
func wholeNumbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = wholeNumbers(e)
		}
	case []any:
		for i, e := range t {
			t[i] = wholeNumbers(e)
		}
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return int64(t)
		}
	}
	return v
}

// Unstructured returns copies of the entry's objects, ready for a client to create.
func (s Service) Unstructured() []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, 0, len(s.Objects))
	for _, o := range s.Objects {
		u := &unstructured.Unstructured{Object: deepCopyJSON(o)}
		out = append(out, u)
	}
	return out
}

// MarshalJSON renders a file entry as {file: PATH} and an inline one as the object itself.
func (s Service) MarshalJSON() ([]byte, error) {
	if s.File != "" || len(s.Objects) != 1 {
		return json.Marshal(struct {
			File string `json:"file"`
		}{s.File})
	}
	return json.Marshal(s.Objects[0])
}

// Objects returns every Knative object of the scenario, in spec.services order.
func (s *Scenario) Objects() []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, svc := range s.Spec.Services {
		out = append(out, svc.Unstructured()...)
	}
	return out
}

// Source is the file the scenario was loaded from ("" when built in Go).
func (s *Scenario) Source() string { return s.source }

// Duration is how long the scenario runs from its clock's start: the end of the last load
// stream, action time or expectation window.
func (s *Scenario) Duration() time.Duration {
	var end time.Duration
	for _, st := range s.Spec.Workload {
		end = max(end, st.End())
	}
	for _, a := range s.Spec.Actions {
		if a.At != nil {
			end = max(end, a.At.D())
		}
		if a.When != nil {
			end = max(end, a.When.After.D())
		}
	}
	for _, e := range s.Spec.Expect {
		if c := e.Check(); c != nil {
			end = max(end, c.horizon(s))
		}
	}
	return end
}

// loadEnd is when the last request to service is due: the end of the last phase that sends,
// trailing idle phases left out (0 if no stream sends to it).
func (s *Scenario) loadEnd(service string) time.Duration {
	var end time.Duration
	for _, st := range s.Spec.Workload {
		if st.Target.Service != service {
			continue
		}
		at := st.Start.D()
		for _, p := range st.Phases {
			if l := p.Pacing(); l != nil {
				at += l.Length()
				if p.Idle == nil {
					end = max(end, at)
				}
			}
		}
	}
	return end
}

// deepCopyJSON copies a JSON-compatible value.
func deepCopyJSON[T any](v T) T {
	return copyJSONValue(any(v)).(T)
}

func copyJSONValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = copyJSONValue(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = copyJSONValue(e)
		}
		return out
	}
	return v
}
