package podruntime

import (
	"context"

	corev1 "k8s.io/api/core/v1"
)

// Sandbox is what runs inside a simulated pod: in live mode, a queue-proxy and an app listening
// on the pod's loopback IP. The runtime calls it from the kubelet model; implementations must be
// safe for concurrent use across pods.
type Sandbox interface {
	// Start brings the pod's processes up on pod.Status.PodIP once its containers are running.
	// ready is closed when the pod would pass its readiness probe; the pod becomes Ready only
	// when both the startup model and ready say so. ctx ends when the pod's sandbox is stopped.
	// Start must not block for long; an error is retried with back-off (10s doubling to 5m)
	// while the pod stays not-ready.
	Start(ctx context.Context, pod *corev1.Pod) (ready <-chan struct{}, err error)
	// Drain runs when a started pod is deleted, after it is marked not-ready and before its
	// containers exit (Knative's queue-proxy drain, knative-semantics.md §5). ctx is cancelled
	// when the pod's termination grace period ends.
	Drain(ctx context.Context, pod *corev1.Pod) error
	// Stop releases everything Start acquired. It is called once per started pod: when its
	// containers have exited (after Drain, just before the kubelet's final delete), when the pod
	// vanishes without a graceful termination, or when the runtime shuts down.
	Stop(pod *corev1.Pod)
}

// ContainerRestarter is implemented by a Sandbox whose user container can exit and run again
// while its pod lives (Runtime.FailContainer). A Sandbox without it is ready again as soon as
// the restarted container runs.
type ContainerRestarter interface {
	// KillContainer stops the pod's user container at once, as when its process crashes:
	// requests inside it fail and the pod's readiness probe fails until RestartContainer.
	KillContainer(pod *corev1.Pod)
	// RestartContainer runs the user container again; ready is closed when the pod passes its
	// readiness probe again. ctx ends when the pod's sandbox is stopped. An error is retried
	// with back-off, like Start's.
	RestartContainer(ctx context.Context, pod *corev1.Pod) (ready <-chan struct{}, err error)
}

// ModelSandbox is the model-only Sandbox: ready at once, nothing to drain or stop.
type ModelSandbox struct{}

var _ Sandbox = ModelSandbox{}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Start implements Sandbox.
func (ModelSandbox) Start(context.Context, *corev1.Pod) (<-chan struct{}, error) {
	return closedChan, nil
}

// Drain implements Sandbox.
func (ModelSandbox) Drain(context.Context, *corev1.Pod) error { return nil }

// Stop implements Sandbox.
func (ModelSandbox) Stop(*corev1.Pod) {}
