package podruntime

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/servingsim/servingsim/stack/rng"
)

// DefaultNodeName is the simulated node every pod is bound to.
const DefaultNodeName = "servingsim-node"

// Options configure the Runtime. The zero value is a valid, instant, fault-free runtime.
type Options struct {
	// Clock drives every delay (phase durations, back-offs, grace periods, progress deadlines).
	// Default clock.RealClock{}.
	Clock clock.WithTicker
	// Source supplies the named random streams (pod-name suffixes and phase draws). Default
	// rng.New(Seed).
	Source *rng.Source
	// Seed is used when Source is nil. Default 0.
	Seed int64
	// Startup is the harness-wide phase-duration model. Default: every phase takes 0.
	Startup StartupModel
	// Faults are harness-wide failure knobs. Default: none.
	Faults Faults
	// Sandbox runs what lives inside a pod. Default ModelSandbox{} (ready at once).
	Sandbox Sandbox
	// NodeName is the simulated node's name. Default DefaultNodeName.
	NodeName string
	// DeploymentSelector limits the Deployments that get pods (by the Deployment's labels).
	// Default: every Deployment in every namespace.
	DeploymentSelector labels.Selector
	// Workers is each controller's MaxConcurrentReconciles. Default 4.
	Workers int
	// PodIPs is the loopback range pod IPs come from, so stacks in one machine never share an
	// address. Default FirstPodIP…LastPodIP.
	PodIPs IPRange
}

// IPRange is an inclusive range of IPv4 addresses.
type IPRange struct{ First, Last netip.Addr }

// Runtime is the pod runtime: the Deployment controller, the scheduler and kubelet of one
// simulated node, and the Endpoints/EndpointSlice controllers. Build it with New and register it
// with SetupWithManager.
type Runtime struct {
	opts   Options
	src    *rng.Source
	ips    *ipAllocator
	ctx    context.Context
	cancel context.CancelFunc

	client    client.Client
	apiReader client.Reader
	kubelet   *kubeletReconciler
	deploy    *deploymentReconciler
	endpoints *endpointsReconciler
}

// New validates opts, applies the defaults and returns a Runtime.
func New(opts Options) (*Runtime, error) {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Source == nil {
		opts.Source = rng.New(opts.Seed)
	}
	if opts.Sandbox == nil {
		opts.Sandbox = ModelSandbox{}
	}
	if !opts.PodIPs.First.IsValid() || !opts.PodIPs.Last.IsValid() {
		opts.PodIPs = IPRange{First: FirstPodIP, Last: LastPodIP}
	}
	if opts.NodeName == "" {
		opts.NodeName = DefaultNodeName
	}
	if opts.DeploymentSelector == nil {
		opts.DeploymentSelector = labels.Everything()
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	var errs []error
	if err := opts.Startup.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("startup model: %w", err))
	}
	if err := opts.Faults.CrashAfter.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("faults: crash-after: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Runtime{opts: opts, src: opts.Source, ips: newIPAllocator(opts.PodIPs.First, opts.PodIPs.Last), ctx: ctx, cancel: cancel}
	return r, nil
}

// Options returns the defaulted options.
func (r *Runtime) Options() Options { return r.opts }

// SetupWithManager registers the controllers (podruntime-deployment, podruntime-kubelet,
// podruntime-endpoints) and a runnable that registers the node and, when the manager stops,
// stops every sandbox.
func (r *Runtime) SetupWithManager(mgr ctrl.Manager) error {
	r.client, r.apiReader = mgr.GetClient(), mgr.GetAPIReader()
	r.kubelet = newKubelet(r)
	r.deploy = newDeploymentReconciler(r)
	r.endpoints = &endpointsReconciler{rt: r}
	if err := mgr.Add(manager.RunnableFunc(r.run)); err != nil {
		return err
	}
	for _, setup := range []func(ctrl.Manager) error{r.kubelet.setup, r.deploy.setup, r.endpoints.setup} {
		if err := setup(mgr); err != nil {
			return err
		}
	}
	return nil
}

// run registers the node, then waits for the manager to stop and tears the sandboxes down.
func (r *Runtime) run(ctx context.Context) error {
	log := ctrl.Log.WithName("podruntime")
	for {
		err := r.ensureNode(ctx)
		if err == nil {
			break
		}
		log.Error(err, "Registering node", "node", r.opts.NodeName)
		select {
		case <-ctx.Done():
			r.shutdown()
			return nil
		case <-time.After(200 * time.Millisecond): // API retry pacing, not simulated time
		}
	}
	<-ctx.Done()
	r.shutdown()
	return nil
}

func (r *Runtime) shutdown() {
	r.cancel()
	if r.kubelet != nil {
		r.kubelet.stopAll()
	}
}

// FailContainer makes the user container of the pod namespace/name, which this node runs,
// exit with exitCode, as when its process crashes (a scenario's failPod): the kubelet reports
// it terminated and the pod not Ready at once, the Sandbox kills it (ContainerRestarter: its
// in-flight requests fail), and after the plan's restart delay (RestartDelayAnnotation) it runs
// again with restartCount up by one; the pod is Ready again after the startup delay and the
// Sandbox's readiness. It refuses a pod that is not running, is terminating, has a fault that
// keeps it from running healthy, or whose container is already down.
func (r *Runtime) FailContainer(key types.NamespacedName, exitCode int32) error {
	if r.kubelet == nil {
		return errors.New("pod runtime: not set up with a manager")
	}
	return r.kubelet.failContainer(key, exitCode)
}

// PodIPsInUse returns how many pod IPs are allocated (for tests and reports).
func (r *Runtime) PodIPsInUse() int { return r.ips.InUse() }
