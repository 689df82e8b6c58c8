package queueproxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/app"
	"github.com/servingsim/servingsim/stack/reconciler/revision/resources"
)

// DefaultRevisionTimeout applies when REVISION_TIMEOUT_SECONDS is unset (config-defaults
// revision-timeout-seconds).
const DefaultRevisionTimeout = 300 * time.Second

// Config is the queue-proxy's view of its container env (§5 Env; built by the revision
// reconciler's resources.makeQueueContainer).
type Config struct {
	// ContainerConcurrency: CONTAINER_CONCURRENCY; 0 means no breaker. Default 0.
	ContainerConcurrency int
	// ServingPort: QUEUE_SERVING_PORT; 8013 serves h2c (and HTTP/1). Default 8012.
	ServingPort int32
	// UserPort: USER_PORT, where the app listens on the pod IP. Default 8080.
	UserPort int32
	// RevisionTimeout: REVISION_TIMEOUT_SECONDS; 0 disables. Default DefaultRevisionTimeout.
	RevisionTimeout time.Duration
	// ResponseStartTimeout: REVISION_RESPONSE_START_TIMEOUT_SECONDS; 0 disables. Default 0.
	ResponseStartTimeout time.Duration
	// IdleTimeout: REVISION_IDLE_TIMEOUT_SECONDS; 0 disables. Default 0.
	IdleTimeout time.Duration
	// ReadinessProbe: SERVING_READINESS_PROBE (JSON). Default TCP on the user port, aggressive.
	ReadinessProbe *corev1.Probe
	// Namespace, Service, Configuration, Revision, Pod: SERVING_{NAMESPACE,SERVICE,
	// CONFIGURATION,REVISION,POD}; they label the metrics.
	Namespace, Service, Configuration, Revision, Pod string
	// PodIP: SERVING_POD_IP, the loopback address every listener binds and the app is dialed on.
	PodIP netip.Addr
}

// ParseEnv builds a Config from the queue-proxy container's env, reporting every malformed
// variable by name.
func ParseEnv(env map[string]string) (Config, error) {
	c := Config{ServingPort: serving.QueueHTTPPort, UserPort: serving.DefaultUserPort, RevisionTimeout: DefaultRevisionTimeout,
		Namespace: env[resources.EnvServingNamespace], Service: env[resources.EnvServingService],
		Configuration: env[resources.EnvServingConfiguration], Revision: env[resources.EnvServingRevision],
		Pod: env[resources.EnvServingPod]}
	var errs []error
	get := func(name string) (string, bool) {
		v, ok := env[name]
		return strings.TrimSpace(v), ok && strings.TrimSpace(v) != ""
	}
	integer := func(name string, min int64, set func(int64)) {
		if v, ok := get(name); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < min {
				errs = append(errs, fmt.Errorf("env %s: value %q: want an integer >= %d", name, v, min))
				return
			}
			set(n)
		}
	}
	port := func(name string, dst *int32) {
		integer(name, 1, func(n int64) {
			if n > 65535 {
				errs = append(errs, fmt.Errorf("env %s: value %d: want a port number", name, n))
				return
			}
			*dst = int32(n)
		})
	}
	integer(resources.EnvContainerConcurrency, 0, func(n int64) { c.ContainerConcurrency = int(n) })
	port(resources.EnvQueueServingPort, &c.ServingPort)
	port(resources.EnvUserPort, &c.UserPort)
	integer(resources.EnvRevisionTimeout, 0, func(n int64) { c.RevisionTimeout = time.Duration(n) * time.Second })
	integer(resources.EnvRevisionResponseStart, 0, func(n int64) { c.ResponseStartTimeout = time.Duration(n) * time.Second })
	integer(resources.EnvRevisionIdleTimeout, 0, func(n int64) { c.IdleTimeout = time.Duration(n) * time.Second })
	if v, ok := get(resources.EnvServingReadinessProbe); ok {
		p := &corev1.Probe{}
		if err := json.Unmarshal([]byte(v), p); err != nil {
			errs = append(errs, fmt.Errorf("env %s: %w", resources.EnvServingReadinessProbe, err))
		} else {
			c.ReadinessProbe = p
		}
	}
	if v, ok := get(resources.EnvServingPodIP); ok {
		ip, err := app.LoopbackAddr(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("env %s: %w", resources.EnvServingPodIP, err))
		}
		c.PodIP = ip
	}
	if c.ReadinessProbe == nil {
		c.ReadinessProbe = resources.UserReadinessProbe(nil, c.UserPort)
	}
	return c, errors.Join(errs...)
}

// Validate reports a Config the queue-proxy cannot run with.
func (c Config) Validate() error {
	var errs []error
	if !c.PodIP.IsValid() || !c.PodIP.IsLoopback() {
		errs = append(errs, fmt.Errorf("pod IP %q: want a loopback address (%s)", c.PodIP, resources.EnvServingPodIP))
	}
	if c.ContainerConcurrency < 0 {
		errs = append(errs, fmt.Errorf("%s: want >= 0, got %d", resources.EnvContainerConcurrency, c.ContainerConcurrency))
	}
	if c.ServingPort <= 0 || c.UserPort <= 0 {
		errs = append(errs, fmt.Errorf("ports: want serving and user ports > 0, got %d and %d", c.ServingPort, c.UserPort))
	}
	if c.RevisionTimeout < 0 || c.ResponseStartTimeout < 0 || c.IdleTimeout < 0 {
		errs = append(errs, errors.New("timeouts: want >= 0"))
	}
	if p := c.ReadinessProbe; p != nil && p.HTTPGet == nil && p.TCPSocket == nil && p.GRPC == nil && p.Exec == nil {
		errs = append(errs, fmt.Errorf("%s: the probe has no handler", resources.EnvServingReadinessProbe))
	}
	return errors.Join(errs...)
}

// h2c reports whether the serving port is the h2c one (§5 Ports).
func (c Config) h2c() bool { return c.ServingPort == serving.QueueH2CPort }

// probePort resolves a probe port: a number, or a name (the user port is the only named port a
// revision's user container has).
func (c Config) probePort(p intstr.IntOrString) int32 {
	if p.Type == intstr.Int && p.IntVal > 0 {
		return p.IntVal
	}
	return c.UserPort
}
