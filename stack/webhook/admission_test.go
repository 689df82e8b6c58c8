package webhook

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
)

var _ = Describe("Admission webhook served to the real API server (§2)", func() {
	var ns string

	BeforeEach(func(ctx SpecContext) {
		n := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "webhook-"}}
		Expect(create(ctx, n)).To(Succeed())
		ns = n.Name
		DeferCleanup(func(ctx context.Context) { _ = k8s.Delete(ctx, n) })
	})

	// service is ksvc in the spec's namespace.
	service := func(mods ...func(*servingv1.Service)) *servingv1.Service {
		s := ksvc(mods...)
		s.Namespace = ns
		return s
	}

	It("defaults a created Service (§2.1)", func(ctx SpecContext) {
		Expect(create(ctx, service())).To(Succeed())
		got := &servingv1.Service{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "hello"}, got)).To(Succeed())
		rs := got.Spec.Template.Spec
		Expect(rs.TimeoutSeconds).To(Equal(ptr.To[int64](300)))
		Expect(rs.ContainerConcurrency).To(Equal(ptr.To[int64](0)))
		Expect(rs.EnableServiceLinks).To(Equal(ptr.To(false)))
		Expect(rs.Containers).To(HaveLen(1))
		Expect(rs.Containers[0].Name).To(Equal("user-container"))
		Expect(rs.Containers[0].Ports).To(BeEmpty(), "the default port 8080 is implied, not written")
		Expect(rs.Containers[0].ReadinessProbe).NotTo(BeNil())
		Expect(rs.Containers[0].ReadinessProbe.TCPSocket).NotTo(BeNil())
		Expect(got.Spec.Traffic).To(Equal([]servingv1.TrafficTarget{{Percent: ptr.To[int64](100), LatestRevision: ptr.To(true)}}))
		creator := got.Annotations[serving.CreatorAnnotation]
		Expect(creator).NotTo(BeEmpty(), "creator comes from the admission request's user")
		Expect(got.Annotations).To(HaveKeyWithValue(serving.UpdaterAnnotation, creator))
	})

	It("defaults a PodAutoscaler's class and metric (§2.1)", func(ctx SpecContext) {
		pa := &autoscalingv1alpha1.PodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "hello-00001", Namespace: ns},
			Spec: autoscalingv1alpha1.PodAutoscalerSpec{ProtocolType: autoscalingv1alpha1.ProtocolHTTP1,
				ScaleTargetRef: corev1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "hello-00001-deployment"}}}
		Expect(create(ctx, pa)).To(Succeed())
		Expect(pa.Annotations).To(HaveKeyWithValue(serving.ClassAnnotationKey, serving.KPAClass))
		Expect(pa.Annotations).To(HaveKeyWithValue(serving.MetricAnnotationKey, serving.MetricConcurrency))
	})

	DescribeTable("denies a Service that breaks a rule (§2.2)",
		func(ctx SpecContext, mod func(*servingv1.Service), want string) {
			err := create(ctx, service(mod))
			Expect(err).To(HaveOccurred())
			Expect(apierrors.IsBadRequest(err)).To(BeTrue(), "got %v", err)
			Expect(err.Error()).To(ContainSubstring(`admission webhook "validation.webhook.serving.knative.dev" denied the request: validation failed: `))
			Expect(err.Error()).To(ContainSubstring(want))
		},
		Entry("disallowed PodSpec field", func(s *servingv1.Service) { podSpec(s).NodeSelector = map[string]string{"a": "b"} },
			"must not set the field(s): spec.template.spec.nodeSelector"),
		Entry("traffic that does not sum to 100", traffic(servingv1.TrafficTarget{Percent: pct(90)}),
			"Traffic targets sum to 90, want 100: spec.traffic"),
		Entry("a bad tag", traffic(servingv1.TrafficTarget{Percent: pct(100), Tag: "Not_A_Label"}),
			"spec.traffic[0].tag"),
		Entry("a reserved port", func(s *servingv1.Service) { ctr0(s).Ports = []corev1.ContainerPort{{ContainerPort: 8012}} },
			"8012 is a reserved port: spec.template.spec.containers[0].ports[0].containerPort"),
		Entry("a reserved env var", func(s *servingv1.Service) { ctr0(s).Env = []corev1.EnvVar{{Name: "PORT", Value: "9"}} },
			`"PORT" is a reserved environment variable: spec.template.spec.containers[0].env[0].name`),
		Entry("a reserved container name", func(s *servingv1.Service) { ctr0(s).Name = "queue-proxy" },
			`"queue-proxy" is a reserved container name: spec.template.spec.containers[0].name`),
		Entry("max-scale below min-scale", templateAnns("autoscaling.knative.dev/min-scale", "3", "autoscaling.knative.dev/max-scale", "2"),
			"max-scale=2 is less than min-scale=3: spec.template.metadata.annotations[autoscaling.knative.dev/max-scale]"),
		Entry("a window out of bounds (legacy-free key)", templateAnns("autoscaling.knative.dev/window", "1s"),
			"expected 6s <= 1s <= 1h0m0s: spec.template.metadata.annotations[autoscaling.knative.dev/window]"),
		Entry("an autoscaling annotation on the Service", func(s *servingv1.Service) {
			s.Annotations = map[string]string{"autoscaling.knative.dev/minScale": "1"}
		}, `autoscaling annotations must be put under "spec.template.metadata.annotations" to work: metadata.annotations`),
		Entry("a BYO revision name without the Service prefix", func(s *servingv1.Service) { s.Spec.Template.Name = "blue" },
			`invalid value: "blue" must have prefix "hello-": spec.template.metadata.name`),
		Entry("timeoutSeconds above the max", func(s *servingv1.Service) { s.Spec.Template.Spec.TimeoutSeconds = ptr.To[int64](700) },
			"expected 0 <= 700 <= 600: spec.template.spec.timeoutSeconds"),
	)

	It("denies unknown fields in the schemaless spec, naming them (§2.2)", func(ctx SpecContext) {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "serving.knative.dev/v1", "kind": "Service",
			"metadata": map[string]any{"name": "typo", "namespace": ns},
			"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
				"containers": []any{map[string]any{"image": testImage, "imagee": "oops"}}}}},
		}}
		err := create(ctx, u)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring(`admission webhook "webhook.serving.knative.dev" denied the request`))
		Expect(err.Error()).To(ContainSubstring(`unknown field "spec.template.spec.containers[0].imagee"`))
	})

	It("keeps a Revision's spec immutable on update (§2.2)", func(ctx SpecContext) {
		rev := &servingv1.Revision{ObjectMeta: metav1.ObjectMeta{Name: "hello-00001", Namespace: ns},
			Spec: servingv1.RevisionSpec{PodSpec: corev1.PodSpec{Containers: []corev1.Container{{Image: testImage}}}}}
		Expect(create(ctx, rev)).To(Succeed())
		Expect(rev.Spec.TimeoutSeconds).To(Equal(ptr.To[int64](300)), "defaulted on create")

		rev.Labels = map[string]string{serving.RoutingStateLabelKey: serving.RoutingStateActive}
		Expect(k8s.Update(ctx, rev)).To(Succeed(), "metadata changes are fine")

		rev.Spec.Containers[0].Image = "ghcr.io/knative/other:v2"
		err := k8s.Update(ctx, rev)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("Immutable fields changed (-old +new): spec"))
		Expect(err.Error()).To(ContainSubstring(`+: "ghcr.io/knative/other:v2"`))
	})

	It("rejects a template change that keeps the BYO revision name (§2.2)", func(ctx SpecContext) {
		s := service(func(s *servingv1.Service) { s.Spec.Template.Name = "hello-v1" })
		Expect(create(ctx, s)).To(Succeed())
		ctr0(s).Image = "ghcr.io/knative/helloworld-go:v2"
		err := k8s.Update(ctx, s)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("Saw the following changes without a name change (-old +new): spec.template.metadata.name"))

		s.Spec.Template.Name = "hello-v2"
		Expect(k8s.Update(ctx, s)).To(Succeed())
	})

	It("requires the ownership label to match an owner (§2.2)", func(ctx SpecContext) {
		cfg := &servingv1.Configuration{ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: ns,
			Labels: map[string]string{serving.ServiceLabelKey: "hello"}}, Spec: ksvc().Spec.ConfigurationSpec}
		err := create(ctx, cfg)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("missing field(s): metadata.labels[serving.knative.dev/service]"))
	})
})
