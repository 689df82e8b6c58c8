package harness_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/servingsim/servingsim/harness"
	"github.com/servingsim/servingsim/harness/cluster"
	asv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/podruntime"
)

func ksvc(ns, name, image string) *servingv1.Service {
	s := &servingv1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	s.Spec.Template.Spec.Containers = []corev1.Container{{Image: image, Env: []corev1.EnvVar{{Name: "TARGET", Value: "World"}}}}
	return s
}

func get[T client.Object](obj T, ns, name string) func() error {
	return func() error { return stack.Client.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: name}, obj) }
}

func readyStatus(obj client.Object) func() string {
	return func() string {
		if err := stack.Client.Get(suiteCtx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return "get: " + err.Error()
		}
		c := harness.ReadyCondition(obj)
		if c == nil {
			return "no Ready condition"
		}
		return string(c.Status)
	}
}

func controlledBy(obj client.Object, kind, name string) {
	ref := metav1.GetControllerOf(obj)
	ExpectWithOffset(1, ref).NotTo(BeNil(), "%s has no controller ownerRef", obj.GetName())
	ExpectWithOffset(1, ref.Kind).To(Equal(kind))
	ExpectWithOffset(1, ref.Name).To(Equal(name))
}

func updateService(ns, name string, mutate func(*servingv1.Service)) {
	EventuallyWithOffset(1, func() error {
		s := &servingv1.Service{}
		if err := stack.Client.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
			return err
		}
		mutate(s)
		return stack.Client.Update(suiteCtx, s)
	}).Should(Succeed())
}

var _ = Describe("A Knative Service (knative-semantics.md §1)", func() {
	It("creates its whole object graph with Knative's names, labels and owners, and becomes Ready", func() {
		ns := newNamespace()
		Expect(stack.Client.Create(suiteCtx, ksvc(ns, "hello", "ghcr.io/knative/helloworld-go:latest"))).To(Succeed())
		svc := &servingv1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hello"}}
		Eventually(readyStatus(svc)).Should(Equal("True"))

		By("Service status: URL from config-domain, cluster-local address, latest revisions (§1.3, §1.6)")
		Expect(svc.Status.URL).To(Equal(fmt.Sprintf("http://hello.%s.example.com", ns)))
		Expect(svc.Status.Address).NotTo(BeNil())
		Expect(svc.Status.Address.URL).To(Equal(fmt.Sprintf("http://hello.%s.svc.cluster.local", ns)))
		Expect(svc.Status.LatestCreatedRevisionName).To(Equal("hello-00001"))
		Expect(svc.Status.LatestReadyRevisionName).To(Equal("hello-00001"))
		Expect(svc.Status.Traffic).To(HaveLen(1))
		Expect(svc.Status.Traffic[0].RevisionName).To(Equal("hello-00001"))
		Expect(*svc.Status.Traffic[0].Percent).To(BeEquivalentTo(100))

		By("Configuration and Route named like the Service, controlled by it (§1.1, §1.2)")
		cfg := &servingv1.Configuration{}
		Expect(get(cfg, ns, "hello")()).To(Succeed())
		controlledBy(cfg, "Service", "hello")
		Expect(cfg.Labels).To(HaveKeyWithValue(serving.ServiceLabelKey, "hello"))
		Expect(cfg.Labels).To(HaveKeyWithValue(serving.ServiceUIDLabelKey, string(svc.UID)))
		rt := &servingv1.Route{}
		Expect(get(rt, ns, "hello")()).To(Succeed())
		controlledBy(rt, "Service", "hello")
		Expect(rt.Labels).To(HaveKeyWithValue(serving.ServiceLabelKey, "hello"))

		By("Revision hello-00001 with the propagated labels (§1.2)")
		rev := &servingv1.Revision{}
		Expect(get(rev, ns, "hello-00001")()).To(Succeed())
		controlledBy(rev, "Configuration", "hello")
		Expect(rev.Labels).To(HaveKeyWithValue(serving.ConfigurationLabelKey, "hello"))
		Expect(rev.Labels).To(HaveKeyWithValue(serving.ServiceLabelKey, "hello"))
		Expect(rev.Labels).To(HaveKeyWithValue(serving.ConfigurationGenerationLabelKey, "1"))
		Eventually(func() string { _ = get(rev, ns, "hello-00001")(); return rev.Labels[serving.RoutingStateLabelKey] }).Should(Equal("active"))
		Expect(rev.Annotations).To(HaveKey(serving.RoutesAnnotationKey))

		By("Deployment hello-00001-deployment selecting on revisionUID, and its pods on loopback IPs (§1.5)")
		dep := &appsv1.Deployment{}
		Expect(get(dep, ns, "hello-00001-deployment")()).To(Succeed())
		controlledBy(dep, "Revision", "hello-00001")
		Expect(dep.Spec.Selector.MatchLabels).To(Equal(map[string]string{serving.RevisionUIDLabelKey: string(rev.UID)}))
		Expect(dep.Spec.Template.Labels).To(HaveKeyWithValue(serving.RevisionLabelKey, "hello-00001"))
		Expect(dep.Spec.Template.Labels).To(HaveKeyWithValue("app", "hello-00001"))
		pods := &corev1.PodList{}
		Eventually(func() []string {
			_ = stack.Client.List(suiteCtx, pods, client.InNamespace(ns), client.MatchingLabels{serving.RevisionLabelKey: "hello-00001"})
			var ips []string
			for _, p := range pods.Items {
				ips = append(ips, p.Status.PodIP)
			}
			return ips
		}).Should(ContainElement(HavePrefix("127.")))

		By("PodAutoscaler, ServerlessService and Ingress (§1.1)")
		pa := &asv1alpha1.PodAutoscaler{}
		Expect(get(pa, ns, "hello-00001")()).To(Succeed())
		controlledBy(pa, "Revision", "hello-00001")
		Expect(pa.Spec.ScaleTargetRef.Name).To(Equal("hello-00001-deployment"))
		sks := &netv1alpha1.ServerlessService{}
		Expect(get(sks, ns, "hello-00001")()).To(Succeed())
		controlledBy(sks, "PodAutoscaler", "hello-00001")
		Eventually(func() error { return get(&corev1.Service{}, ns, "hello-00001-private")() }).Should(Succeed())
		Eventually(func() error { return get(&corev1.Service{}, ns, "hello-00001")() }).Should(Succeed())
		ing := &netv1alpha1.Ingress{}
		Expect(get(ing, ns, "hello")()).To(Succeed())
		controlledBy(ing, "Route", "hello")
		var hosts []string
		for _, r := range ing.Spec.Rules {
			hosts = append(hosts, r.Hosts...)
		}
		Expect(hosts).To(ContainElements("hello."+ns, "hello."+ns+".svc", "hello."+ns+".svc.cluster.local", "hello."+ns+".example.com"))
		Expect(get(&corev1.Service{}, ns, "hello")()).To(Succeed(), "the Route's placeholder Service")
	})

	It("stamps hello-00002 on a template change; latestReady and latestRevision traffic follow it (§1.4, §1.6)", func() {
		ns := newNamespace()
		Expect(stack.Client.Create(suiteCtx, ksvc(ns, "hello", "dev.local/hello:v1"))).To(Succeed())
		svc := &servingv1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hello"}}
		Eventually(readyStatus(svc)).Should(Equal("True"))

		updateService(ns, "hello", func(s *servingv1.Service) { s.Spec.Template.Spec.Containers[0].Image = "dev.local/hello:v2" })
		Eventually(func() string {
			_ = get(svc, ns, "hello")()
			if svc.Status.ObservedGeneration != svc.Generation || !harness.ReadyCondition(svc).IsTrue() || len(svc.Status.Traffic) != 1 {
				return "not settled"
			}
			return svc.Status.LatestReadyRevisionName + " " + svc.Status.Traffic[0].RevisionName
		}).Should(Equal("hello-00002 hello-00002"))
		Expect(svc.Status.LatestCreatedRevisionName).To(Equal("hello-00002"))

		By("80/20 across the two revisions plus a tag (§1.6 traffic flattening, tag URLs)")
		updateService(ns, "hello", func(s *servingv1.Service) {
			s.Spec.Traffic = []servingv1.TrafficTarget{
				{RevisionName: "hello-00001", Percent: ptr.To[int64](80)},
				{RevisionName: "hello-00002", Percent: ptr.To[int64](20), Tag: "candidate"},
			}
		})
		rt := &servingv1.Route{}
		Eventually(func() []string {
			_ = get(rt, ns, "hello")()
			if rt.Status.ObservedGeneration != rt.Generation {
				return nil
			}
			var out []string
			for _, t := range rt.Status.Traffic {
				out = append(out, fmt.Sprintf("%s=%d tag=%s url=%s", t.RevisionName, ptr.Deref(t.Percent, 0), t.Tag, t.URL))
			}
			return out
		}).Should(ConsistOf(
			"hello-00001=80 tag= url=",
			fmt.Sprintf("hello-00002=20 tag=candidate url=http://candidate-hello.%s.example.com", ns),
		))
		Eventually(readyStatus(svc)).Should(Equal("True"))
		rev1 := &servingv1.Revision{}
		Eventually(func() string { _ = get(rev1, ns, "hello-00001")(); return rev1.Labels[serving.RoutingStateLabelKey] }).Should(Equal("active"))
	})

	It("keeps traffic on the last good revision when a new one never becomes ready (§1.4, §1.5)", func() {
		ns := newNamespace()
		Expect(stack.Client.Create(suiteCtx, ksvc(ns, "hello", "dev.local/hello:v1"))).To(Succeed())
		svc := &servingv1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hello"}}
		Eventually(readyStatus(svc)).Should(Equal("True"))

		updateService(ns, "hello", func(s *servingv1.Service) {
			s.Spec.Template.Spec.Containers[0].Image = "dev.local/hello:broken"
			s.Spec.Template.Annotations = map[string]string{
				serving.ProgressDeadlineAnnotationKey: "3s",
				podruntime.NeverReadyAnnotation:       "true",
			}
		})
		rev2 := &servingv1.Revision{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hello-00002"}}
		Eventually(readyStatus(rev2)).Should(Equal("False"))
		Expect(harness.ReadyCondition(rev2).Reason).To(Equal("ProgressDeadlineExceeded"))

		cfg := &servingv1.Configuration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hello"}}
		Eventually(readyStatus(cfg)).Should(Equal("False"))
		Expect(harness.ReadyCondition(cfg).Reason).To(Equal("RevisionFailed"))
		Expect(harness.ReadyCondition(cfg).Message).To(ContainSubstring(`Revision "hello-00002" failed with message`))
		Expect(cfg.Status.LatestReadyRevisionName).To(Equal("hello-00001"))
		Expect(cfg.Status.LatestCreatedRevisionName).To(Equal("hello-00002"))

		rt := &servingv1.Route{}
		Expect(get(rt, ns, "hello")()).To(Succeed())
		Expect(rt.Status.Traffic).To(HaveLen(1))
		Expect(rt.Status.Traffic[0].RevisionName).To(Equal("hello-00001"))
		Eventually(readyStatus(svc)).Should(Equal("False"))
	})
})

var _ = Describe("kubectl against servingsim", func() {
	It("prints Knative's printer columns for ksvc, rev and route", func() {
		ns := newNamespace()
		Expect(stack.Client.Create(suiteCtx, ksvc(ns, "hello", "dev.local/hello:v1"))).To(Succeed())
		Eventually(readyStatus(&servingv1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hello"}})).Should(Equal("True"))

		kubectl, err := cluster.Kubectl()
		Expect(err).NotTo(HaveOccurred())
		kc := filepath.Join(GinkgoT().TempDir(), "kubeconfig")
		Expect(stack.WriteKubeconfig(kc)).To(Succeed())
		run := func(args ...string) string {
			out, err := exec.Command(kubectl, append([]string{"--kubeconfig", kc, "-n", ns}, args...)...).CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), string(out))
			return string(out)
		}
		header := func(out string) []string { return strings.Fields(strings.SplitN(out, "\n", 2)[0]) }
		Expect(header(run("get", "ksvc"))).To(Equal([]string{"NAME", "URL", "LATESTCREATED", "LATESTREADY", "READY", "REASON"}))
		Expect(run("get", "ksvc")).To(MatchRegexp(`hello\s+http://hello\.%s\.example\.com\s+hello-00001\s+hello-00001\s+True`, ns))
		Expect(header(run("get", "rev"))).To(Equal([]string{"NAME", "CONFIG", "NAME", "GENERATION", "READY", "REASON", "ACTUAL", "REPLICAS", "DESIRED", "REPLICAS"}))
		Expect(header(run("get", "route"))).To(Equal([]string{"NAME", "URL", "READY", "REASON"}))
		Expect(header(run("get", "configuration"))).To(Equal([]string{"NAME", "LATESTCREATED", "LATESTREADY", "READY", "REASON"}))
		Expect(run("get", "kpa,sks,king")).To(ContainSubstring("hello-00001"))
		Expect(run("get", "services", "-n", "knative-serving")).To(And(ContainSubstring("activator-service"), ContainSubstring("autoscaler"), ContainSubstring("controller"), ContainSubstring("webhook")))
	})
})

var _ = Describe("Level-triggered reconcilers", func() {
	It("converge after the components are killed and restarted mid-change", func() {
		ns := newNamespace()
		Expect(stack.Client.Create(suiteCtx, ksvc(ns, "hello", "dev.local/hello:v1"))).To(Succeed())
		svc := &servingv1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hello"}}
		Eventually(readyStatus(svc)).Should(Equal("True"))

		updateService(ns, "hello", func(s *servingv1.Service) { s.Spec.Template.Spec.Containers[0].Image = "dev.local/hello:v2" })
		Expect(stack.RestartComponents(suiteCtx)).To(Succeed())
		Eventually(func() string {
			_ = get(svc, ns, "hello")()
			if svc.Status.ObservedGeneration != svc.Generation || !harness.ReadyCondition(svc).IsTrue() {
				return "not settled"
			}
			return svc.Status.LatestReadyRevisionName
		}).Should(Equal("hello-00002"))
		revs := &servingv1.RevisionList{}
		Expect(stack.Client.List(suiteCtx, revs, client.InNamespace(ns))).To(Succeed())
		Expect(revs.Items).To(HaveLen(2), "a restart must not stamp duplicate revisions")
	})
})
