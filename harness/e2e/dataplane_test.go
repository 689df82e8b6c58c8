package e2e_test

import (
	"fmt"
	"math"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/servingsim/servingsim/harness/load"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/podruntime"
)

var _ = Describe("The data path: gateway → activator → queue-proxy → app (§4–§6)", func() {
	It("serves 1,000 requests at 200 rps to a min-scale 2 ksvc with no errors, every request accounted for", func() {
		ns := newNamespace()
		createReady(ksvc(ns, "steady", map[string]string{serving.MinScaleAnnotationKey: "2"}))
		rep := run(host("steady", ns), "/", nil, load.Constant{Rate: 200, Duration: 5 * time.Second})
		Expect(rep.Results).To(HaveLen(1000))
		Expect(codes(rep.Results)).To(Equal(map[uint16]int{200: 1000}))
	})

	It("buffers the first request at zero, scales from zero and serves it after the modelled pod start (§4 buffering, §3.3.3 poke)", func() {
		ns := newNamespace()
		const startup = 800 * time.Millisecond
		s := ksvc(ns, "cold", map[string]string{
			serving.InitialScaleAnnotationKey: "0",
			podruntime.StartupDelayAnnotation: startup.String(),
		})
		createReady(s)
		Expect(readyPods(ns, "cold-00001")()).To(BeZero())
		rep := run(host("cold", ns), "/", nil, load.Constant{Rate: 1, Duration: time.Second})
		Expect(rep.Results).To(HaveLen(1))
		Expect(rep.Results[0].Code).To(BeEquivalentTo(200), "body %q", rep.Results[0].Body)
		Expect(rep.Results[0].Latency).To(BeNumerically(">=", startup), "the cold request waited for the pod to start")
		Eventually(readyPods(ns, "cold-00001")).Should(Equal(1))
	})

	It("with containerConcurrency 1 and 5 concurrent clients the app never sees two requests at once (TestSingleConcurrency)", func() {
		ns := newNamespace()
		createReady(ksvc(ns, "single", map[string]string{serving.MinScaleAnnotationKey: "1"}, func(r *servingv1.RevisionSpec) {
			r.ContainerConcurrency = ptr(int64(1))
		}))
		rep := run(host("single", ns), "/?sleep=20", nil, load.Concurrent{Clients: 5, Duration: 4 * time.Second})
		Expect(codes(rep.Results)).To(HaveKey(uint16(200)))
		Expect(codes(rep.Results)).To(HaveLen(1), "only 200s: %v", codes(rep.Results))
		pods := stack.System.Pods.Pods()
		seen := 0
		for _, p := range pods {
			if p.Key.Namespace == ns {
				seen++
				Expect(p.App.MaxInFlight()).To(BeNumerically("<=", 1), "pod %s", p.Key)
			}
		}
		Expect(seen).To(BeNumerically(">=", 1))
	})

	It("splits 50/50 within a binomial 99.9% interval, sends 100% of each tag URL to its revision, and serves the cluster-local host (§6)", func() {
		ns := newNamespace()
		s := ksvc(ns, "split", map[string]string{serving.MinScaleAnnotationKey: "1"})
		createReady(s)
		Eventually(func() error {
			if err := stack.Client.Get(suiteCtx, key(s), s); err != nil {
				return err
			}
			s.Spec.Template.Annotations["sim.servingsim.dev/generation"] = "2"
			return stack.Client.Update(suiteCtx, s)
		}).Should(Succeed())
		Expect(stack.WaitReady(suiteCtx, s, time.Minute)).To(Succeed())
		Eventually(func() error {
			if err := stack.Client.Get(suiteCtx, key(s), s); err != nil {
				return err
			}
			s.Spec.Traffic = []servingv1.TrafficTarget{
				{RevisionName: "split-00001", Percent: ptr(int64(50)), Tag: "one"},
				{RevisionName: "split-00002", Percent: ptr(int64(50)), Tag: "two"},
			}
			return stack.Client.Update(suiteCtx, s)
		}).Should(Succeed())
		Eventually(func() bool {
			_ = stack.Client.Get(suiteCtx, key(s), s)
			return s.Status.ObservedGeneration == s.Generation && len(s.Status.Traffic) == 2
		}).Should(BeTrue())
		Expect(stack.WaitReady(suiteCtx, s, time.Minute)).To(Succeed())

		const n = 2000
		rep := run(host("split", ns), "/", echoHeader(), load.Constant{Rate: 500, Duration: n / 500 * time.Second})
		// A starved load generator may send fewer than planned (load.Run fails if a sent request
		// lacks its result); the split is tested on what was sent.
		sent := len(rep.Results)
		Expect(sent).To(BeNumerically(">=", n*8/10), "requests sent of %d planned", n)
		counts := map[string]int{}
		for _, r := range rep.Results {
			counts[revisionOf(r)]++
		}
		lo, hi := binomialInterval(sent, 0.5, 0.999)
		By(fmt.Sprintf("observed %v, 99.9%% interval [%d, %d]", counts, lo, hi))
		Expect(counts).To(HaveLen(2))
		for _, rev := range []string{"split-00001", "split-00002"} {
			Expect(counts[rev]).To(BeNumerically(">=", lo), rev)
			Expect(counts[rev]).To(BeNumerically("<=", hi), rev)
		}
		for tag, rev := range map[string]string{"one": "split-00001", "two": "split-00002"} {
			rep := run(host(tag+"-split", ns), "/", echoHeader(), load.Constant{Rate: 100, Duration: time.Second})
			for _, r := range rep.Results {
				Expect(revisionOf(r)).To(Equal(rev), "tag %s", tag)
			}
		}
		rep, err := load.Run(suiteCtx, load.Options{Addr: stack.System.InternalGatewayAddress(),
			Target: load.Target{Host: "split." + ns + ".svc.cluster.local", Header: echoHeader()}, Phases: []load.Phase{load.Constant{Rate: 50, Duration: time.Second}}})
		Expect(err).NotTo(HaveOccurred())
		Expect(codes(rep.Results)).To(Equal(map[uint16]int{200: 50}))
	})

	It("answers 504 past timeoutSeconds, 503 when the queue-proxy's queue overflows, 404 for an unknown host (§4, §5)", func() {
		ns := newNamespace()
		By("timeoutSeconds 1 with a 2 s sleep → 504")
		createReady(ksvc(ns, "slow", map[string]string{serving.MinScaleAnnotationKey: "1"}, func(r *servingv1.RevisionSpec) {
			r.TimeoutSeconds = ptr(int64(1))
		}))
		rep := run(host("slow", ns), "/?sleep=2000", nil, load.Constant{Rate: 2, Duration: time.Second})
		Expect(codes(rep.Results)).To(Equal(map[uint16]int{504: 2}))

		By("CC=1 has 1 + 10 slots in the queue-proxy; 30 concurrent slow requests in Serve mode overflow it → 503")
		createReady(ksvc(ns, "full", map[string]string{serving.MinScaleAnnotationKey: "1",
			serving.TargetBurstCapacityAnnotationKey: "0", serving.MaxScaleAnnotationKey: "1"}, func(r *servingv1.RevisionSpec) {
			r.ContainerConcurrency = ptr(int64(1))
		}))
		Eventually(sksMode(ns, "full-00001")).Should(BeEquivalentTo("Serve"))
		rep = run(host("full", ns), "/?sleep=300", nil, load.Burst{Requests: 30, Within: 10 * time.Millisecond})
		c := codes(rep.Results)
		Expect(c[503]).To(BeNumerically(">=", 1), "codes %v", c)
		Expect(c[200]+c[503]).To(Equal(30), "codes %v", c)

		By("unknown host → 404")
		rep = run("nope."+ns+".example.com", "/", nil, load.Constant{Rate: 1, Duration: time.Second})
		Expect(codes(rep.Results)).To(Equal(map[uint16]int{404: 1}))
	})

	It("drops nothing while the KPA scales down under load (queue-proxy drain, §5)", func() {
		ns := newNamespace()
		// Three pods at start, far more than 100 rps × 50 ms needs: once the initial panic ends
		// (a stable window) the KPA scales down while the load runs.
		createReady(ksvc(ns, "drain", map[string]string{serving.InitialScaleAnnotationKey: "3",
			serving.TargetBurstCapacityAnnotationKey: "0"}))
		Eventually(readyPods(ns, "drain-00001")).Should(Equal(3))
		done := make(chan *load.Report, 1)
		go func() {
			defer GinkgoRecover()
			done <- run(host("drain", ns), "/?sleep=50", nil, load.Constant{Rate: 100, Duration: 20 * time.Second})
		}()
		Eventually(readyPods(ns, "drain-00001"), 20*time.Second).Should(BeNumerically("<", 3))
		var rep *load.Report
		Eventually(done, 40*time.Second).Should(Receive(&rep))
		Expect(codes(rep.Results)).To(Equal(map[uint16]int{200: 2000}))
	})
})

// binomialInterval is the central interval holding conf of Binomial(n, p)'s mass.
func binomialInterval(n int, p, conf float64) (lo, hi int) {
	b := distuv.Binomial{N: float64(n), P: p}
	tail := (1 - conf) / 2
	lo, hi = 0, n
	for k := 0; k <= n; k++ {
		if b.CDF(float64(k)) >= tail {
			lo = k
			break
		}
	}
	for k := n; k >= 0; k-- {
		if 1-b.CDF(float64(k-1)) >= tail {
			hi = k
			break
		}
	}
	return lo, int(math.Max(float64(lo), float64(hi)))
}
