package e2e_test

import (
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/servingsim/servingsim/harness/load"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/kpa"
)

// events records the KPA's decisions for one revision.
type events struct {
	mu  sync.Mutex
	all []kpa.DecisionEvent
}

func watchDecisions(ns, rev string) (*events, func()) {
	e := &events{}
	cancel := stack.System.KPA.Subscribe(func(ev kpa.DecisionEvent) {
		if ev.Namespace == ns && ev.Revision == rev {
			e.mu.Lock()
			e.all = append(e.all, ev)
			e.mu.Unlock()
		}
	})
	return e, cancel
}

func (e *events) snapshot() []kpa.DecisionEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]kpa.DecisionEvent(nil), e.all...)
}

var _ = Describe("The KPA in the live stack (§3, config-autoscaler stable-window 6s)", func() {
	It("scales from zero under load with SKS Proxy→Serve as capacity allows, then to zero and back to Proxy once load stops", func() {
		ns := newNamespace()
		// target 10 per pod, TBC 2: one ready pod at concurrency ~2 leaves EBC = 10−2−2 ≥ 0 (Serve);
		// zero pods leave it negative (Proxy) (§3.4, §3.5.5).
		createReady(ksvc(ns, "auto", map[string]string{serving.InitialScaleAnnotationKey: "0",
			serving.TargetAnnotationKey: "10", serving.TargetBurstCapacityAnnotationKey: "2"}))
		Expect(sksMode(ns, "auto-00001")()).To(BeEquivalentTo("Proxy"))
		modes := map[string]bool{}
		stopWatch := make(chan struct{})
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			for {
				select {
				case <-stopWatch:
					return
				case <-time.After(20 * time.Millisecond):
					modes[string(sksMode(ns, "auto-00001")())] = true
				}
			}
		}()
		rep := run(host("auto", ns), "/?sleep=100", nil, load.Concurrent{Clients: 2, Duration: 8 * time.Second})
		Expect(codes(rep.Results)).To(HaveLen(1), "only 200s: %v", codes(rep.Results))
		Expect(codes(rep.Results)).To(HaveKey(uint16(200)))
		close(stopWatch)
		<-watched
		Expect(modes).To(HaveKey("Serve"), "the SKS switched to Serve while pods had capacity")

		By("no traffic for a stable window, then the grace period: scale to zero in Proxy mode (§3.5.4)")
		Eventually(readyPods(ns, "auto-00001"), stableWindow+graceWindow+30*time.Second).Should(BeZero())
		Expect(sksMode(ns, "auto-00001")()).To(BeEquivalentTo("Proxy"))
		p := pa(ns, "auto-00001")()
		Expect(p.Status.DesiredScale).NotTo(BeNil())
		Expect(*p.Status.DesiredScale).To(BeZero())
	})

	It("enters panic on a burst over 2× and scales up in the same tick (§3.4)", func() {
		ns := newNamespace()
		// A 6 s stable window leaves a 1 s panic window (10%), which reads 0 whenever a tick comes
		// before that second's scrape (Knative's bucketing); half the window keeps it filled.
		createReady(ksvc(ns, "burst", map[string]string{serving.MinScaleAnnotationKey: "1",
			serving.TargetAnnotationKey: "10", serving.TargetBurstCapacityAnnotationKey: "0",
			serving.PanicWindowPercentageAnnotationKey: "50"}))
		Eventually(readyPods(ns, "burst-00001")).Should(Equal(1))
		ev, cancel := watchDecisions(ns, "burst-00001")
		defer cancel()
		// 40 clients × 200 ms: concurrency ≈ 40 against 7 per pod (10 × 0.7) → 6 pods ≥ 2 × 1 ready.
		rep := run(host("burst", ns), "/?sleep=200", nil, load.Concurrent{Clients: 40, Duration: 6 * time.Second})
		Expect(codes(rep.Results)).To(HaveLen(1), "only 200s: %v", codes(rep.Results))
		var first *kpa.DecisionEvent
		for _, e := range ev.snapshot() {
			if e.Panicking {
				first = &e
				break
			}
		}
		Expect(first).NotTo(BeNil(), "no tick entered panic: %+v", ev.snapshot())
		Expect(first.DesiredPods).To(BeNumerically(">", first.ReadyPods), "the tick that entered panic scaled up: %+v", *first)
		Eventually(readyPods(ns, "burst-00001")).Should(BeNumerically(">", 1))
	})

	It("holds min-scale pods without traffic and caps pods at max-scale under load (§3.5.3)", func() {
		ns := newNamespace()
		createReady(ksvc(ns, "floor", map[string]string{serving.MinScaleAnnotationKey: "2"}))
		Eventually(readyPods(ns, "floor-00001")).Should(Equal(2))
		Consistently(readyPods(ns, "floor-00001"), stableWindow+graceWindow+2*time.Second, 250*time.Millisecond).Should(Equal(2))

		createReady(ksvc(ns, "ceiling", map[string]string{serving.MaxScaleAnnotationKey: "2",
			serving.TargetAnnotationKey: "5", serving.TargetBurstCapacityAnnotationKey: "0"}))
		ev, cancel := watchDecisions(ns, "ceiling-00001")
		defer cancel()
		most := 0
		stop := make(chan struct{})
		polled := make(chan struct{})
		go func() {
			defer close(polled)
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
					most = max(most, readyPods(ns, "ceiling-00001")())
				}
			}
		}()
		rep := run(host("ceiling", ns), "/?sleep=200", nil, load.Concurrent{Clients: 30, Duration: 8 * time.Second})
		close(stop)
		<-polled
		Expect(codes(rep.Results)).To(HaveLen(1), "only 200s: %v", codes(rep.Results))
		wanted := int32(0)
		for _, e := range ev.snapshot() {
			wanted = max(wanted, e.DesiredPods)
		}
		Expect(wanted).To(BeNumerically(">", 2), "the load asked for more than max-scale")
		Expect(most).To(Equal(2), "pods never exceeded max-scale")
	})
})
