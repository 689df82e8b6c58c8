package queueproxy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/app"
	"github.com/servingsim/servingsim/stack/podruntime"
	"github.com/servingsim/servingsim/stack/reconciler/revision/resources"
	"github.com/servingsim/servingsim/stack/rng"
)

// SandboxOptions configure a Sandbox. The zero value is valid.
type SandboxOptions struct {
	// Clock drives apps and queue-proxies. Default clock.RealClock{}.
	Clock clock.WithTicker
	// Source supplies the apps' random streams. Default rng.New(0).
	Source *rng.Source
	// DrainQuietPeriod is each queue-proxy's drain quiet period. Default DefaultDrainQuietPeriod.
	DrainQuietPeriod time.Duration
	// ReportingPeriod is each queue-proxy's stats period. Default DefaultReportingPeriod.
	ReportingPeriod time.Duration
	// Logger receives sandbox and proxy errors. Default logr.Discard().
	Logger logr.Logger
}

// Sandbox is the live podruntime.Sandbox: for every pod it serves the app model on
// podIP:PORT and a queue-proxy on podIP:8012 (or 8013), :8022 and :9090, configured from the
// pod's containers' env and annotations. The pod is ready once a kubelet-style probe of the
// queue-proxy (GET / with K-Network-Probe: queue, on the queue-proxy container's readiness-probe
// timings) passes. It is also the registry of running pods, by namespace and name. The user
// container can be killed and restarted while the queue-proxy runs on
// (podruntime.ContainerRestarter), and a revision's app model changed mid-run (UpdateApps).
type Sandbox struct {
	opts SandboxOptions

	mu    sync.Mutex
	pods  map[types.NamespacedName]*Pod
	edits map[types.NamespacedName][]func(*app.Config) // by namespace and revision, oldest first
}

var (
	_ podruntime.Sandbox            = (*Sandbox)(nil)
	_ podruntime.ContainerRestarter = (*Sandbox)(nil)
)

// NewSandbox returns an empty Sandbox.
func NewSandbox(opts SandboxOptions) *Sandbox {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Source == nil {
		opts.Source = rng.New(0)
	}
	if opts.Logger.GetSink() == nil {
		opts.Logger = logr.Discard()
	}
	return &Sandbox{opts: opts, pods: map[types.NamespacedName]*Pod{}, edits: map[types.NamespacedName][]func(*app.Config){}}
}

// Pod is one running pod of a Sandbox.
type Pod struct {
	Key types.NamespacedName
	UID types.UID
	IP  netip.Addr
	// Revision is the pod's serving.knative.dev/revision label.
	Revision string
	// App is the user container's model; it outlives restarts of the container (its counters
	// and model carry over, as the sandbox's view of the revision's app).
	App   *app.App
	Queue *QueueProxy

	ctx    context.Context // the pod's; ends when it stops
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu          sync.Mutex
	appServer   *app.Server // nil while the user container is down
	ready       chan struct{}
	probeCancel context.CancelFunc // stops the current run's readiness probing
	restarts    int
	editsDone   int // how many of the revision's edits the app has had
}

// Ready is closed once the pod passed its readiness probe (since the user container's latest
// start).
func (p *Pod) Ready() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ready
}

// Restarts is how many times the user container was restarted.
func (p *Pod) Restarts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.restarts
}

// Pod returns the running pod namespace/name.
func (s *Sandbox) Pod(namespace, name string) (*Pod, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pods[types.NamespacedName{Namespace: namespace, Name: name}]
	return p, ok
}

// PodsOfRevision returns the running pods of a revision sorted by name.
func (s *Sandbox) PodsOfRevision(namespace, revision string) []*Pod {
	var out []*Pod
	for _, p := range s.Pods() {
		if p.Key.Namespace == namespace && p.Revision == revision {
			out = append(out, p)
		}
	}
	return out
}

// Pods returns the running pods sorted by namespace and name.
func (s *Sandbox) Pods() []*Pod {
	s.mu.Lock()
	out := make([]*Pod, 0, len(s.pods))
	for _, p := range s.pods {
		out = append(out, p)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Key.String() < out[j].Key.String() })
	return out
}

// Start implements podruntime.Sandbox.
func (s *Sandbox) Start(ctx context.Context, pod *corev1.Pod) (<-chan struct{}, error) {
	key := types.NamespacedName{Namespace: pod.Namespace, Name: pod.Name}
	if old, ok := s.take(key, ""); ok { // a previous incarnation that was never stopped
		old.stop()
	}
	p, err := s.startPod(pod)
	if err != nil {
		return nil, err
	}
	p.ctx, p.cancel = context.WithCancel(ctx)
	ready := p.startProbing(s, queueContainerProbe(pod))
	s.mu.Lock()
	s.pods[key] = p
	// The revision's app changes, including any made while it started.
	if err := s.applyEditsLocked(p); err != nil {
		s.opts.Logger.Error(err, "Changing the app model of a new pod")
	}
	s.mu.Unlock()
	return ready, nil
}

// startProbing runs the kubelet's readiness probing of the pod's current run; the returned
// channel is closed when it passes.
func (p *Pod) startProbing(s *Sandbox, probe corev1.Probe) <-chan struct{} {
	ctx, cancel := context.WithCancel(p.ctx)
	ready := make(chan struct{})
	p.mu.Lock()
	p.ready, p.probeCancel = ready, cancel
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		s.probeUntilReady(ctx, p.Queue.Addr(), ready, probe)
	}()
	return ready
}

// UpdateApps changes the app model of the revision's running pods and of the pods it starts
// later (a scenario's setApp, app.App.Update): edits apply in order. It returns how many
// running pods were updated; an edit that makes a pod's model invalid is reported and that
// pod keeps its model.
func (s *Sandbox) UpdateApps(namespace, revision string, edit func(*app.Config)) (int, error) {
	key := types.NamespacedName{Namespace: namespace, Name: revision}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.edits[key] = append(s.edits[key], edit)
	var errs []error
	updated := 0
	for _, p := range s.pods {
		if p.Key.Namespace == namespace && p.Revision == revision {
			if err := s.applyEditsLocked(p); err != nil {
				errs = append(errs, err)
			} else {
				updated++
			}
		}
	}
	return updated, errors.Join(errs...)
}

// applyEditsLocked applies the revision's edits p has not had yet. s.mu is held.
func (s *Sandbox) applyEditsLocked(p *Pod) error {
	edits := s.edits[types.NamespacedName{Namespace: p.Key.Namespace, Name: p.Revision}]
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for ; p.editsDone < len(edits); p.editsDone++ {
		if err := p.App.Update(edits[p.editsDone]); err != nil {
			errs = append(errs, fmt.Errorf("pod %s: %w", p.Key, err))
		}
	}
	return errors.Join(errs...)
}

// KillContainer implements podruntime.ContainerRestarter: the app's server closes at once,
// dropping its connections, so requests inside it fail (the queue-proxy answers them 502) and
// the queue-proxy's readiness probe of the app fails; the queue-proxy keeps running.
func (s *Sandbox) KillContainer(pod *corev1.Pod) {
	p, ok := s.Pod(pod.Namespace, pod.Name)
	if !ok || (pod.UID != "" && p.UID != "" && p.UID != pod.UID) {
		return
	}
	p.mu.Lock()
	srv, stopProbing := p.appServer, p.probeCancel
	p.appServer = nil
	p.mu.Unlock()
	if stopProbing != nil {
		stopProbing()
	}
	if srv != nil {
		_ = srv.Close()
	}
}

// RestartContainer implements podruntime.ContainerRestarter: the app listens again on the pod's
// IP (after its startup delay, like a fresh container) with the model it had, and the readiness
// probing starts over.
func (s *Sandbox) RestartContainer(_ context.Context, pod *corev1.Pod) (<-chan struct{}, error) {
	p, ok := s.Pod(pod.Namespace, pod.Name)
	if !ok || (pod.UID != "" && p.UID != "" && p.UID != pod.UID) {
		return nil, fmt.Errorf("pod %s/%s is not running in the sandbox", pod.Namespace, pod.Name)
	}
	p.mu.Lock()
	up := p.appServer != nil
	p.mu.Unlock()
	if up {
		return nil, fmt.Errorf("pod %s/%s: user container is running", pod.Namespace, pod.Name)
	}
	srv, err := p.App.Listen(p.IP.String())
	if err != nil {
		return nil, fmt.Errorf("pod %s/%s app: %w", pod.Namespace, pod.Name, err)
	}
	p.mu.Lock()
	p.appServer = srv
	p.restarts++
	p.mu.Unlock()
	return p.startProbing(s, queueContainerProbe(pod)), nil
}

func (s *Sandbox) startPod(pod *corev1.Pod) (*Pod, error) {
	qc := queueContainer(pod)
	if qc == nil {
		return nil, fmt.Errorf("pod %s/%s has no %s container", pod.Namespace, pod.Name, serving.QueueContainerName)
	}
	qenv := app.ResolveEnv(pod, qc)
	if qenv[resources.EnvServingPodIP] == "" {
		qenv[resources.EnvServingPodIP] = pod.Status.PodIP
	}
	if qenv[resources.EnvServingPod] == "" {
		qenv[resources.EnvServingPod] = pod.Name
	}
	qcfg, err := ParseEnv(qenv)
	if err != nil {
		return nil, fmt.Errorf("pod %s/%s queue-proxy config: %w", pod.Namespace, pod.Name, err)
	}
	acfg, err := app.ConfigFromPod(pod)
	if err != nil {
		return nil, err
	}
	a, err := app.New(acfg, app.Options{Clock: s.opts.Clock, Source: s.opts.Source, Name: pod.Namespace + "/" + pod.Name})
	if err != nil {
		return nil, fmt.Errorf("pod %s/%s app: %w", pod.Namespace, pod.Name, err)
	}
	qp, err := New(qcfg, Options{Clock: s.opts.Clock, DrainQuietPeriod: s.opts.DrainQuietPeriod,
		ReportingPeriod: s.opts.ReportingPeriod, Logger: s.opts.Logger.WithValues("pod", pod.Namespace+"/"+pod.Name)})
	if err != nil {
		return nil, fmt.Errorf("pod %s/%s queue-proxy: %w", pod.Namespace, pod.Name, err)
	}
	srv, err := a.Listen(qcfg.PodIP.String())
	if err != nil {
		return nil, fmt.Errorf("pod %s/%s app: %w", pod.Namespace, pod.Name, err)
	}
	if err := qp.Start(); err != nil {
		_ = srv.Close()
		_ = qp.Close()
		return nil, fmt.Errorf("pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return &Pod{Key: types.NamespacedName{Namespace: pod.Namespace, Name: pod.Name}, UID: pod.UID, IP: qcfg.PodIP,
		Revision: pod.Labels[serving.RevisionLabelKey], App: a, Queue: qp, appServer: srv}, nil
}

func queueContainer(pod *corev1.Pod) *corev1.Container {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == serving.QueueContainerName {
			return &pod.Spec.Containers[i]
		}
	}
	return nil
}

// queueContainerProbe is the kubelet's readiness probe of the queue-proxy, or the revision
// reconciler's shape (period 1s) when the pod has none.
func queueContainerProbe(pod *corev1.Pod) corev1.Probe {
	if c := queueContainer(pod); c != nil && c.ReadinessProbe != nil {
		return *c.ReadinessProbe
	}
	return corev1.Probe{PeriodSeconds: 1}
}

// probeUntilReady is the kubelet probing the queue-proxy at addr: after initialDelaySeconds,
// GET the serving port with K-Network-Probe: queue every periodSeconds (each bounded by
// timeoutSeconds) until successThreshold consecutive passes, then close ready.
// Simplification: readiness is latched until the user container is killed (KillContainer); a
// pod is never marked not-ready again by probes alone.
func (s *Sandbox) probeUntilReady(ctx context.Context, addr string, ready chan struct{}, probe corev1.Probe) {
	clk := s.opts.Clock
	if !sleep(ctx, clk, time.Duration(probe.InitialDelaySeconds)*time.Second) {
		return
	}
	period := time.Duration(max(probe.PeriodSeconds, 1)) * time.Second
	timeout := time.Duration(max(probe.TimeoutSeconds, 1)) * time.Second
	want := max(int(probe.SuccessThreshold), 1)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	defer client.CloseIdleConnections()
	url := "http://" + addr + "/"
	for successes := 0; ; {
		start := clk.Now()
		if kubeletProbe(ctx, client, url, timeout) {
			successes++
			if successes >= want {
				close(ready)
				return
			}
		} else {
			successes = 0
		}
		if !sleep(ctx, clk, period-clk.Since(start)) {
			return
		}
	}
}

func kubeletProbe(ctx context.Context, c *http.Client, url string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	req.Header.Set("User-Agent", ProbeUserAgent)
	req.Header.Set(serving.ProbeHeaderName, serving.QueueProbeValue)
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode >= http.StatusOK && resp.StatusCode < http.StatusBadRequest
}

// sleep waits d on clk; false if ctx ended first.
func sleep(ctx context.Context, clk clock.WithTicker, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := clk.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-ctx.Done():
		return false
	}
}

// Drain implements podruntime.Sandbox: the queue-proxy drains (§5 Graceful drain), then the app
// finishes its in-flight requests and closes.
func (s *Sandbox) Drain(ctx context.Context, pod *corev1.Pod) error {
	p, ok := s.Pod(pod.Namespace, pod.Name)
	if !ok || (pod.UID != "" && p.UID != "" && p.UID != pod.UID) {
		return nil
	}
	p.mu.Lock()
	srv := p.appServer
	p.mu.Unlock()
	if srv == nil { // the user container is down: only the queue-proxy drains
		return p.Queue.Drain(ctx)
	}
	return errors.Join(p.Queue.Drain(ctx), srv.Shutdown(ctx))
}

// Stop implements podruntime.Sandbox: everything of the pod closes at once and it leaves the
// registry.
func (s *Sandbox) Stop(pod *corev1.Pod) {
	if p, ok := s.take(types.NamespacedName{Namespace: pod.Namespace, Name: pod.Name}, pod.UID); ok {
		p.stop()
	}
}

// take removes key from the registry (only if its UID matches, when uid is set).
func (s *Sandbox) take(key types.NamespacedName, uid types.UID) (*Pod, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pods[key]
	if !ok || (uid != "" && p.UID != "" && p.UID != uid) {
		return nil, false
	}
	delete(s.pods, key)
	return p, true
}

func (p *Pod) stop() {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
	_ = p.Queue.Close()
	p.mu.Lock()
	srv := p.appServer
	p.appServer = nil
	p.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}
