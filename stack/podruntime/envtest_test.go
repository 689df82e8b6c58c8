//nolint:staticcheck // kube-controller-manager still writes core/v1 Endpoints, and Knative reads them (§3.6).
package podruntime_test

import (
	"fmt"
	"net/netip"
	"regexp"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/podruntime"
)

const (
	timeout  = 20 * time.Second
	interval = 50 * time.Millisecond
)

func newNamespace(ctx SpecContext) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "podruntime-"}}
	Expect(k8s.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

// revisionDeployment is shaped like a Revision's Deployment (knative-semantics.md §1.2, §1.5):
// labelled with the revision, selected by revisionUID, a user container without readiness probe
// and a queue-proxy with one.
func revisionDeployment(ns, rev string, replicas int32, annotations map[string]string) *appsv1.Deployment {
	lbls := map[string]string{serving.RevisionLabelKey: rev, serving.RevisionUIDLabelKey: rev + "-uid", serving.AppLabelKey: rev}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: rev + "-deployment", Labels: lbls},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{serving.RevisionUIDLabelKey: rev + "-uid"}},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxUnavailable: ptr.To(intstr.FromInt32(0))}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: lbls, Annotations: annotations},
				Spec: corev1.PodSpec{Containers: []corev1.Container{
					{Name: serving.UserContainerDefaultName, Image: "example.com/hello:v1",
						Ports: []corev1.ContainerPort{{Name: serving.UserPortName, ContainerPort: 8080}}},
					{Name: serving.QueueContainerName, Image: "example.com/queue:v1",
						Ports: []corev1.ContainerPort{{Name: serving.QueuePortName, ContainerPort: serving.QueueHTTPPort},
							{Name: serving.AutoscalingQueueMetricsPortName, ContainerPort: serving.AutoscalingQueueMetricsPort}},
						ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(serving.QueueHTTPPort)}}}},
				}},
			},
		},
	}
}

// privateService selects a revision's pods like Knative's private SKS Service (§1.1).
func privateService(ns, rev string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: rev + "-private"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{serving.RevisionUIDLabelKey: rev + "-uid"},
			Ports: []corev1.ServicePort{
				{Name: "http", Port: serving.ServiceHTTPPort, TargetPort: intstr.FromString(serving.QueuePortName)},
				{Name: serving.AutoscalingQueueMetricsPortName, Port: serving.AutoscalingQueueMetricsPort, TargetPort: intstr.FromInt32(serving.AutoscalingQueueMetricsPort)},
			},
		},
	}
}

func podsOf(ctx SpecContext, d *appsv1.Deployment) []corev1.Pod {
	list := &corev1.PodList{}
	ExpectWithOffset(1, k8s.List(ctx, list, client.InNamespace(d.Namespace), client.MatchingLabels(d.Spec.Selector.MatchLabels))).To(Succeed())
	return list.Items
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func podCondition(p *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == t {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func deploymentCondition(d *appsv1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range d.Status.Conditions {
		if d.Status.Conditions[i].Type == t {
			return &d.Status.Conditions[i]
		}
	}
	return nil
}

func containerStatus(p *corev1.Pod, name string) *corev1.ContainerStatus {
	for i := range p.Status.ContainerStatuses {
		if p.Status.ContainerStatuses[i].Name == name {
			return &p.Status.ContainerStatuses[i]
		}
	}
	return nil
}

// readyPods waits until d has exactly n pods, all Running and Ready, and returns them.
func readyPods(ctx SpecContext, d *appsv1.Deployment, n int) []corev1.Pod {
	var pods []corev1.Pod
	EventuallyWithOffset(1, func(g Gomega) {
		pods = podsOf(ctx, d)
		g.Expect(pods).To(HaveLen(n))
		for i := range pods {
			g.Expect(pods[i].DeletionTimestamp).To(BeNil())
			g.Expect(pods[i].Status.Phase).To(Equal(corev1.PodRunning))
			g.Expect(podReady(&pods[i])).To(BeTrue(), "pod %s not ready", pods[i].Name)
		}
	}, timeout, interval).Should(Succeed())
	return pods
}

var _ = Describe("Deployments become pods (§1.5 Deployment)", func() {
	It("runs spec.replicas Running, Ready pods on distinct loopback IPs and reports readyReplicas", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		d := revisionDeployment(ns, "hello-00001", 3, nil)
		Expect(k8s.Create(ctx, d)).To(Succeed())

		pods := readyPods(ctx, d, 3)
		nameRE := regexp.MustCompile(`^hello-00001-deployment-[bcdfghjklmnpqrstvwxz2456789]+-[bcdfghjklmnpqrstvwxz2456789]{5}$`)
		ips := map[string]bool{}
		for i := range pods {
			p := &pods[i]
			Expect(p.Name).To(MatchRegexp(nameRE.String()))
			Expect(p.Labels).To(HaveKeyWithValue(serving.RevisionLabelKey, "hello-00001"))
			Expect(p.Labels).To(HaveKey(appsv1.DefaultDeploymentUniqueLabelKey))
			Expect(metav1.IsControlledBy(p, d)).To(BeTrue(), "pod %s not controlled by the Deployment", p.Name)
			Expect(p.Spec.NodeName).To(Equal(podruntime.DefaultNodeName))
			ip := netip.MustParseAddr(p.Status.PodIP)
			Expect(ip.IsLoopback()).To(BeTrue(), "pod IP %s", ip)
			Expect(p.Status.PodIPs).To(ConsistOf(corev1.PodIP{IP: p.Status.PodIP}))
			Expect(p.Status.HostIP).To(Equal(podruntime.NodeIP.String()))
			ips[p.Status.PodIP] = true
			// The sandbox was started on the pod's own address.
			Expect(sandbox.startedIP(ns + "/" + p.Name)).To(Equal(p.Status.PodIP))
			for _, c := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
				Expect(podCondition(p, c)).NotTo(BeNil(), "condition %s", c)
				Expect(podCondition(p, c).Status).To(Equal(corev1.ConditionTrue), "condition %s", c)
			}
			for _, name := range []string{serving.UserContainerDefaultName, serving.QueueContainerName} {
				cs := containerStatus(p, name)
				Expect(cs).NotTo(BeNil(), "container status %s", name)
				Expect(cs.State.Running).NotTo(BeNil())
				Expect(cs.Ready).To(BeTrue())
				Expect(cs.RestartCount).To(BeZero())
			}
		}
		Expect(ips).To(HaveLen(3), "pod IPs not distinct")

		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(d), d)).To(Succeed())
			g.Expect(d.Status.ObservedGeneration).To(Equal(d.Generation))
			g.Expect(d.Status.Replicas).To(BeEquivalentTo(3))
			g.Expect(d.Status.UpdatedReplicas).To(BeEquivalentTo(3))
			g.Expect(d.Status.ReadyReplicas).To(BeEquivalentTo(3))
			g.Expect(d.Status.AvailableReplicas).To(BeEquivalentTo(3))
			g.Expect(d.Status.UnavailableReplicas).To(BeZero())
			g.Expect(deploymentCondition(d, appsv1.DeploymentAvailable)).To(HaveField("Status", corev1.ConditionTrue))
			g.Expect(deploymentCondition(d, appsv1.DeploymentProgressing)).To(And(
				HaveField("Status", corev1.ConditionTrue), HaveField("Reason", podruntime.ReasonNewReplicaSetAvailable)))
		}, timeout, interval).Should(Succeed())

		// The node registers alongside (pods are bound by name and may be Ready first).
		node := &corev1.Node{}
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKey{Name: podruntime.DefaultNodeName}, node)).To(Succeed())
			g.Expect(node.Status.Conditions).To(ContainElement(And(HaveField("Type", corev1.NodeReady), HaveField("Status", corev1.ConditionTrue))))
		}, timeout, interval).Should(Succeed())
		Expect(node.Spec.Taints).To(BeEmpty())
	})

	It("reports Running and Ready in one status write when the sandbox is ready a moment after it starts", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		sandbox.slowReady(ns, 20*time.Millisecond)
		wc, err := client.NewWithWatch(testEnv.Config, client.Options{Scheme: k8s.Scheme()})
		Expect(err).NotTo(HaveOccurred())
		w, err := wc.Watch(ctx, &corev1.PodList{}, client.InNamespace(ns))
		Expect(err).NotTo(HaveOccurred())
		defer w.Stop()
		d := revisionDeployment(ns, "hello-00001", 1, nil)
		Expect(k8s.Create(ctx, d)).To(Succeed())
		readyPods(ctx, d, 1)
		// Every version of the pod the API server stored: none is Running but not Ready.
		var versions []string
		Eventually(func(g Gomega) {
			select {
			case ev := <-w.ResultChan():
				if p, ok := ev.Object.(*corev1.Pod); ok {
					versions = append(versions, fmt.Sprintf("%s ready=%v", p.Status.Phase, podReady(p)))
				}
			default:
			}
			g.Expect(versions).To(ContainElement("Running ready=true"))
		}, timeout, time.Millisecond).Should(Succeed())
		Expect(versions).NotTo(ContainElement("Running ready=false"), "pod versions %v", versions)
	})

	It("publishes Endpoints and EndpointSlices, then scale 3 → 1 drains two pods, deletes them and shrinks the endpoints", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		release := sandbox.gate(ns)
		defer release()
		d := revisionDeployment(ns, "hello-00002", 3, nil)
		Expect(k8s.Create(ctx, d)).To(Succeed())
		svc := privateService(ns, "hello-00002")
		Expect(k8s.Create(ctx, svc)).To(Succeed())
		pods := readyPods(ctx, d, 3)
		wantAddrs := map[string]string{} // published address → pod
		podIPs := map[string]string{}    // pod → its loopback IP
		for _, p := range pods {
			wantAddrs[podruntime.EndpointIP(p.Status.PodIP)] = p.Name
			podIPs[p.Name] = p.Status.PodIP
		}
		Expect(wantAddrs).To(HaveLen(3))
		ipsBefore := podRuntime.PodIPsInUse()

		By("Endpoints list the 3 ready pods under their published addresses")
		Eventually(func(g Gomega) {
			ep := &corev1.Endpoints{}
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(svc), ep)).To(Succeed())
			g.Expect(ep.Subsets).To(HaveLen(1))
			g.Expect(ep.Subsets[0].NotReadyAddresses).To(BeEmpty())
			got := map[string]string{}
			for _, a := range ep.Subsets[0].Addresses {
				got[a.IP] = a.TargetRef.Name
				g.Expect(netip.MustParseAddr(a.IP).IsLoopback()).To(BeFalse(), "the API refuses loopback endpoints")
				g.Expect(podruntime.PodIP(a.IP)).To(Equal(podIPs[a.TargetRef.Name]), "published address does not map back to the pod IP")
				g.Expect(a.NodeName).To(HaveValue(Equal(podruntime.DefaultNodeName)))
			}
			g.Expect(got).To(Equal(wantAddrs))
			g.Expect(ep.Subsets[0].Ports).To(ConsistOf(
				HaveField("Port", serving.QueueHTTPPort), HaveField("Port", serving.AutoscalingQueueMetricsPort)))
		}, timeout, interval).Should(Succeed())

		By("an EndpointSlice lists them ready")
		sliceFor := func(g Gomega) *discoveryv1.EndpointSlice {
			list := &discoveryv1.EndpointSliceList{}
			g.Expect(k8s.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{discoveryv1.LabelServiceName: svc.Name})).To(Succeed())
			g.Expect(list.Items).To(HaveLen(1))
			es := &list.Items[0]
			g.Expect(es.Labels).To(HaveKeyWithValue(discoveryv1.LabelManagedBy, podruntime.EndpointSliceControllerName))
			g.Expect(es.AddressType).To(Equal(discoveryv1.AddressTypeIPv4))
			return es
		}
		Eventually(func(g Gomega) {
			es := sliceFor(g)
			g.Expect(es.Endpoints).To(HaveLen(3))
			for _, e := range es.Endpoints {
				g.Expect(wantAddrs).To(HaveKeyWithValue(e.Addresses[0], e.TargetRef.Name))
				g.Expect(*e.Conditions.Ready).To(BeTrue())
				g.Expect(*e.Conditions.Serving).To(BeTrue())
				g.Expect(*e.Conditions.Terminating).To(BeFalse())
			}
		}, timeout, interval).Should(Succeed())

		By("scaling to 1")
		Eventually(func() error { // retry if the runtime wrote the status meanwhile
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(d), d); err != nil {
				return err
			}
			d.Spec.Replicas = ptr.To(int32(1))
			return k8s.Update(ctx, d)
		}, timeout, interval).Should(Succeed())

		By("two pods terminate gracefully: deletionTimestamp set, not ready, drain hook running (§5 graceful drain)")
		var victims []string
		Eventually(func(g Gomega) {
			victims = nil
			for _, p := range podsOf(ctx, d) {
				if p.DeletionTimestamp == nil {
					continue
				}
				victims = append(victims, p.Name)
				g.Expect(podReady(&p)).To(BeFalse(), "terminating pod %s still ready", p.Name)
				g.Expect(sandbox.wasDrained(ns+"/"+p.Name)).To(BeTrue(), "drain hook not called for %s", p.Name)
			}
			g.Expect(victims).To(HaveLen(2))
		}, timeout, interval).Should(Succeed())

		By("while draining, v1 Endpoints drop them and the slice marks them terminating")
		Eventually(func(g Gomega) {
			ep := &corev1.Endpoints{}
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(svc), ep)).To(Succeed())
			g.Expect(ep.Subsets).To(HaveLen(1))
			g.Expect(ep.Subsets[0].Addresses).To(HaveLen(1))
			g.Expect(ep.Subsets[0].NotReadyAddresses).To(BeEmpty())
			es := sliceFor(g)
			g.Expect(es.Endpoints).To(HaveLen(3))
			terminating := 0
			for _, e := range es.Endpoints {
				if *e.Conditions.Terminating {
					terminating++
					g.Expect(*e.Conditions.Ready).To(BeFalse())
					g.Expect(*e.Conditions.Serving).To(BeFalse())
				}
			}
			g.Expect(terminating).To(Equal(2))
		}, timeout, interval).Should(Succeed())
		Consistently(func(g Gomega) {
			g.Expect(podsOf(ctx, d)).To(HaveLen(3), "pods deleted before their drain finished")
		}, 300*time.Millisecond, interval).Should(Succeed())

		By("releasing the drains: the pods are deleted and the endpoints shrink to 1")
		release()
		Eventually(func(g Gomega) {
			for _, name := range victims {
				err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &corev1.Pod{})
				g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "pod %s still exists (%v)", name, err)
			}
			ep := &corev1.Endpoints{}
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(svc), ep)).To(Succeed())
			g.Expect(ep.Subsets).To(HaveLen(1))
			g.Expect(ep.Subsets[0].Addresses).To(HaveLen(1))
			g.Expect(sliceFor(g).Endpoints).To(HaveLen(1))
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(d), d)).To(Succeed())
			g.Expect(d.Status.Replicas).To(BeEquivalentTo(1))
			g.Expect(d.Status.ReadyReplicas).To(BeEquivalentTo(1))
		}, timeout, interval).Should(Succeed())
		left := readyPods(ctx, d, 1)
		Expect(victims).NotTo(ContainElement(left[0].Name))
		// The victims' addresses were freed once they were gone.
		Expect(podRuntime.PodIPsInUse()).To(Equal(ipsBefore - 2))
	})

	It("deletes the pods of a deleted Deployment (no garbage collector runs)", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		d := revisionDeployment(ns, "hello-00003", 2, nil)
		Expect(k8s.Create(ctx, d)).To(Succeed())
		readyPods(ctx, d, 2)
		Expect(k8s.Delete(ctx, d)).To(Succeed())
		Eventually(func() []corev1.Pod { return podsOf(ctx, d) }, timeout, interval).Should(BeEmpty())
	})

	It("rolls a template change out: new-hash pods replace the old ones, maxUnavailable 0", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		d := revisionDeployment(ns, "hello-00005", 2, nil)
		Expect(k8s.Create(ctx, d)).To(Succeed())
		old := readyPods(ctx, d, 2)
		oldHash := old[0].Labels[appsv1.DefaultDeploymentUniqueLabelKey]
		// The runtime may be writing the Deployment's status meanwhile: retry on a conflict.
		Eventually(func() error {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(d), d); err != nil {
				return err
			}
			d.Spec.Template.Annotations = map[string]string{"example.com/config": "v2"}
			return k8s.Update(ctx, d)
		}, timeout, interval).Should(Succeed())
		Eventually(func(g Gomega) {
			pods := podsOf(ctx, d)
			g.Expect(pods).To(HaveLen(2))
			for i := range pods {
				g.Expect(pods[i].Labels[appsv1.DefaultDeploymentUniqueLabelKey]).NotTo(Equal(oldHash))
				g.Expect(pods[i].Annotations).To(HaveKeyWithValue("example.com/config", "v2"))
				g.Expect(podReady(&pods[i])).To(BeTrue())
			}
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(d), d)).To(Succeed())
			g.Expect(d.Status.UpdatedReplicas).To(BeEquivalentTo(2))
			g.Expect(d.Status.AvailableReplicas).To(BeEquivalentTo(2))
			c := deploymentCondition(d, appsv1.DeploymentProgressing)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(podruntime.ReasonNewReplicaSetAvailable))
			g.Expect(c.Message).To(ContainSubstring(d.Name + "-" + pods[0].Labels[appsv1.DefaultDeploymentUniqueLabelKey]))
		}, timeout, interval).Should(Succeed())
	})

	It("holds readiness until the startup delay has passed on the injected clock", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		d := revisionDeployment(ns, "hello-00004", 1, map[string]string{podruntime.StartupDelayAnnotation: "30s"})
		Expect(k8s.Create(ctx, d)).To(Succeed())
		Eventually(func(g Gomega) {
			pods := podsOf(ctx, d)
			g.Expect(pods).To(HaveLen(1))
			g.Expect(pods[0].Status.Phase).To(Equal(corev1.PodRunning))
		}, timeout, interval).Should(Succeed())
		Consistently(func(g Gomega) {
			pods := podsOf(ctx, d)
			g.Expect(pods).To(HaveLen(1))
			g.Expect(podReady(&pods[0])).To(BeFalse())
			// Knative's user-container has no readiness probe: ready once running; the
			// queue-proxy's probe is what waits.
			g.Expect(containerStatus(&pods[0], serving.UserContainerDefaultName).Ready).To(BeTrue())
			g.Expect(containerStatus(&pods[0], serving.QueueContainerName).Ready).To(BeFalse())
		}, 500*time.Millisecond, interval).Should(Succeed())
		fakeClock.Step(31 * time.Second)
		readyPods(ctx, d, 1)
	})
})

var _ = Describe("Failure knobs (§1.5 crash detection reads these)", func() {
	It("§1.5 crash: lastState.terminated.exitCode, CrashLoopBackOff and an incrementing restartCount", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		d := revisionDeployment(ns, "crash-00001", 1, map[string]string{podruntime.CrashAnnotation: "3", podruntime.CrashMessageAnnotation: "boom"})
		Expect(k8s.Create(ctx, d)).To(Succeed())
		var restarts int32
		Eventually(func(g Gomega) {
			pods := podsOf(ctx, d)
			g.Expect(pods).To(HaveLen(1))
			cs := containerStatus(&pods[0], serving.UserContainerDefaultName)
			g.Expect(cs).NotTo(BeNil())
			g.Expect(cs.LastTerminationState.Terminated).NotTo(BeNil())
			g.Expect(cs.LastTerminationState.Terminated.ExitCode).To(BeEquivalentTo(3))
			g.Expect(cs.LastTerminationState.Terminated.Message).To(Equal("boom"))
			g.Expect(cs.State.Waiting).NotTo(BeNil())
			g.Expect(cs.State.Waiting.Reason).To(Equal("CrashLoopBackOff"))
			g.Expect(cs.RestartCount).To(BeNumerically(">=", 1))
			g.Expect(podReady(&pods[0])).To(BeFalse())
			restarts = cs.RestartCount
		}, timeout, interval).Should(Succeed())
		fakeClock.Step(11 * time.Second) // past the 10s back-off
		Eventually(func(g Gomega) {
			pods := podsOf(ctx, d)
			g.Expect(pods).To(HaveLen(1))
			g.Expect(containerStatus(&pods[0], serving.UserContainerDefaultName).RestartCount).To(BeNumerically(">", restarts))
		}, timeout, interval).Should(Succeed())
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(d), d)).To(Succeed())
		Expect(d.Status.ReadyReplicas).To(BeZero())
		Expect(d.Status.AvailableReplicas).To(BeZero())
	})

	It("§1.5 unschedulable: PodScheduled False, reason Unschedulable, phase Pending", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		d := revisionDeployment(ns, "unsched-00001", 1, map[string]string{podruntime.UnschedulableAnnotation: "true"})
		Expect(k8s.Create(ctx, d)).To(Succeed())
		Eventually(func(g Gomega) {
			pods := podsOf(ctx, d)
			g.Expect(pods).To(HaveLen(1))
			p := &pods[0]
			c := podCondition(p, corev1.PodScheduled)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(corev1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(corev1.PodReasonUnschedulable))
			g.Expect(c.Message).To(HavePrefix("0/1 nodes are available"))
			g.Expect(p.Status.Phase).To(Equal(corev1.PodPending))
			g.Expect(p.Spec.NodeName).To(BeEmpty())
			g.Expect(p.Status.PodIP).To(BeEmpty())
			g.Expect(p.Status.ContainerStatuses).To(BeEmpty())
		}, timeout, interval).Should(Succeed())
	})

	It("image-pull-error: the user container waits in ErrImagePull / ImagePullBackOff, phase Pending", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		d := revisionDeployment(ns, "pull-00001", 1, map[string]string{podruntime.ImagePullErrorAnnotation: "true"})
		Expect(k8s.Create(ctx, d)).To(Succeed())
		Eventually(func(g Gomega) {
			pods := podsOf(ctx, d)
			g.Expect(pods).To(HaveLen(1))
			cs := containerStatus(&pods[0], serving.UserContainerDefaultName)
			g.Expect(cs).NotTo(BeNil())
			g.Expect(cs.State.Waiting).NotTo(BeNil())
			g.Expect(cs.State.Waiting.Reason).To(BeElementOf("ErrImagePull", "ImagePullBackOff"))
			g.Expect(pods[0].Status.Phase).To(Equal(corev1.PodPending))
		}, timeout, interval).Should(Succeed())
		fakeClock.Step(2 * time.Second)
		Eventually(func(g Gomega) {
			pods := podsOf(ctx, d)
			g.Expect(pods).To(HaveLen(1))
			g.Expect(containerStatus(&pods[0], serving.UserContainerDefaultName).State.Waiting.Reason).To(Equal("ImagePullBackOff"))
		}, timeout, interval).Should(Succeed())
	})

	It("never-ready with a short progressDeadlineSeconds: Progressing False, ProgressDeadlineExceeded", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		d := revisionDeployment(ns, "stuck-00001", 1, map[string]string{podruntime.NeverReadyAnnotation: "true"})
		d.Spec.ProgressDeadlineSeconds = ptr.To(int32(2))
		Expect(k8s.Create(ctx, d)).To(Succeed())
		Eventually(func(g Gomega) {
			pods := podsOf(ctx, d)
			g.Expect(pods).To(HaveLen(1))
			g.Expect(pods[0].Status.Phase).To(Equal(corev1.PodRunning))
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(d), d)).To(Succeed())
			g.Expect(d.Status.UpdatedReplicas).To(BeEquivalentTo(1))
			g.Expect(deploymentCondition(d, appsv1.DeploymentProgressing)).To(HaveField("Status", corev1.ConditionTrue))
		}, timeout, interval).Should(Succeed())
		Consistently(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(d), d)).To(Succeed())
			g.Expect(deploymentCondition(d, appsv1.DeploymentProgressing)).To(HaveField("Status", corev1.ConditionTrue))
		}, 300*time.Millisecond, interval).Should(Succeed(), "timed out before the injected clock moved")
		fakeClock.Step(3 * time.Second)
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(d), d)).To(Succeed())
			c := deploymentCondition(d, appsv1.DeploymentProgressing)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(corev1.ConditionFalse))
			g.Expect(c.Reason).To(Equal("ProgressDeadlineExceeded"))
			g.Expect(c.Message).To(Equal(fmt.Sprintf("ReplicaSet %q has timed out progressing.", d.Name+"-"+podsOf(ctx, d)[0].Labels[appsv1.DefaultDeploymentUniqueLabelKey])))
			g.Expect(deploymentCondition(d, appsv1.DeploymentAvailable)).To(HaveField("Status", corev1.ConditionFalse))
		}, timeout, interval).Should(Succeed())
	})
})
