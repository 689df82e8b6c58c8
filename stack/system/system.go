package system

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/servingsim/servingsim/stack/activator"
	"github.com/servingsim/servingsim/stack/apis"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/gateway"
	"github.com/servingsim/servingsim/stack/kpa"
	"github.com/servingsim/servingsim/stack/podruntime"
	"github.com/servingsim/servingsim/stack/queueproxy"
	"github.com/servingsim/servingsim/stack/reconciler/podautoscaler"
	"github.com/servingsim/servingsim/stack/rng"
)

// Options configure the whole stack. Zero values give Knative's behaviour on a real clock.
type Options struct {
	// Clock drives every component. Default: the real clock.
	Clock clock.WithTicker
	// Seed derives every named random stream. Default 1.
	Seed int64
	// Addresses of the in-process components (loopback). Defaults in Addresses.
	Addresses Addresses
	// ConfigOverrides are written into the config-* ConfigMaps at bootstrap, keyed by ConfigMap
	// name then Knative key, e.g. {"config-domain": {"example.com": ""}}.
	ConfigOverrides map[string]map[string]string
	// WebhookHost, WebhookPort and WebhookCertDir are where the admission webhook serves TLS
	// (envtest chooses them). Required.
	WebhookHost    string
	WebhookPort    int
	WebhookCertDir string
	// Logger for every component. Default: discard.
	Logger logr.Logger
	// Components overrides which components run; nil means all. Names: see AllComponents.
	Components []string
	// PodRuntime configures the simulated kubelet (startup model, faults, sandbox). Its clock
	// and random source default to the system's; its Sandbox defaults to the live one (a real
	// queue-proxy and app per pod on the pod's loopback IP, see System.Pods).
	PodRuntime podruntime.Options
	// DrainQuietPeriod is each queue-proxy's drain quiet period (Knative: 30s). Default
	// queueproxy.DefaultDrainQuietPeriod. Tests shorten it so scale-downs finish quickly.
	DrainQuietPeriod time.Duration
	// Decider gives each PodAutoscaler its desired scale. Default: the live KPA (System.KPA);
	// podautoscaler.StaticDecider{} keeps every revision at its initial decision.
	Decider podautoscaler.Decider
}

// System is a wired stack, ready to Start.
type System struct {
	Manager manager.Manager
	Config  *config.Store
	Gateway *gateway.Table
	Random  *rng.Source
	Clock   clock.WithTicker
	// PodRuntime is the simulated kubelet and Deployment/Endpoints controllers.
	PodRuntime *podruntime.Runtime
	// PATrigger lets an autoscaler ask for PodAutoscaler reconciles.
	PATrigger *podautoscaler.Trigger
	// GatewayServer serves the programmed Ingresses over HTTP (nil without the gateway component).
	GatewayServer *gateway.Server
	// Activators are the running activator instances (one per Options.Addresses.Activators).
	Activators []*activator.Activator
	// KPA is the autoscaler: scrapes queue-proxies, takes activator stats, decides every 2s.
	// It runs only with the autoscaler component; it decides only when it is the Decider.
	KPA *kpa.KPA
	// Pods is the live sandbox: every running pod's queue-proxy and app. Nil when
	// Options.PodRuntime.Sandbox replaced it.
	Pods *queueproxy.Sandbox
	opts Options

	// probeEndpoints resolves public Services for the activator probe; one per system so its
	// per-Endpoints cache survives between probes.
	probeEndpointsOnce sync.Once
	probeEndpoints     *gateway.ClientEndpoints
}

// New builds every component on a manager for the API server at cfg.
func New(cfg *rest.Config, opts Options) (*System, error) {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.WebhookPort == 0 || opts.WebhookCertDir == "" {
		return nil, errors.New("system.Options: WebhookPort and WebhookCertDir are required (envtest's WebhookInstallOptions provide them)")
	}
	opts.Addresses.Webhook, opts.Addresses.WebhookPort = opts.WebhookHost, opts.WebhookPort
	opts.Addresses.defaults()
	if opts.Logger.GetSink() == nil {
		opts.Logger = logr.Discard()
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  apis.NewScheme(),
		Logger:  opts.Logger,
		Metrics: metricsserver.Options{BindAddress: "0"},
		WebhookServer: webhook.NewServer(webhook.Options{
			Host: opts.WebhookHost, Port: opts.WebhookPort, CertDir: opts.WebhookCertDir,
		}),
		HealthProbeBindAddress: "0",
		// Several stacks may run in one process (tests, benchmarks): controller names repeat.
		// Reconcilers mostly wait on the API server, so several workers per controller keep it busy.
		Controller: ctrlconfig.Controller{SkipNameValidation: ptr.To(true), MaxConcurrentReconciles: DefaultWorkers},
	})
	if err != nil {
		return nil, fmt.Errorf("create manager: %w", err)
	}
	s := &System{Manager: mgr, Config: config.NewStore(), Gateway: gateway.NewTable(), Random: rng.New(opts.Seed), Clock: opts.Clock, opts: opts}
	if err := s.register(); err != nil {
		return nil, err
	}
	return s, nil
}

// Start runs every component until ctx ends. It blocks.
func (s *System) Start(ctx context.Context) error {
	return s.Manager.Start(ctx)
}

// Bootstrap creates the install's namespaces, ConfigMaps and system Services. Call it once the
// manager's webhook serves (the API server calls the webhook for Knative objects, not these).
func (s *System) Bootstrap(ctx context.Context) error {
	return Bootstrap(ctx, s.Manager.GetClient(), s.opts.Addresses, s.opts.ConfigOverrides)
}

func (s *System) enabled(name string) bool {
	if s.opts.Components == nil {
		return true
	}
	for _, c := range s.opts.Components {
		if c == name {
			return true
		}
	}
	return false
}

// DefaultWorkers is each controller's MaxConcurrentReconciles.
const DefaultWorkers = 8

// GatewayAddress is host:port of the gateway's external listener: ExternalIP hosts such as
// hello.default.example.com.
func (s *System) GatewayAddress() string {
	return net.JoinHostPort(s.opts.Addresses.Gateway, strconv.Itoa(gateway.ExternalPort))
}

// InternalGatewayAddress is host:port of the gateway's internal listener: cluster-local hosts
// (hello.default, hello.default.svc, hello.default.svc.cluster.local) and external ones.
func (s *System) InternalGatewayAddress() string {
	return net.JoinHostPort(s.opts.Addresses.Gateway, strconv.Itoa(gateway.InternalPort))
}

// AutoscalerMetricsAddress is host:port where the KPA serves its Prometheus metrics.
func (s *System) AutoscalerMetricsAddress() string {
	return net.JoinHostPort(s.opts.Addresses.Autoscaler, "9090")
}
