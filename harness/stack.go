package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/servingsim/servingsim/harness/cluster"
	"github.com/servingsim/servingsim/stack/apis"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/system"
	"github.com/servingsim/servingsim/stack/webhook"
)

// DefaultDomain is the harness's config-domain default, so URLs look like a real install's
// (http://hello.<ns>.example.com).
const DefaultDomain = "example.com"

// Options configure Start.
type Options struct {
	// System options; the webhook fields are filled in from the cluster.
	System system.Options
	// StartTimeout bounds bring-up. Default 2 minutes.
	StartTimeout time.Duration
}

// Stack is a running servingsim.
type Stack struct {
	Cluster *cluster.Cluster
	System  *system.System
	// Client talks to the API server directly (no cache), so reads see writes at once.
	Client client.Client
	Config *rest.Config

	opts    system.Options
	slot    net.Listener     // holds this stack's loopback slot (nil when addresses were given)
	watcher client.WithWatch // watches for WaitReady
	cancel  context.CancelFunc
	done    chan error
}

// Start brings the stack up: API server and etcd, CRDs, webhook configurations, the manager with
// every component, the install's system objects; it returns once Knative objects can be created.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	cl, err := cluster.Start(ctx, cluster.Options{
		Scheme:             apis.NewScheme(),
		MutatingWebhooks:   []*admissionregistrationv1.MutatingWebhookConfiguration{webhook.MutatingWebhookConfiguration()},
		ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{webhook.ValidatingWebhookConfiguration()},
		ReadyTimeout:       timeout,
	})
	if err != nil {
		return nil, err
	}
	so := opts.System
	var slot net.Listener
	if so.Addresses.Gateway == "" && !so.PodRuntime.PodIPs.First.IsValid() {
		if slot, err = claimSlot(&so); err != nil {
			_ = cl.Stop()
			return nil, err
		}
	}
	so.WebhookHost, so.WebhookPort, so.WebhookCertDir = cl.WebhookHost, cl.WebhookPort, cl.WebhookCertDir
	if so.ConfigOverrides == nil {
		so.ConfigOverrides = map[string]map[string]string{}
	}
	if _, ok := so.ConfigOverrides["config-domain"]; !ok {
		so.ConfigOverrides["config-domain"] = map[string]string{DefaultDomain: ""}
	}
	sys, err := system.New(cl.Config, so)
	if err != nil {
		_ = cl.Stop()
		closeSlot(slot)
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Stack{Cluster: cl, System: sys, Client: cl.Client, watcher: cl.Client, Config: cl.Config, opts: so, cancel: cancel, done: make(chan error, 1), slot: slot}
	go func() { s.done <- sys.Start(runCtx) }()

	if err := s.waitUp(ctx, timeout); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Stack) waitUp(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// A component that fails to start (e.g. a listener address in use) stops the manager; say
	// so at once instead of waiting on caches that will never sync.
	exited, exitErr := make(chan struct{}), error(nil)
	watching := make(chan struct{})
	defer close(watching)
	go func() {
		select {
		case err := <-s.done:
			exitErr = err
			s.done <- err // stopComponents reads it again
			close(exited)
			cancel()
		case <-watching:
		}
	}()
	err := s.bringUp(ctx, timeout)
	select {
	case <-exited:
		return fmt.Errorf("components stopped during start: %w", exitErr)
	default:
		return err
	}
}

func (s *Stack) bringUp(ctx context.Context, timeout time.Duration) error {
	if !s.System.Manager.GetCache().WaitForCacheSync(ctx) {
		return fmt.Errorf("caches did not sync within %s", timeout)
	}
	if err := s.System.Bootstrap(ctx); err != nil {
		return fmt.Errorf("bootstrap system objects: %w", err)
	}
	// A dry-run ksvc create proves the CRD accepts writes and the webhook answers over TLS.
	probe := &servingv1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "servingsim-probe"}}
	probe.Spec.Template.Spec.Containers = []corev1.Container{{Image: "dev.local/probe"}}
	return s.Cluster.WaitWritable(ctx, timeout, probe)
}

// RestartComponents stops every component (reconcilers, webhook, pod runtime, gateway) and starts
// fresh ones against the same API server, as a controller crash and restart would. State lives
// only in the API server, so the new components must converge to the same objects.
func (s *Stack) RestartComponents(ctx context.Context) error {
	if err := s.stopComponents(); err != nil {
		return err
	}
	sys, err := system.New(s.Cluster.Config, s.opts)
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.System, s.cancel, s.done = sys, cancel, make(chan error, 1)
	go func() { s.done <- sys.Start(runCtx) }()
	return s.waitUp(ctx, 2*time.Minute)
}

func (s *Stack) stopComponents() error {
	s.cancel()
	select {
	case err := <-s.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	case <-time.After(componentStopTimeout):
		return fmt.Errorf("components did not stop within %s; still running:\n%s", componentStopTimeout, stuckGoroutines())
	}
}

// Stop shuts everything down: components (including the webhook server) first, then the API
// server and etcd, leaving no process or temporary directory behind.
func (s *Stack) Stop() error {
	defer closeSlot(s.slot)
	var errs []error
	if err := s.stopComponents(); err != nil {
		errs = append(errs, fmt.Errorf("stop components: %w", err))
	}
	if err := s.Cluster.Stop(); err != nil {
		errs = append(errs, fmt.Errorf("stop API server and etcd: %w", err))
	}
	return errors.Join(errs...)
}

// componentStopTimeout is longer than the manager's own graceful-shutdown timeout (30s), so a
// runnable that overruns it surfaces as the manager's error, naming the wait.
const componentStopTimeout = 45 * time.Second

// stuckGoroutines lists the goroutines with servingsim frames, each shortened to its first
// frames, so a shutdown that hangs says where.
func stuckGoroutines() string {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, "servingsim/stack") || strings.Contains(g, "stuckGoroutines") {
			continue
		}
		lines := strings.Split(g, "\n")
		out = append(out, strings.Join(lines[:min(len(lines), 9)], "\n"))
		if len(out) == 12 {
			break
		}
	}
	return strings.Join(out, "\n\n")
}

// claimSlot picks the first loopback slot no other stack on this machine holds (other test
// processes included: the claim is a listener) and points so's addresses and pod IPs at it.
func claimSlot(so *system.Options) (net.Listener, error) {
	for n := range system.Slots {
		ln, err := net.Listen("tcp", system.SlotClaimAddress(n))
		if err != nil {
			continue
		}
		addrs, pods, err := system.SlotAddresses(n)
		if err != nil {
			_ = ln.Close()
			return nil, err
		}
		if !bindable(addrs) { // held by a process that does not claim slots (an older build)
			_ = ln.Close()
			continue
		}
		addrs.Webhook, addrs.WebhookPort = so.Addresses.Webhook, so.Addresses.WebhookPort
		if len(so.Addresses.Activators) > 0 { // keep a requested activator count, in this slot
			base := addrs.Activators[0]
			addrs.Activators = nil
			for i := range so.Addresses.Activators {
				a := netip.MustParseAddr(base).As4()
				a[3] += byte(i)
				addrs.Activators = append(addrs.Activators, netip.AddrFrom4(a).String())
			}
		}
		so.Addresses, so.PodRuntime.PodIPs = addrs, pods
		return ln, nil
	}
	return nil, fmt.Errorf("all %d loopback slots are taken by other servingsim stacks on this machine", system.Slots)
}

// bindable reports whether the slot's fixed component ports are free.
func bindable(a system.Addresses) bool {
	for _, addr := range []string{net.JoinHostPort(a.Gateway, "8080"), net.JoinHostPort(a.Gateway, "8081"),
		net.JoinHostPort(a.Activators[0], "8012"), net.JoinHostPort(a.Autoscaler, "9090")} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return false
		}
		_ = ln.Close()
	}
	return true
}

func closeSlot(ln net.Listener) {
	if ln != nil {
		_ = ln.Close()
	}
}

// NewNamespace creates a namespace with a generated name starting with prefix.
func (s *Stack) NewNamespace(ctx context.Context, prefix string) (string, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	if err := s.Client.Create(ctx, ns); err != nil {
		return "", fmt.Errorf("create namespace: %w", err)
	}
	return ns.Name, nil
}

// WriteKubeconfig writes a cluster-admin kubeconfig for kubectl to path (mode 0600).
func (s *Stack) WriteKubeconfig(path string) error {
	b, err := s.Cluster.Kubeconfig()
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}
