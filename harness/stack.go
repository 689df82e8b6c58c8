package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
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

	opts   system.Options
	cancel context.CancelFunc
	done   chan error
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
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Stack{Cluster: cl, System: sys, Client: cl.Client, Config: cl.Config, opts: so, cancel: cancel, done: make(chan error, 1)}
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
	case <-time.After(30 * time.Second):
		return errors.New("components did not stop within 30s")
	}
}

// Stop shuts everything down: components (including the webhook server) first, then the API
// server and etcd, leaving no process or temporary directory behind.
func (s *Stack) Stop() error {
	return errors.Join(s.stopComponents(), s.Cluster.Stop())
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
