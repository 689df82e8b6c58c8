package cluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/servingsim/servingsim/stack/apis/crds"
)

// ServiceCIDR is the API server's ClusterIP range.
const ServiceCIDR = "172.16.0.0/16"

// Options configure Start.
type Options struct {
	// Scheme must hold every type the caller will use.
	Scheme *runtime.Scheme
	// MutatingWebhooks and ValidatingWebhooks are installed with envtest's local serving
	// options: their clientConfig is rewritten to point at WebhookHost:WebhookPort.
	MutatingWebhooks   []*admissionregistrationv1.MutatingWebhookConfiguration
	ValidatingWebhooks []*admissionregistrationv1.ValidatingWebhookConfiguration
	// ReadyTimeout bounds the wait for the API to accept writes to every CRD. Default 60s.
	ReadyTimeout time.Duration
}

// Cluster is a running API server.
type Cluster struct {
	env    *envtest.Environment
	Config *rest.Config
	Client client.WithWatch
	// Webhook serving options chosen by envtest (loopback host, free port, generated certs).
	WebhookHost    string
	WebhookPort    int
	WebhookCertDir string
}

// Start launches etcd and kube-apiserver on loopback, installs the CRDs and webhook
// configurations, and returns once a CRD write succeeds (the first writes to a new CRD can be
// refused with 429 for a couple of seconds right after start).
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	assets, err := AssetsDir()
	if err != nil {
		return nil, err
	}
	crdObjs, err := loadCRDs()
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDs:                  crdObjs,
		Scheme:                opts.Scheme,
		ErrorIfCRDPathMissing: true,
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			MutatingWebhooks:   opts.MutatingWebhooks,
			ValidatingWebhooks: opts.ValidatingWebhooks,
			LocalServingHost:   "127.0.0.1",
		},
	}
	// etcd here holds throwaway simulation state: skipping fsync makes API writes several times
	// faster on a VM disk, and the control plane, not the simulation, was the bottleneck.
	env.ControlPlane.Etcd = &envtest.Etcd{}
	env.ControlPlane.Etcd.Configure().Append("unsafe-no-fsync", "true")
	// Every ksvc has two ClusterIP Services (the revision's public one and the route's
	// placeholder), so envtest's default /24 fills after ~125 ksvcs. 172.16/16 overlaps neither
	// the 10.x stand-ins of pod and component addresses nor loopback.
	env.ControlPlane.APIServer = &envtest.APIServer{}
	env.ControlPlane.APIServer.Configure().Set("service-cluster-ip-range", ServiceCIDR)
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("start envtest (kube-apiserver and etcd from %s): %w", assets, err)
	}
	// Many controllers share one API server in-process; the client-side defaults (5 qps) would
	// make the control plane, not the simulation, the bottleneck.
	cfg.QPS, cfg.Burst = 2000, 4000
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: opts.Scheme})
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("build client: %w", err)
	}
	cl := &Cluster{env: env, Config: cfg, Client: c,
		WebhookHost: env.WebhookInstallOptions.LocalServingHost, WebhookPort: env.WebhookInstallOptions.LocalServingPort,
		WebhookCertDir: env.WebhookInstallOptions.LocalServingCertDir}
	timeout := opts.ReadyTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	if err := cl.waitWritable(ctx, timeout); err != nil {
		_ = env.Stop()
		return nil, err
	}
	return cl, nil
}

// Stop shuts the API server and etcd down and removes their temporary directories. Stop the
// webhook server first: a live webhook endpoint keeps the API server's shutdown waiting.
func (c *Cluster) Stop() error {
	return c.env.Stop()
}

// waitWritable creates and deletes a probe namespace until the API answers without throttling.
func (c *Cluster) waitWritable(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "servingsim-probe-"}}
		if last = c.Client.Create(ctx, ns); last == nil {
			_ = c.Client.Delete(ctx, ns)
			return nil
		}
		if !apierrors.IsTooManyRequests(last) && !apierrors.IsServiceUnavailable(last) && !apierrors.IsServerTimeout(last) {
			return fmt.Errorf("probe API server: %w", last)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("API server not writable after %s: %w", timeout, errors.Join(last, ctx.Err()))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func loadCRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	var out []*apiextensionsv1.CustomResourceDefinition
	err := fs.WalkDir(crds.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := crds.FS.ReadFile(path)
		if err != nil {
			return err
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(b, crd); err != nil {
			return fmt.Errorf("decode CRD %s: %w", path, err)
		}
		out = append(out, crd)
		return nil
	})
	return out, err
}

// Kubeconfig returns a kubeconfig for a cluster-admin user of this API server, for kubectl.
func (c *Cluster) Kubeconfig() ([]byte, error) {
	u, err := c.env.AddUser(envtest.User{Name: "servingsim-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("add kubeconfig user: %w", err)
	}
	return u.KubeConfig()
}

// WaitWritable retries dry-run creates of objs until none is refused for a transient reason:
// throttling of new CRDs (429), an unavailable server, or an admission webhook not yet serving.
func (c *Cluster) WaitWritable(ctx context.Context, timeout time.Duration, objs ...client.Object) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, obj := range objs {
		for {
			err := c.Client.Create(ctx, obj.DeepCopyObject().(client.Object), client.DryRunAll)
			if err == nil || apierrors.IsAlreadyExists(err) {
				break
			}
			if !transient(err) {
				return fmt.Errorf("dry-run create %T %s: %w", obj, obj.GetName(), err)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("API not writable for %T after %s: %w", obj, timeout, errors.Join(err, ctx.Err()))
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

func transient(err error) bool {
	if apierrors.IsTooManyRequests(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsServerTimeout(err) ||
		apierrors.IsTimeout(err) || apierrors.IsNotFound(err) {
		return true
	}
	// "failed calling webhook ... connection refused" while the webhook server starts.
	return apierrors.IsInternalError(err) && strings.Contains(err.Error(), "failed calling webhook")
}
