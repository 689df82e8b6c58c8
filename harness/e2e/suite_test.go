package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/servingsim/servingsim/harness"
	"github.com/servingsim/servingsim/harness/load"
	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/app"
)

// One stack for the suite with short autoscaling windows (the "6 s stable"), so
// scale-to-zero and panic happen within seconds; a fresh namespace per spec.
var (
	stack    *harness.Stack
	suiteCtx context.Context
)

// Autoscaler settings of the suite (config-autoscaler, §3.1).
const (
	stableWindow = 6 * time.Second
	graceWindow  = 6 * time.Second
)

func TestDataPlane(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "servingsim data plane and autoscaler (live)")
}

var _ = BeforeSuite(func() {
	suiteCtx = context.Background()
	opts := harness.Options{}
	opts.System.Seed = GinkgoRandomSeed()
	opts.System.DrainQuietPeriod = time.Second
	if path := os.Getenv("SERVINGSIM_LOG"); path != "" { // a developer's trace of every component
		f, err := os.Create(path)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(f.Close)
		opts.System.Logger = funcr.New(func(prefix, args string) {
			fmt.Fprintln(f, time.Now().Format("15:04:05.000"), prefix, args)
		}, funcr.Options{Verbosity: 1})
	}
	opts.System.ConfigOverrides = map[string]map[string]string{
		"config-autoscaler": {
			"stable-window":                      stableWindow.String(),
			"scale-to-zero-grace-period":         graceWindow.String(),
			"scale-to-zero-pod-retention-period": "0s",
			"allow-zero-initial-scale":           "true",
		},
	}
	var err error
	stack, err = harness.Start(suiteCtx, opts)
	Expect(err).NotTo(HaveOccurred(), "start stack (seed %d)", GinkgoRandomSeed())
	SetDefaultEventuallyTimeout(60 * time.Second)
	SetDefaultEventuallyPollingInterval(50 * time.Millisecond)
})

var _ = AfterSuite(func() {
	if stack != nil {
		Expect(stack.Stop()).To(Succeed())
	}
})

var _ = ReportAfterSuite("seed", func(r Report) {
	if !r.SuiteSucceeded {
		fmt.Printf("servingsim seed for this run: %d (rerun with --ginkgo.seed=%d)\n", r.SuiteConfig.RandomSeed, r.SuiteConfig.RandomSeed)
	}
})

func newNamespace() string {
	ns, err := stack.NewNamespace(suiteCtx, "e2e")
	Expect(err).NotTo(HaveOccurred())
	return ns
}

// ksvc is a Knative Service of the autoscale test image with template annotations and an
// optional containerConcurrency / timeoutSeconds.
func ksvc(ns, name string, annotations map[string]string, mutate ...func(*servingv1.RevisionSpec)) *servingv1.Service {
	s := &servingv1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	s.Spec.Template.Annotations = annotations
	s.Spec.Template.Spec.Containers = []corev1.Container{{Image: "ghcr.io/knative/autoscale-go:latest"}}
	for _, m := range mutate {
		m(&s.Spec.Template.Spec)
	}
	return s
}

func createReady(s *servingv1.Service) {
	GinkgoHelper()
	Expect(stack.Client.Create(suiteCtx, s)).To(Succeed())
	Expect(stack.WaitReady(suiteCtx, s, 60*time.Second)).To(Succeed())
}

func host(name, ns string) string { return fmt.Sprintf("%s.%s.%s", name, ns, harness.DefaultDomain) }

// run sends phases to host through the external gateway and returns the report; every request
// sent must be accounted for (load.Run errors otherwise).
func run(h, path string, header http.Header, phases ...load.Phase) *load.Report {
	GinkgoHelper()
	rep, err := load.Run(suiteCtx, load.Options{Addr: stack.System.GatewayAddress(),
		Target: load.Target{Host: h, Path: path, Header: header}, Phases: phases, Timeout: 30 * time.Second})
	Expect(err).NotTo(HaveOccurred())
	return rep
}

// codes counts results by status code (0 = transport error).
func codes(rs []vegeta.Result) map[uint16]int {
	out := map[uint16]int{}
	for _, r := range rs {
		out[r.Code]++
	}
	return out
}

// revisionOf reads the revision that served an echo request.
func revisionOf(r vegeta.Result) string {
	var e app.Echo
	if err := json.Unmarshal(r.Body, &e); err != nil {
		return fmt.Sprintf("<code %d: %q>", r.Code, r.Body)
	}
	return e.Env["K_REVISION"]
}

func echoHeader() http.Header { return http.Header{app.EchoHeader: []string{"1"}} }

func pa(ns, name string) func() *autoscalingv1alpha1.PodAutoscaler {
	return func() *autoscalingv1alpha1.PodAutoscaler {
		p := &autoscalingv1alpha1.PodAutoscaler{}
		_ = stack.Client.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: name}, p)
		return p
	}
}

func sksMode(ns, name string) func() netv1alpha1.ServerlessServiceOperationMode {
	return func() netv1alpha1.ServerlessServiceOperationMode {
		s := &netv1alpha1.ServerlessService{}
		_ = stack.Client.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: name}, s)
		return s.Spec.Mode
	}
}

// readyPods counts the revision's Ready, non-terminating pods.
func readyPods(ns, rev string) func() int {
	return func() int {
		pods := &corev1.PodList{}
		if err := stack.Client.List(suiteCtx, pods, client.InNamespace(ns), client.MatchingLabels{serving.RevisionLabelKey: rev}); err != nil {
			return -1
		}
		n := 0
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil {
				continue
			}
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
					n++
				}
			}
		}
		return n
	}
}

func key(o client.Object) client.ObjectKey { return client.ObjectKeyFromObject(o) }

func ptr[T any](v T) *T { return &v }
