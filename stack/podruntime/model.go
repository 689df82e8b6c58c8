package podruntime

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/servingsim/servingsim/stack/rng"
)

// AnnotationPrefix is the prefix of every pod-runtime annotation. The annotations are read from
// the Pod, which copies them from its Deployment's pod template, which Knative copies from the
// Revision template (knative-semantics.md §1.2): put them on spec.template.metadata.annotations
// of a Knative Service or Configuration to override the harness-wide Options per revision.
const AnnotationPrefix = "sim.servingsim.dev/"

// Pod-template annotations. Delay values are distribution specs (see ParseDist: "2s",
// "uniform(1s,3s)", "exponential(500ms)", "lognormal(1s,0.5)"); booleans are strconv.ParseBool
// values, so "false" switches off a fault enabled in Options.Faults.
const (
	// ScheduleDelayAnnotation: pod created → bound to the node (the scheduler's latency).
	ScheduleDelayAnnotation = AnnotationPrefix + "schedule-delay"
	// ImagePullDelayAnnotation: bound → images pulled (one pull for the whole pod).
	ImagePullDelayAnnotation = AnnotationPrefix + "image-pull-delay"
	// ContainerStartDelayAnnotation: images pulled → containers running.
	ContainerStartDelayAnnotation = AnnotationPrefix + "container-start-delay"
	// StartupDelayAnnotation: containers running → first passing readiness probe (the app's
	// startup time). With a Sandbox, readiness also waits for the sandbox's ready signal.
	StartupDelayAnnotation = AnnotationPrefix + "startup-delay"
	// DrainDelayAnnotation: how long a terminating pod takes to drain before its containers exit
	// (runs alongside Sandbox.Drain; the later of the two wins, bounded by the grace period).
	DrainDelayAnnotation = AnnotationPrefix + "drain-delay"
	// RestartDelayAnnotation: user container exited (Runtime.FailContainer) → running again.
	// Default: the pod's drawn container-start delay (the image is already pulled).
	RestartDelayAnnotation = AnnotationPrefix + "restart-delay"

	// NeverReadyAnnotation: "true" → containers run but the pod never becomes Ready.
	NeverReadyAnnotation = AnnotationPrefix + "never-ready"
	// CrashAnnotation: an exit code (e.g. "1"; "true" means 1) → the user container exits with it
	// every time it starts: lastState.terminated.exitCode=N, state waiting CrashLoopBackOff,
	// restartCount increments with kubelet's back-off (10s doubling to 5m).
	CrashAnnotation = AnnotationPrefix + "crash"
	// CrashAfterAnnotation: how long the user container runs before each crash (default 0).
	CrashAfterAnnotation = AnnotationPrefix + "crash-after"
	// CrashMessageAnnotation: lastState.terminated.message (the termination log).
	CrashMessageAnnotation = AnnotationPrefix + "crash-message"
	// UnschedulableAnnotation: "true" → the scheduler never binds the pod: PodScheduled False,
	// reason Unschedulable, phase Pending.
	UnschedulableAnnotation = AnnotationPrefix + "unschedulable"
	// UnschedulableMessageAnnotation overrides the PodScheduled message.
	UnschedulableMessageAnnotation = AnnotationPrefix + "unschedulable-message"
	// ImagePullErrorAnnotation: "true" → pulling the user container's image fails: waiting
	// ErrImagePull, then ImagePullBackOff, retried with back-off; phase stays Pending.
	ImagePullErrorAnnotation = AnnotationPrefix + "image-pull-error"
	// ImagePullMessageAnnotation overrides the ErrImagePull message.
	ImagePullMessageAnnotation = AnnotationPrefix + "image-pull-message"
)

// DefaultUnschedulableMessage is what the scheduler says about a pod that fits no node of a
// one-node cluster.
const DefaultUnschedulableMessage = "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."

// StartupModel gives the duration of each lifecycle phase. The zero value makes every phase
// instant (for benchmarks); pod-template annotations override a phase per revision.
type StartupModel struct {
	// Schedule: pod created → bound. Default 0.
	Schedule Dist
	// ImagePull: bound → images pulled. Default 0.
	ImagePull Dist
	// ContainerStart: pulled → containers running. Default 0.
	ContainerStart Dist
	// Startup: running → ready (the app's startup / first passing readiness probe). Default 0.
	Startup Dist
	// Drain: deletion observed → containers exit (alongside Sandbox.Drain). Default 0.
	Drain Dist
}

// Validate reports a malformed phase distribution.
func (m StartupModel) Validate() error {
	var errs []error
	for name, d := range map[string]Dist{"Schedule": m.Schedule, "ImagePull": m.ImagePull,
		"ContainerStart": m.ContainerStart, "Startup": m.Startup, "Drain": m.Drain} {
		if err := d.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// Faults are failure knobs. The zero value injects none. Options.Faults sets harness-wide
// defaults; the annotations above override them per pod template.
type Faults struct {
	// NeverReady: containers run, the pod never becomes Ready.
	NeverReady bool
	// Unschedulable: the pod is never bound; UnschedulableMessage (default
	// DefaultUnschedulableMessage) is the PodScheduled message.
	Unschedulable        bool
	UnschedulableMessage string
	// Crash: the user container exits with CrashExitCode (Message as termination message) after
	// running for CrashAfter, every time it starts.
	Crash         bool
	CrashExitCode int32
	CrashMessage  string
	CrashAfter    Dist
	// ImagePullError: pulling the user container's image fails (ImagePullMessage, default a
	// registry "not found").
	ImagePullError   bool
	ImagePullMessage string
}

// Plan is what the runtime decided for one pod: its phase durations and faults. The kubelet
// draws it once per pod; DrawPlan exposes the same draw to virtual-time drivers so both modes
// give a pod the same lifecycle for the same seed and pod name.
type Plan struct {
	Schedule, ImagePull, ContainerStart, Startup, Drain, CrashAfter time.Duration
	// Restart is how long a user container that exited (Runtime.FailContainer) takes to run
	// again; its startup (Startup and the sandbox's readiness) follows.
	Restart time.Duration
	Faults  Faults
}

// DrawPlan resolves pod's sim.servingsim.dev annotations over model and faults and draws the
// pod's phase durations from src. It is what the runtime does for every pod.
func DrawPlan(src *rng.Source, pod *corev1.Pod, model StartupModel, faults Faults) (Plan, error) {
	return drawPlan(src, pod, model, faults)
}

// TimeToReady is the model's time from the pod's creation to Ready, with a sandbox that is ready
// at once; ok is false for a pod that never becomes Ready.
func (p Plan) TimeToReady() (d time.Duration, ok bool) {
	if !p.healthy() || p.Faults.Unschedulable {
		return 0, false
	}
	return p.Schedule + p.ImagePull + p.ContainerStart + p.Startup, true
}

// drawPlan resolves pod's annotations over the defaults and draws every phase from streams
// named after the phase and the pod, so a pod's plan depends only on the seed and its name.
// A malformed annotation is reported and the default is used for it.
func drawPlan(src *rng.Source, pod *corev1.Pod, model StartupModel, faults Faults) (Plan, error) {
	var errs []error
	ann := pod.Annotations
	dist := func(key string, def Dist) Dist {
		v, ok := ann[key]
		if !ok {
			return def
		}
		d, err := ParseDist(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("annotation %s: %w", key, err))
			return def
		}
		return d
	}
	boolean := func(key string, def bool) bool {
		v, ok := ann[key]
		if !ok {
			return def
		}
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, fmt.Errorf("annotation %s: %w", key, err))
			return def
		}
		return b
	}
	str := func(key, def string) string {
		if v, ok := ann[key]; ok {
			return v
		}
		return def
	}

	f := faults
	f.NeverReady = boolean(NeverReadyAnnotation, f.NeverReady)
	f.Unschedulable = boolean(UnschedulableAnnotation, f.Unschedulable)
	f.UnschedulableMessage = str(UnschedulableMessageAnnotation, f.UnschedulableMessage)
	if f.UnschedulableMessage == "" {
		f.UnschedulableMessage = DefaultUnschedulableMessage
	}
	f.ImagePullError = boolean(ImagePullErrorAnnotation, f.ImagePullError)
	f.ImagePullMessage = str(ImagePullMessageAnnotation, f.ImagePullMessage)
	if v, ok := ann[CrashAnnotation]; ok {
		v = strings.TrimSpace(v)
		if code, err := strconv.ParseInt(v, 10, 32); err == nil {
			f.Crash, f.CrashExitCode = true, int32(code)
		} else if b, err := strconv.ParseBool(v); err == nil {
			f.Crash, f.CrashExitCode = b, 1
		} else {
			errs = append(errs, fmt.Errorf("annotation %s: want an exit code or a boolean, got %q", CrashAnnotation, v))
		}
	}
	f.CrashMessage = str(CrashMessageAnnotation, f.CrashMessage)
	f.CrashAfter = dist(CrashAfterAnnotation, f.CrashAfter)

	key := pod.Namespace + "/" + pod.Name
	draw := func(phase string, d Dist) time.Duration {
		return d.Draw(src.Stream("podruntime/" + phase + "/" + key))
	}
	p := Plan{
		Schedule:       draw("schedule", dist(ScheduleDelayAnnotation, model.Schedule)),
		ImagePull:      draw("image-pull", dist(ImagePullDelayAnnotation, model.ImagePull)),
		ContainerStart: draw("container-start", dist(ContainerStartDelayAnnotation, model.ContainerStart)),
		Startup:        draw("startup", dist(StartupDelayAnnotation, model.Startup)),
		Drain:          draw("drain", dist(DrainDelayAnnotation, model.Drain)),
		CrashAfter:     draw("crash-after", f.CrashAfter),
		Faults:         f,
	}
	p.Restart = p.ContainerStart
	if _, ok := ann[RestartDelayAnnotation]; ok {
		p.Restart = draw("restart", dist(RestartDelayAnnotation, Dist{}))
	}
	return p, errors.Join(errs...)
}
