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
// timings) passes. It is also the registry of running pods, by namespace and name.
type Sandbox struct {
	opts SandboxOptions

	mu   sync.Mutex
	pods map[types.NamespacedName]*Pod
}

var _ podruntime.Sandbox = (*Sandbox)(nil)

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
	return &Sandbox{opts: opts, pods: map[types.NamespacedName]*Pod{}}
}

// Pod is one running pod of a Sandbox.
type Pod struct {
	Key   types.NamespacedName
	UID   types.UID
	IP    netip.Addr
	App   *app.App
	Queue *QueueProxy

	appServer *app.Server
	ready     chan struct{}
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// Ready is closed once the pod passed its readiness probe.
func (p *Pod) Ready() <-chan struct{} { return p.ready }

// Pod returns the running pod namespace/name.
func (s *Sandbox) Pod(namespace, name string) (*Pod, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pods[types.NamespacedName{Namespace: namespace, Name: name}]
	return p, ok
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
	pctx, cancel := context.WithCancel(ctx)
	p.cancel = cancel
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		s.probeUntilReady(pctx, p, queueContainerProbe(pod))
	}()
	s.mu.Lock()
	s.pods[key] = p
	s.mu.Unlock()
	return p.ready, nil
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
		App: a, Queue: qp, appServer: srv, ready: make(chan struct{})}, nil
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

// probeUntilReady is the kubelet probing the queue-proxy: after initialDelaySeconds, GET the
// serving port with K-Network-Probe: queue every periodSeconds (each bounded by
// timeoutSeconds) until successThreshold consecutive passes, then close p.ready.
// Simplification: readiness is latched; a pod is never marked not-ready again by probes.
func (s *Sandbox) probeUntilReady(ctx context.Context, p *Pod, probe corev1.Probe) {
	clk := s.opts.Clock
	if !sleep(ctx, clk, time.Duration(probe.InitialDelaySeconds)*time.Second) {
		return
	}
	period := time.Duration(max(probe.PeriodSeconds, 1)) * time.Second
	timeout := time.Duration(max(probe.TimeoutSeconds, 1)) * time.Second
	want := max(int(probe.SuccessThreshold), 1)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	defer client.CloseIdleConnections()
	url := "http://" + p.Queue.Addr() + "/"
	for successes := 0; ; {
		start := clk.Now()
		if kubeletProbe(ctx, client, url, timeout) {
			successes++
			if successes >= want {
				close(p.ready)
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
	return errors.Join(p.Queue.Drain(ctx), p.appServer.Shutdown(ctx))
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
	_ = p.appServer.Close()
}
