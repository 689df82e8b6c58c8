package harness_test

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/servingsim/servingsim/harness"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/podruntime"
)

func setConfigMap(name string, data map[string]string) {
	EventuallyWithOffset(1, func() error {
		cm := &corev1.ConfigMap{}
		if err := stack.Client.Get(suiteCtx, client.ObjectKey{Namespace: serving.SystemNamespace, Name: name}, cm); err != nil {
			return err
		}
		cm.Data = data
		return stack.Client.Update(suiteCtx, cm)
	}).Should(Succeed())
}

func configMapData(name string) map[string]string {
	cm := &corev1.ConfigMap{}
	ExpectWithOffset(1, stack.Client.Get(suiteCtx, client.ObjectKey{Namespace: serving.SystemNamespace, Name: name}, cm)).To(Succeed())
	return cm.Data
}

var _ = Describe("config-* ConfigMaps are read live (knative-semantics.md §1.8)", Serial, func() {
	It("moves Service URLs when config-domain changes, and keeps the last good config-network when a change is invalid", func() {
		ns := newNamespace()
		Expect(stack.Client.Create(suiteCtx, ksvc(ns, "hello", "dev.local/hello:v1"))).To(Succeed())
		svc := &servingv1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hello"}}
		Eventually(readyStatus(svc)).Should(Equal("True"))

		oldDomain, oldNetwork := configMapData("config-domain"), configMapData("config-network")
		DeferCleanup(func() { setConfigMap("config-domain", oldDomain); setConfigMap("config-network", oldNetwork) })

		setConfigMap("config-domain", map[string]string{"sim.dev": ""})
		Eventually(func() string { _ = get(svc, ns, "hello")(); return svc.Status.URL }).Should(Equal(fmt.Sprintf("http://hello.%s.sim.dev", ns)))

		By("an invalid domain-template is refused and the last good template stays in force")
		setConfigMap("config-network", map[string]string{"domain-template": "{{.Name"})
		Consistently(func() string { return stack.System.Config.Load().Network.DomainTemplate }, "1s").
			Should(Equal("{{.Name}}.{{.Namespace}}.{{.Domain}}"))
		Expect(svc.Status.URL).To(Equal(fmt.Sprintf("http://hello.%s.sim.dev", ns)))

		By("a valid domain-template applies")
		setConfigMap("config-network", map[string]string{"domain-template": "{{.Name}}-{{.Namespace}}.{{.Domain}}"})
		Eventually(func() string { _ = get(svc, ns, "hello")(); return svc.Status.URL }).Should(Equal(fmt.Sprintf("http://hello-%s.sim.dev", ns)))
	})
})

var _ = Describe("Pod failures surface on the Revision (knative-semantics.md §1.5)", func() {
	failing := func(ns, knob, value string) *servingv1.Revision {
		s := ksvc(ns, "hello", "dev.local/hello:v1")
		s.Spec.Template.Annotations = map[string]string{knob: value}
		ExpectWithOffset(1, stack.Client.Create(suiteCtx, s)).To(Succeed())
		return &servingv1.Revision{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hello-00001"}}
	}
	condition := func(rev *servingv1.Revision, t string) func() string {
		return func() string {
			if err := stack.Client.Get(suiteCtx, client.ObjectKeyFromObject(rev), rev); err != nil {
				return err.Error()
			}
			c := rev.Status.GetCondition(servingv1.RevisionConditionContainerHealthy)
			if t == "ResourcesAvailable" {
				c = rev.Status.GetCondition(servingv1.RevisionConditionResourcesAvailable)
			}
			if c == nil {
				return "missing"
			}
			return string(c.Status) + "/" + c.Reason
		}
	}

	It("reports a crashing container as ContainerHealthy=False with ExitCode<N>", func() {
		rev := failing(newNamespace(), podruntime.CrashAnnotation, "3")
		Eventually(condition(rev, "ContainerHealthy")).Should(Equal("False/ExitCode3"))
		Expect(harness.ReadyCondition(rev).IsFalse()).To(BeTrue())
	})

	It("reports an unschedulable pod as ResourcesAvailable=False with the scheduler's reason", func() {
		rev := failing(newNamespace(), podruntime.UnschedulableAnnotation, "true")
		Eventually(condition(rev, "ResourcesAvailable")).Should(Equal("False/Unschedulable"))
		Expect(harness.ReadyCondition(rev).IsFalse()).To(BeTrue())
	})
})
