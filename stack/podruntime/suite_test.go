package podruntime_test

import (
	"context"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/servingsim/servingsim/harness/cluster"
	"github.com/servingsim/servingsim/stack/apis"
	"github.com/servingsim/servingsim/stack/podruntime"
)

// The suite runs the pod runtime against a real kube-apiserver (envtest) on a fake clock: with
// the zero startup model pods become Ready without the clock moving, and specs that need time to
// pass (back-offs, progress deadlines, startup delays) step it.
var (
	k8s        client.Client
	fakeClock  *clocktesting.FakeClock
	sandbox    *recordingSandbox
	podRuntime *podruntime.Runtime
	testEnv    *cluster.Cluster
	stopMgr    context.CancelFunc
	mgrDone    chan error
)

func TestPodRuntime(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "podruntime envtest suite")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	ctrl.SetLogger(GinkgoLogr)
	scheme := apis.NewScheme()
	var err error
	testEnv, err = cluster.Start(ctx, cluster.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	k8s = testEnv.Client

	fakeClock = clocktesting.NewFakeClock(time.Now())
	sandbox = newRecordingSandbox()
	podRuntime, err = podruntime.New(podruntime.Options{Clock: fakeClock, Seed: 7, Sandbox: sandbox})
	Expect(err).NotTo(HaveOccurred())

	mgr, err := ctrl.NewManager(testEnv.Config, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		LeaderElection:         false,
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(podRuntime.SetupWithManager(mgr)).To(Succeed())
	mgrCtx, cancel := context.WithCancel(context.Background())
	stopMgr, mgrDone = cancel, make(chan error, 1)
	go func() {
		defer GinkgoRecover()
		mgrDone <- mgr.Start(mgrCtx)
	}()
}, NodeTimeout(2*time.Minute))

var _ = AfterSuite(func() {
	if stopMgr != nil {
		stopMgr()
		Eventually(mgrDone, 30*time.Second).Should(Receive(BeNil()))
	}
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
	if sandbox != nil {
		// Every started sandbox was stopped (terminated pods, or at manager shutdown).
		sandbox.mu.Lock()
		defer sandbox.mu.Unlock()
		for pod := range sandbox.started {
			Expect(sandbox.stopped).To(HaveKey(pod), "sandbox of %s never stopped", pod)
		}
	}
})

// recordingSandbox records what the runtime asks of the data plane. Drains of pods in a gated
// namespace block until the gate is opened, so specs can watch a pod mid-termination.
type recordingSandbox struct {
	mu      sync.Mutex
	started map[string]string // ns/name → the pod IP Start saw
	drained map[string]bool
	stopped map[string]bool
	gates   map[string]chan struct{}
	// readyAfter delays the ready signal of pods in a namespace, like a live sandbox whose first
	// probe takes a moment (real time: the probe does not run on the injected clock).
	readyAfter map[string]time.Duration
}

func newRecordingSandbox() *recordingSandbox {
	return &recordingSandbox{started: map[string]string{}, drained: map[string]bool{}, stopped: map[string]bool{},
		gates: map[string]chan struct{}{}, readyAfter: map[string]time.Duration{}}
}

var _ podruntime.Sandbox = (*recordingSandbox)(nil)

func (s *recordingSandbox) Start(_ context.Context, pod *corev1.Pod) (<-chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.started[pod.Namespace+"/"+pod.Name] = pod.Status.PodIP
	ready := make(chan struct{})
	if d := s.readyAfter[pod.Namespace]; d > 0 {
		time.AfterFunc(d, func() { close(ready) })
	} else {
		close(ready)
	}
	return ready, nil
}

func (s *recordingSandbox) slowReady(ns string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readyAfter[ns] = d
}

func (s *recordingSandbox) Drain(ctx context.Context, pod *corev1.Pod) error {
	s.mu.Lock()
	s.drained[pod.Namespace+"/"+pod.Name] = true
	gate := s.gates[pod.Namespace]
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
		}
	}
	return nil
}

func (s *recordingSandbox) Stop(pod *corev1.Pod) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped[pod.Namespace+"/"+pod.Name] = true
}

func (s *recordingSandbox) gate(ns string) func() {
	ch := make(chan struct{})
	s.mu.Lock()
	s.gates[ns] = ch
	s.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }
}

func (s *recordingSandbox) wasDrained(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.drained[key]
}

func (s *recordingSandbox) startedIP(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started[key]
}
