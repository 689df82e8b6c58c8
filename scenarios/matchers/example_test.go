package matchers_test

import (
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/servingsim/servingsim/scenarios"
	"github.com/servingsim/servingsim/scenarios/matchers"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
)

func TestGoScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a live stack")
	}
	ctrllog.SetLogger(logr.Discard()) // components log through their stack's logger
	RegisterFailHandler(Fail)
	RunSpecs(t, "scenarios written in Go (live)")
}

// A scenario built with the Go API instead of YAML, checked with the matchers: the same value
// and the same runner as the catalog.
var _ = Describe("A scenario written in Go", func() {
	It("scales a Service from zero under a ramp, then splits a rollout 80/20", NodeTimeout(4*time.Minute), func(ctx SpecContext) {
		ksvc := &servingv1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "serving.knative.dev/v1", Kind: "Service"},
			ObjectMeta: metav1.ObjectMeta{Name: "hello"}}
		ksvc.Spec.Template.Annotations = map[string]string{
			serving.InitialScaleAnnotationKey: "0",
			serving.TargetAnnotationKey:       "5", // 3.5 concurrent requests per pod at 70%
		}
		ksvc.Spec.Template.Spec.Containers = []corev1.Container{{Image: "ghcr.io/knative/helloworld-go:latest"}}
		rollout := map[string]any{"spec": map[string]any{
			"template": map[string]any{"metadata": map[string]any{"annotations": map[string]any{"example/generation": "2"}}},
			"traffic": []any{
				map[string]any{"revisionName": "hello-00001", "percent": 80},
				map[string]any{"latestRevision": true, "percent": 20},
			},
		}}
		s, err := scenarios.New("go-example").
			Config("config-autoscaler", "stable-window", "6s").
			Config("config-autoscaler", "allow-zero-initial-scale", "true").
			Stack(scenarios.Stack{App: scenarios.AppModel{ServiceTime: "100ms"}}).
			WithService(ksvc).
			Ramp("hello", 1, 50, 4*time.Second). // 50/s × 100ms: 5 in flight, two pods
			Constant("hello", 50, 10*time.Second).
			At(5*time.Second, &scenarios.UpdateService{Name: "hello", Patch: rollout}).
			Expect(&scenarios.ErrorRateExpect{Scope: scenarios.Scope{Service: "hello"}}).
			Build()
		Expect(err).NotTo(HaveOccurred())

		run, err := scenarios.Run(ctx, s, scenarios.RunOptions{Progress: GinkgoWriter})
		Expect(err).NotTo(HaveOccurred())
		Expect(run).To(matchers.Pass())
		Expect(run).To(matchers.AllAccounted())
		Expect(run).To(matchers.ReadyWithin(4 * time.Second).Of("hello-00001"))
		Expect(run).To(matchers.ScaleTo(2).Of("hello-00001").Within(8 * time.Second))
		Expect(run).To(matchers.SplitWithin(20, 0.999).Of("hello").Between(9*time.Second, 14*time.Second))
	})
})
