package system

import (
	"fmt"
	"net"
	"strconv"

	ctrl "sigs.k8s.io/controller-runtime"

	"k8s.io/apimachinery/pkg/types"

	"github.com/servingsim/servingsim/stack/activator"
	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/gateway"
	"github.com/servingsim/servingsim/stack/kpa"
	"github.com/servingsim/servingsim/stack/podruntime"
	"github.com/servingsim/servingsim/stack/queueproxy"
	"github.com/servingsim/servingsim/stack/reconciler/configuration"
	"github.com/servingsim/servingsim/stack/reconciler/gc"
	"github.com/servingsim/servingsim/stack/reconciler/labeler"
	"github.com/servingsim/servingsim/stack/reconciler/podautoscaler"
	"github.com/servingsim/servingsim/stack/reconciler/revision"
	"github.com/servingsim/servingsim/stack/reconciler/route"
	"github.com/servingsim/servingsim/stack/reconciler/serverlessservice"
	"github.com/servingsim/servingsim/stack/reconciler/service"
	"github.com/servingsim/servingsim/stack/webhook"
)

// Component names Options.Components may select.
const (
	ComponentWebhook           = "webhook"
	ComponentService           = "service"
	ComponentConfiguration     = "configuration"
	ComponentRevision          = "revision"
	ComponentRoute             = "route"
	ComponentLabeler           = "labeler"
	ComponentPodAutoscaler     = "podautoscaler"
	ComponentServerlessService = "serverlessservice"
	ComponentGC                = "gc"
	ComponentPodRuntime        = "podruntime"
	ComponentGateway           = "gateway"
	ComponentAutoscaler        = "autoscaler"
	ComponentActivator         = "activator"
)

// AllComponents lists every component, in the order they are registered.
var AllComponents = []string{ComponentWebhook, ComponentService, ComponentConfiguration, ComponentRevision,
	ComponentRoute, ComponentLabeler, ComponentPodAutoscaler, ComponentServerlessService, ComponentGC,
	ComponentPodRuntime, ComponentGateway, ComponentAutoscaler, ComponentActivator}

// setupFunc registers one component on the manager.
type setupFunc func(mgr ctrl.Manager) error

// register adds every enabled component to the manager.
func (s *System) register() error {
	mgr := s.Manager
	c, store, clk := mgr.GetClient(), s.Config, s.Clock
	rec := mgr.GetEventRecorderFor //nolint:staticcheck // the core/v1 recorder Knative's reconcilers use

	s.PATrigger = podautoscaler.NewTrigger()
	k, err := kpa.New(kpa.Options{Clock: clk, Source: s.Random, Poke: s.PATrigger.Poke, Logger: s.opts.Logger.WithName("autoscaler")})
	if err != nil {
		return fmt.Errorf("kpa: %w", err)
	}
	s.KPA = k
	decider := s.opts.Decider
	if decider == nil {
		decider = k
	}
	rt, err := podruntime.New(s.podRuntimeOptions())
	if err != nil {
		return fmt.Errorf("pod runtime: %w", err)
	}
	s.PodRuntime = rt

	setups := map[string]setupFunc{
		ComponentWebhook: func(mgr ctrl.Manager) error { webhook.Register(mgr.GetWebhookServer(), store); return nil },
		ComponentService: (&service.Reconciler{Client: c, Config: store, Clock: clk, Recorder: rec("service-controller")}).SetupWithManager,
		ComponentConfiguration: (&configuration.Reconciler{Client: c, Config: store, Clock: clk,
			Recorder: rec("configuration-controller")}).SetupWithManager,
		ComponentRevision: (&revision.Reconciler{Client: c, Config: store, Clock: clk, Recorder: rec("revision-controller")}).SetupWithManager,
		ComponentRoute:    (&route.Reconciler{Client: c, Config: store, Clock: clk, Recorder: rec("route-controller")}).SetupWithManager,
		ComponentLabeler:  (&labeler.Reconciler{Client: c, Config: store, Clock: clk, Recorder: rec("labeler")}).SetupWithManager,
		ComponentPodAutoscaler: (&podautoscaler.Reconciler{Client: c, Config: store, Clock: clk, Recorder: rec("kpa-class-podautoscaler-controller"),
			Decider: decider, Trigger: s.PATrigger, ActivatorProbe: s.probeActivator}).SetupWithManager,
		ComponentServerlessService: (&serverlessservice.Reconciler{Client: c, Config: store, Clock: clk,
			Recorder: rec("serverlessservice-controller")}).SetupWithManager,
		ComponentGC:         (&gc.Reconciler{Client: c, Config: store, Clock: clk, Recorder: rec("gc-controller")}).SetupWithManager,
		ComponentPodRuntime: rt.SetupWithManager,
		ComponentGateway:    s.setupGateway,
		ComponentActivator:  s.setupActivators,
		ComponentAutoscaler: func(mgr ctrl.Manager) error {
			if err := k.SetupWithManager(mgr); err != nil {
				return err
			}
			return mgr.Add(httpServer("autoscaler metrics", s.AutoscalerMetricsAddress(), k.Handler(), s.opts.Logger))
		},
	}
	for _, name := range AllComponents {
		if !s.enabled(name) {
			continue
		}
		if err := setups[name](mgr); err != nil {
			return fmt.Errorf("set up %s: %w", name, err)
		}
	}
	return nil
}

func (s *System) podRuntimeOptions() podruntime.Options {
	o := s.opts.PodRuntime
	if o.Clock == nil {
		o.Clock = s.Clock
	}
	if o.Source == nil {
		o.Source = s.Random
	}
	if o.Sandbox == nil {
		s.Pods = queueproxy.NewSandbox(queueproxy.SandboxOptions{Clock: o.Clock, Source: o.Source,
			DrainQuietPeriod: s.opts.DrainQuietPeriod, Logger: s.opts.Logger.WithName("pod")})
		o.Sandbox = s.Pods
	}
	return o
}

// setupGateway programs Ingresses into the host table and serves them on the gateway's
// external (8080) and internal (8081) listeners, like Kourier.
func (s *System) setupGateway(mgr ctrl.Manager) error {
	if err := (&gateway.Reconciler{Client: mgr.GetClient(), Clock: s.Clock, Table: s.Gateway}).SetupWithManager(mgr); err != nil {
		return err
	}
	srv, err := gateway.New(gateway.Options{
		Table:            s.Gateway,
		Endpoints:        gateway.NewClientEndpoints(mgr.GetCache()),
		Clock:            s.Clock,
		Stream:           s.Random.Stream("gateway"),
		Logger:           s.opts.Logger.WithName("gateway"),
		TagHeaderRouting: func() bool { return s.Config.Load().Features.IsOn(config.FeatureTagHeaderBasedRouting) },
		ExternalAddr:     net.JoinHostPort(s.opts.Addresses.Gateway, strconv.Itoa(gateway.ExternalPort)),
		InternalAddr:     net.JoinHostPort(s.opts.Addresses.Gateway, strconv.Itoa(gateway.InternalPort)),
	})
	if err != nil {
		return err
	}
	s.GatewayServer = srv
	return mgr.Add(srv)
}

// setupActivators runs one activator per address in Options.Addresses.Activators, reporting
// stats to the KPA (§3.3.3).
func (s *System) setupActivators(mgr ctrl.Manager) error {
	var sink autoscaler.StatSink = s.KPA
	if !s.enabled(ComponentAutoscaler) {
		sink = autoscaler.StatSinkFunc(func(types.NamespacedName, autoscaler.Stat) {})
	}
	for i, addr := range s.opts.Addresses.Activators {
		name := fmt.Sprintf("activator-%d", i)
		a, err := activator.New(activator.Options{Name: name, Address: addr, Clock: s.Clock,
			Source: s.Random, Stats: sink, Logger: s.opts.Logger.WithName(name)})
		if err != nil {
			return fmt.Errorf("activator %s: %w", name, err)
		}
		if err := a.SetupWithManager(mgr); err != nil {
			return err
		}
		s.Activators = append(s.Activators, a)
	}
	return nil
}
