package app

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/podruntime"
	"github.com/servingsim/servingsim/stack/reconciler/revision/resources"
)

// Annotation keys of the app model (see the package doc). Each also works as a user-container
// env var named by EnvName, which wins over the annotation.
const (
	ServiceTimeKey   = podruntime.AnnotationPrefix + "app-service-time"
	ErrorRateKey     = podruntime.AnnotationPrefix + "app-error-rate"
	ConcurrencyKey   = podruntime.AnnotationPrefix + "app-concurrency"
	OverflowKey      = podruntime.AnnotationPrefix + "app-overflow"
	StartupDelayKey  = podruntime.AnnotationPrefix + "app-startup-delay"
	ResponseBytesKey = podruntime.AnnotationPrefix + "app-response-bytes"
)

// EnvName returns the env var that overrides an app annotation key:
// sim.servingsim.dev/app-service-time → SIM_APP_SERVICE_TIME.
func EnvName(key string) string {
	return "SIM_" + strings.ToUpper(strings.ReplaceAll(strings.TrimPrefix(key, podruntime.AnnotationPrefix), "-", "_"))
}

// Overflow is what the app does with a request beyond its concurrency limit.
type Overflow string

// Overflow policies.
const (
	// OverflowQueue makes the request wait inside the app until a slot frees (or the request
	// ends), like a single-threaded server's backlog.
	OverflowQueue Overflow = "queue"
	// OverflowReject answers 503 at once.
	OverflowReject Overflow = "reject"
)

// Config is the app model of one user container. The zero value (after defaulting Port) is a
// server that answers at once, never fails and has no limit.
type Config struct {
	// ServiceTime is drawn per request unless ?sleep is given. Key app-service-time. Default 0.
	ServiceTime Sampler
	// ErrorRate is the probability that a request ends in 500. Key app-error-rate. Default 0.
	ErrorRate float64
	// Concurrency is how many requests the app works on at once; 0 means unlimited.
	// Key app-concurrency. Default 0.
	Concurrency int
	// Overflow is the policy beyond Concurrency. Key app-overflow. Default OverflowQueue.
	Overflow Overflow
	// StartupDelay is the time from Listen to the port answering, drawn once per app.
	// Key app-startup-delay. Default 0.
	StartupDelay Sampler
	// ResponseBytes pads every 200 body by this many bytes. Key app-response-bytes. Default 0.
	ResponseBytes int
	// Port is the container's PORT env (§7.2). Default 8080.
	Port int32
	// Env is the container's env as the app sees it (PORT, K_SERVICE, K_CONFIGURATION,
	// K_REVISION, ...); echo reports it.
	Env map[string]string
}

// maxResponseBytes bounds the padding so a typo cannot make every reply gigabytes long.
const maxResponseBytes = 64 << 20

// Validate reports every invalid field, naming its key.
func (c Config) Validate() error {
	var errs []error
	if c.ErrorRate < 0 || c.ErrorRate > 1 || math.IsNaN(c.ErrorRate) {
		errs = append(errs, fmt.Errorf("%s: want a probability in [0, 1], got %g", ErrorRateKey, c.ErrorRate))
	}
	if c.Concurrency < 0 {
		errs = append(errs, fmt.Errorf("%s: want >= 0, got %d", ConcurrencyKey, c.Concurrency))
	}
	if c.Overflow != "" && c.Overflow != OverflowQueue && c.Overflow != OverflowReject {
		errs = append(errs, fmt.Errorf("%s: want %q or %q, got %q", OverflowKey, OverflowQueue, OverflowReject, c.Overflow))
	}
	if c.ResponseBytes < 0 || c.ResponseBytes > maxResponseBytes {
		errs = append(errs, fmt.Errorf("%s: want 0..%d, got %d", ResponseBytesKey, maxResponseBytes, c.ResponseBytes))
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("env %s: want a port number, got %d", resources.EnvPort, c.Port))
	}
	return errors.Join(errs...)
}

// ParseConfig builds a Config from a pod's annotations and its user container's env (env wins,
// see EnvName). Every malformed value is reported, naming its annotation or env var.
func ParseConfig(annotations, env map[string]string) (Config, error) {
	c := Config{Overflow: OverflowQueue, Port: serving.DefaultUserPort, Env: env}
	var errs []error
	lookup := func(key string) (where, val string, ok bool) {
		if v, ok := env[EnvName(key)]; ok {
			return "env " + EnvName(key), strings.TrimSpace(v), true
		}
		if v, ok := annotations[key]; ok {
			return "annotation " + key, strings.TrimSpace(v), true
		}
		return "", "", false
	}
	fail := func(where, val, want string) {
		errs = append(errs, fmt.Errorf("%s: value %q: %s", where, val, want))
	}
	sampler := func(key string, dst *Sampler) {
		if where, v, ok := lookup(key); ok {
			s, err := ParseSampler(v)
			if err != nil {
				fail(where, v, err.Error())
				return
			}
			*dst = s
		}
	}
	integer := func(key string, dst *int) {
		if where, v, ok := lookup(key); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				fail(where, v, "want an integer")
				return
			}
			*dst = n
		}
	}
	sampler(ServiceTimeKey, &c.ServiceTime)
	sampler(StartupDelayKey, &c.StartupDelay)
	if where, v, ok := lookup(ErrorRateKey); ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			fail(where, v, "want a probability in [0, 1]")
		} else {
			c.ErrorRate = f
		}
	}
	integer(ConcurrencyKey, &c.Concurrency)
	integer(ResponseBytesKey, &c.ResponseBytes)
	if where, v, ok := lookup(OverflowKey); ok {
		c.Overflow = Overflow(strings.ToLower(v))
		if c.Overflow != OverflowQueue && c.Overflow != OverflowReject {
			fail(where, v, fmt.Sprintf("want %q or %q", OverflowQueue, OverflowReject))
		}
	}
	if v, ok := env[resources.EnvPort]; ok {
		p, err := strconv.ParseUint(strings.TrimSpace(v), 10, 16)
		if err != nil {
			fail("env "+resources.EnvPort, v, "want a port number")
		} else {
			c.Port = int32(p)
		}
	}
	if len(errs) == 0 {
		if err := c.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return c, errors.Join(errs...)
}

// ConfigFromPod parses the app model of pod's user container (UserContainer).
func ConfigFromPod(pod *corev1.Pod) (Config, error) {
	uc := UserContainer(pod)
	if uc == nil {
		return Config{}, fmt.Errorf("pod %s/%s has no user container", pod.Namespace, pod.Name)
	}
	cfg, err := ParseConfig(pod.Annotations, ResolveEnv(pod, uc))
	if err != nil {
		return cfg, fmt.Errorf("pod %s/%s app config: %w", pod.Namespace, pod.Name, err)
	}
	return cfg, nil
}

// UserContainer returns the container that serves traffic: the one named user-container, else
// the first that declares a port, else the first that is not the queue-proxy; nil if none.
func UserContainer(pod *corev1.Pod) *corev1.Container {
	cs := pod.Spec.Containers
	for i := range cs {
		if cs[i].Name == serving.UserContainerDefaultName {
			return &cs[i]
		}
	}
	for i := range cs {
		if cs[i].Name != serving.QueueContainerName && len(cs[i].Ports) > 0 {
			return &cs[i]
		}
	}
	for i := range cs {
		if cs[i].Name != serving.QueueContainerName {
			return &cs[i]
		}
	}
	return nil
}

// ResolveEnv returns c's env as the kubelet would set it: literal values, and the downward-API
// fields metadata.name, metadata.namespace, metadata.uid, status.podIP and status.hostIP.
// Values from ConfigMaps or Secrets are left out. Later entries win, as in a container.
func ResolveEnv(pod *corev1.Pod, c *corev1.Container) map[string]string {
	env := make(map[string]string, len(c.Env))
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
			continue
		}
		if f := e.ValueFrom.FieldRef; f != nil {
			switch f.FieldPath {
			case "metadata.name":
				env[e.Name] = pod.Name
			case "metadata.namespace":
				env[e.Name] = pod.Namespace
			case "metadata.uid":
				env[e.Name] = string(pod.UID)
			case "status.podIP":
				env[e.Name] = pod.Status.PodIP
			case "status.hostIP":
				env[e.Name] = pod.Status.HostIP
			}
		}
	}
	return env
}

// LoopbackAddr parses host and checks that it is a loopback address: every simulated listener
// binds one.
func LoopbackAddr(host string) (netip.Addr, error) {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("address %q: %w", host, err)
	}
	if !a.IsLoopback() {
		return netip.Addr{}, fmt.Errorf("address %s is not a loopback address; simulated pods listen on loopback only", a)
	}
	return a, nil
}
