package webhook

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/servingsim/servingsim/harness/cluster"
	"github.com/servingsim/servingsim/stack/apis"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
)

// The envtest suite proves the real kube-apiserver calls both webhooks over TLS (§2).
func TestAdmissionSuite(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Admission webhook (envtest)")
}

var (
	testCluster *cluster.Cluster
	k8s         client.Client
	stopWebhook context.CancelFunc
	webhookDone chan error
)

var _ = BeforeSuite(func(ctx SpecContext) {
	logf.SetLogger(GinkgoLogr)
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)

	var err error
	testCluster, err = cluster.Start(ctx, cluster.Options{
		Scheme:             apis.NewScheme(),
		MutatingWebhooks:   []*admissionregistrationv1.MutatingWebhookConfiguration{MutatingWebhookConfiguration()},
		ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{ValidatingWebhookConfiguration()},
	})
	Expect(err).NotTo(HaveOccurred())
	k8s = testCluster.Client

	srv := webhook.NewServer(webhook.Options{
		Host: testCluster.WebhookHost, Port: testCluster.WebhookPort, CertDir: testCluster.WebhookCertDir,
	})
	Register(srv, config.NewStore())
	var wctx context.Context
	wctx, stopWebhook = context.WithCancel(context.Background())
	webhookDone = make(chan error, 1)
	go func() { webhookDone <- srv.Start(wctx) }()
	Eventually(func() error { return srv.StartedChecker()(nil) }).WithTimeout(60 * time.Second).Should(Succeed())

	// The API server reaches the webhook (and accepts CRD writes, which can be throttled for a
	// couple of seconds after start): a dry-run create comes back defaulted.
	Eventually(func(g Gomega) {
		s := &servingv1.Service{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: "default"},
			Spec: servingv1.ServiceSpec{ConfigurationSpec: servingv1.ConfigurationSpec{Template: servingv1.RevisionTemplateSpec{
				Spec: servingv1.RevisionSpec{PodSpec: corev1.PodSpec{Containers: []corev1.Container{{Image: testImage}}}}}}}}
		g.Expect(k8s.Create(ctx, s, client.DryRunAll)).To(Succeed())
		g.Expect(s.Spec.Template.Spec.TimeoutSeconds).To(Equal(ptr.To[int64](300)))
	}).WithTimeout(60 * time.Second).Should(Succeed())
}, NodeTimeout(3*time.Minute))

var _ = AfterSuite(func() {
	// The webhook goes first: a live endpoint keeps the API server's shutdown waiting.
	if stopWebhook != nil {
		stopWebhook()
		Eventually(webhookDone).Should(Receive())
	}
	if testCluster != nil {
		Expect(testCluster.Stop()).To(Succeed())
	}
})

// create creates obj, retrying while the API server throttles (429/503/timeouts).
func create(ctx context.Context, obj client.Object) error {
	var err error
	for range 50 {
		err = k8s.Create(ctx, obj)
		if !apierrors.IsTooManyRequests(err) && !apierrors.IsServiceUnavailable(err) && !apierrors.IsServerTimeout(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
	return err
}
