package podruntime

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/servingsim/servingsim/stack/apis/serving"
)

// Kubelet reasons and messages, as the kubelet and scheduler write them.
const (
	ReasonContainerCreating      = "ContainerCreating"
	ReasonCrashLoopBackOff       = "CrashLoopBackOff"
	ReasonErrImagePull           = "ErrImagePull"
	ReasonImagePullBackOff       = "ImagePullBackOff"
	ReasonContainersNotReady     = "ContainersNotReady"
	ReasonReadinessGatesNotReady = "ReadinessGatesNotReady"
	ReasonPodCompleted           = "PodCompleted"
	ReasonUnschedulable          = corev1.PodReasonUnschedulable
	ReasonCompleted              = "Completed"
	ReasonError                  = "Error"
	ReasonContainerStatusUnknown = "ContainerStatusUnknown"
	// PodReadyToStartContainers is the kubelet's sandbox-ready pod condition.
	PodReadyToStartContainers corev1.PodConditionType = "PodReadyToStartContainers"
)

// Kubelet back-offs (pkg/kubelet: crash loop and image pull both start at 10s, double, cap 5m).
const (
	backOffInitial = 10 * time.Second
	backOffMax     = 5 * time.Minute
	// errImagePullShown is how long ErrImagePull shows before ImagePullBackOff takes over.
	errImagePullShown = time.Second
	// killExitCode is what a container killed at the end of its grace period exits with.
	killExitCode = 137
)

// crashBackOff is the wait before restart i+1 after crash i: the first restart is immediate,
// then 10s, 20s, ... capped at 5m.
func crashBackOff(i int) time.Duration {
	if i == 0 {
		return 0
	}
	return backOff(i - 1)
}

func backOff(k int) time.Duration {
	if k > 10 {
		return backOffMax
	}
	return min(backOffInitial<<k, backOffMax)
}

// timeline is the kubelet's record of one bound pod, on the injected clock.
type timeline struct {
	bound          time.Time // first seen bound: sandbox created, IP assigned, image pull starts
	sandboxStarted bool
	sandboxReady   time.Time // when the sandbox's ready signal arrived; zero until then
	deleting       time.Time // when deletion was observed; zero until then
	finished       time.Time // when the containers exited; zero until then
	killed         bool      // the grace period ran out before the drain finished
	// restarts are the user container's exits (Runtime.FailContainer), oldest first. The
	// sandbox's ready signal is reset at each exit and set again after the restart.
	restarts []containerRestart
}

// containerRestart is one exit of the user container and its restart.
type containerRestart struct {
	exited    time.Time
	exitCode  int32
	restartAt time.Time
}

// restartPending reports a user container that exited and has not run again by now.
func (tl timeline) restartPending(now time.Time) bool {
	n := len(tl.restarts)
	return n > 0 && now.Before(tl.restarts[n-1].restartAt)
}

func (p Plan) pulledAt(tl timeline) time.Time  { return tl.bound.Add(p.ImagePull) }
func (p Plan) startedAt(tl timeline) time.Time { return p.pulledAt(tl).Add(p.ContainerStart) }

// lastStartedAt is when the user container last started: its latest restart, else startedAt.
func (p Plan) lastStartedAt(tl timeline) time.Time {
	if n := len(tl.restarts); n > 0 {
		return tl.restarts[n-1].restartAt
	}
	return p.startedAt(tl)
}

// healthy reports a pod whose app can become ready (no fault keeps it from it).
func (p Plan) healthy() bool {
	return !p.Faults.Crash && !p.Faults.ImagePullError && !p.Faults.NeverReady
}

// readyAt is when probed containers become ready: the later of the model's startup (after the
// user container's latest start) and the sandbox's ready signal; zero while unknown or never.
func (p Plan) readyAt(tl timeline) time.Time {
	if !p.healthy() || !tl.sandboxStarted || tl.sandboxReady.IsZero() {
		return time.Time{}
	}
	return later(p.lastStartedAt(tl).Add(p.Startup), tl.sandboxReady)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// wakeups collects the earliest future instant at which the status will change.
type wakeups struct {
	now  time.Time
	next time.Time
}

func (w *wakeups) add(t time.Time) {
	if t.After(w.now) && (w.next.IsZero() || t.Before(w.next)) {
		w.next = t
	}
}

func mtime(t time.Time) metav1.Time { return metav1.NewTime(t).Rfc3339Copy() }

// userContainerIndex is the container the faults apply to: the first one that is not the
// queue-proxy.
func userContainerIndex(pod *corev1.Pod) int {
	for i, c := range pod.Spec.Containers {
		if c.Name != serving.QueueContainerName {
			return i
		}
	}
	return 0
}

func containerID(pod *corev1.Pod, name string, run int32) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%s/%d", pod.UID, name, run)))
	return "containerd://" + hex.EncodeToString(sum[:])
}

func imageID(image string) string {
	if strings.Contains(image, "@sha256:") {
		return image
	}
	repo := image
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	sum := sha256.Sum256([]byte(image))
	return repo + "@sha256:" + hex.EncodeToString(sum[:])
}

// formatPod is the kubelet's pod reference in messages: name_namespace(uid).
func formatPod(pod *corev1.Pod) string {
	return fmt.Sprintf("%s_%s(%s)", pod.Name, pod.Namespace, pod.UID)
}

// buildPodStatus is the status the kubelet writes at now for a bound pod with plan p and
// timeline tl (knative-semantics.md §1.5 lists what the Revision reconciler reads from it). It
// also returns the next instant at which the status changes by itself (zero: none).
func buildPodStatus(pod *corev1.Pod, p Plan, tl timeline, podIP, hostIP string, now time.Time) (corev1.PodStatus, time.Time) {
	w := &wakeups{now: now}
	st := *pod.Status.DeepCopy()
	pulled, started := p.pulledAt(tl), p.startedAt(tl)
	w.add(pulled)
	w.add(started)
	readyAt := p.readyAt(tl)
	w.add(readyAt)
	terminating := !tl.deleting.IsZero()
	finished := !tl.finished.IsZero()

	anyProbe := false
	for _, c := range pod.Spec.Containers {
		anyProbe = anyProbe || c.ReadinessProbe != nil
	}
	user := userContainerIndex(pod)
	old := map[string]corev1.ContainerStatus{}
	for _, cs := range pod.Status.ContainerStatuses {
		old[cs.Name] = cs
	}

	statuses := make([]corev1.ContainerStatus, 0, len(pod.Spec.Containers))
	var unready []string
	allExitedZero := true
	for i, c := range pod.Spec.Containers {
		cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, Started: ptr.To(false)}
		switch {
		case i == user && p.Faults.ImagePullError:
			cs.State = imagePullState(pod, c, p, tl, now, w)
		case now.Before(started):
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: ReasonContainerCreating}
		case i == user && p.Faults.Crash:
			crashState(pod, c, p, started, now, w, &cs)
		case i == user && len(tl.restarts) > 0:
			restartedState(pod, c, tl, started, now, w, &cs)
		default:
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: mtime(started)}
			cs.ContainerID = containerID(pod, c.Name, 0)
		}
		if !now.Before(pulled) && (i != user || !p.Faults.ImagePullError) {
			cs.ImageID = imageID(c.Image)
		}
		if cs.State.Running != nil {
			cs.Started = ptr.To(true)
			probed := c.ReadinessProbe != nil || !anyProbe
			cs.Ready = !terminating && (!probed || (!readyAt.IsZero() && !now.Before(readyAt)))
		}
		if finished {
			finishContainer(&cs, tl)
			if t := cs.State.Terminated; t == nil || t.ExitCode != 0 {
				allExitedZero = false
			}
		}
		// Keep what a status already said about an unchanged container (e.g. allocated
		// resources the API server defaulted).
		if prev, ok := old[c.Name]; ok {
			cs.AllocatedResources, cs.Resources, cs.User = prev.AllocatedResources, prev.Resources, prev.User
		}
		if !cs.Ready {
			unready = append(unready, c.Name)
		}
		statuses = append(statuses, cs)
	}
	st.ContainerStatuses = statuses

	// Phase, as the kubelet's getPhase computes it for restartPolicy Always.
	var waiting, running, stopped int
	for _, cs := range statuses {
		switch {
		case cs.State.Running != nil:
			running++
		case cs.State.Terminated != nil:
			stopped++
		case cs.State.Waiting != nil && cs.LastTerminationState.Terminated != nil:
			stopped++
		default:
			waiting++
		}
	}
	switch {
	case finished && allExitedZero:
		st.Phase = corev1.PodSucceeded
	case finished:
		st.Phase = corev1.PodFailed
	case waiting > 0:
		st.Phase = corev1.PodPending
	case running > 0 || stopped > 0:
		st.Phase = corev1.PodRunning
	default:
		st.Phase = corev1.PodPending
	}

	// Conditions, in the kubelet's order; foreign ones (readiness gates, DisruptionTarget) kept.
	containersReady := len(unready) == 0
	gatesReady, missingGates := readinessGates(pod)
	notReadyMsg := fmt.Sprintf("containers with unready status: [%s]", strings.Join(unready, " "))
	readyTransition := tl.bound
	switch {
	case finished:
		readyTransition = tl.finished
	case terminating:
		readyTransition = tl.deleting
	case containersReady:
		readyTransition = readyAt
	case len(tl.restarts) > 0:
		readyTransition = tl.restarts[len(tl.restarts)-1].exited
	}
	if readyTransition.After(now) || readyTransition.IsZero() {
		readyTransition = now
	}
	cReady := corev1.PodCondition{Type: corev1.ContainersReady, Status: corev1.ConditionTrue}
	ready := corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue}
	switch {
	case st.Phase == corev1.PodSucceeded:
		cReady = corev1.PodCondition{Type: corev1.ContainersReady, Status: corev1.ConditionFalse, Reason: ReasonPodCompleted}
		ready = corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: ReasonPodCompleted}
	case !containersReady:
		cReady = corev1.PodCondition{Type: corev1.ContainersReady, Status: corev1.ConditionFalse, Reason: ReasonContainersNotReady, Message: notReadyMsg}
		ready = corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: ReasonContainersNotReady, Message: notReadyMsg}
	case !gatesReady:
		ready = corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: ReasonReadinessGatesNotReady,
			Message: fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist.", missingGates)}
	}
	sandbox := corev1.PodCondition{Type: PodReadyToStartContainers, Status: corev1.ConditionTrue}
	sandboxTime := tl.bound
	if finished {
		sandbox.Status, sandboxTime = corev1.ConditionFalse, tl.finished
	}
	want := []struct {
		c corev1.PodCondition
		t time.Time
	}{
		{sandbox, sandboxTime},
		{corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}, tl.bound},
		{ready, readyTransition},
		{cReady, readyTransition},
		{corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, tl.bound},
	}
	conds := make([]corev1.PodCondition, 0, len(want)+len(pod.Status.Conditions))
	for _, x := range want {
		c := x.c
		c.ObservedGeneration = pod.Generation
		c.LastTransitionTime = mtime(x.t)
		if prev := findCondition(pod.Status.Conditions, c.Type); prev != nil && prev.Status == c.Status {
			c.LastTransitionTime = prev.LastTransitionTime
		}
		conds = append(conds, c)
	}
	for _, c := range pod.Status.Conditions {
		if findCondition(conds, c.Type) == nil {
			conds = append(conds, c)
		}
	}
	st.Conditions = conds

	st.HostIP, st.HostIPs = hostIP, []corev1.HostIP{{IP: hostIP}}
	if podIP != "" {
		st.PodIP, st.PodIPs = podIP, []corev1.PodIP{{IP: podIP}}
	}
	if st.StartTime == nil {
		t := mtime(tl.bound)
		st.StartTime = &t
	}
	st.ObservedGeneration = pod.Generation
	st.Reason, st.Message = "", ""
	if finished {
		return st, time.Time{}
	}
	return st, w.next
}

func findCondition(conds []corev1.PodCondition, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

// readinessGates reports whether every readiness gate's condition is True, and the first that
// is missing or not True.
func readinessGates(pod *corev1.Pod) (bool, string) {
	for _, g := range pod.Spec.ReadinessGates {
		c := findCondition(pod.Status.Conditions, g.ConditionType)
		if c == nil || c.Status != corev1.ConditionTrue {
			return false, string(g.ConditionType)
		}
	}
	return true, ""
}

// crashState fills the user container's status for the crash fault: it starts at start, runs
// for p.CrashAfter, exits with the configured code, and is restarted after crashBackOff.
func crashState(pod *corev1.Pod, c corev1.Container, p Plan, start, now time.Time, w *wakeups, cs *corev1.ContainerStatus) {
	reason := ReasonError
	if p.Faults.CrashExitCode == 0 {
		reason = ReasonCompleted
	}
	s := start
	var last *corev1.ContainerStateTerminated
	for i := 0; i < 1_000_000; i++ {
		crash := s.Add(p.CrashAfter)
		cs.RestartCount = int32(i)
		if last != nil {
			cs.LastTerminationState = corev1.ContainerState{Terminated: last}
		}
		if now.Before(crash) {
			w.add(crash)
			cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: mtime(s)}}
			cs.ContainerID = containerID(pod, c.Name, int32(i))
			return
		}
		last = &corev1.ContainerStateTerminated{ExitCode: p.Faults.CrashExitCode, Reason: reason, Message: p.Faults.CrashMessage,
			StartedAt: mtime(s), FinishedAt: mtime(crash), ContainerID: containerID(pod, c.Name, int32(i))}
		wait := crashBackOff(i)
		restart := crash.Add(wait)
		if now.Before(restart) {
			w.add(restart)
			cs.LastTerminationState = corev1.ContainerState{Terminated: last}
			cs.ContainerID = last.ContainerID
			cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: ReasonCrashLoopBackOff,
				Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s", wait, c.Name, formatPod(pod))}}
			return
		}
		s = restart
	}
}

// restartedState fills the user container's status after Runtime.FailContainer: terminated
// with the exit code until its restart, then running again with restartCount up by one and the
// exit as lastState. Simplification: no CrashLoopBackOff; each restart takes the plan's
// restart delay.
func restartedState(pod *corev1.Pod, c corev1.Container, tl timeline, start, now time.Time, w *wakeups, cs *corev1.ContainerStatus) {
	var last *corev1.ContainerStateTerminated
	for i, r := range tl.restarts {
		term := &corev1.ContainerStateTerminated{ExitCode: r.exitCode, Reason: ReasonError, StartedAt: mtime(start),
			FinishedAt: mtime(r.exited), ContainerID: containerID(pod, c.Name, int32(i))}
		if r.exitCode == 0 {
			term.Reason = ReasonCompleted
		}
		if now.Before(r.restartAt) {
			w.add(r.restartAt)
			cs.RestartCount = int32(i)
			cs.ContainerID = term.ContainerID
			cs.State = corev1.ContainerState{Terminated: term}
			if last != nil {
				cs.LastTerminationState = corev1.ContainerState{Terminated: last}
			}
			return
		}
		last, start = term, r.restartAt
	}
	n := int32(len(tl.restarts))
	cs.RestartCount = n
	cs.LastTerminationState = corev1.ContainerState{Terminated: last}
	cs.ContainerID = containerID(pod, c.Name, n)
	cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: mtime(start)}}
}

// imagePullState is the user container's state for the image-pull fault: ContainerCreating
// while the first pull runs, ErrImagePull briefly after each failed pull, ImagePullBackOff
// while waiting for the next attempt (10s doubling to 5m, then another pull).
func imagePullState(pod *corev1.Pod, c corev1.Container, p Plan, tl timeline, now time.Time, w *wakeups) corev1.ContainerState {
	fail := p.pulledAt(tl)
	if now.Before(fail) {
		w.add(fail)
		return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: ReasonContainerCreating}}
	}
	msg := p.Faults.ImagePullMessage
	if msg == "" {
		msg = fmt.Sprintf("Failed to pull image %q: rpc error: code = NotFound desc = failed to pull and unpack image %q: failed to resolve reference %q: not found",
			c.Image, c.Image, c.Image)
	}
	for k := 0; k < 1_000_000; k++ {
		shown := fail.Add(min(errImagePullShown, backOff(k)))
		next := fail.Add(backOff(k)).Add(p.ImagePull)
		if now.Before(shown) {
			w.add(shown)
			return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: ReasonErrImagePull, Message: msg}}
		}
		if now.Before(next) {
			w.add(next)
			return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: ReasonImagePullBackOff,
				Message: fmt.Sprintf("Back-off pulling image %q: %s: %s", c.Image, ReasonErrImagePull, msg)}}
		}
		fail = next
	}
	return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: ReasonImagePullBackOff}}
}

// finishContainer turns a container's state into its final one once the pod's containers have
// exited: running ones exit 0 (137 if killed at the end of the grace period); a crash-looping
// one keeps its last exit; one that never started is reported as the kubelet reports it.
func finishContainer(cs *corev1.ContainerStatus, tl timeline) {
	cs.Ready = false
	cs.Started = ptr.To(false)
	switch {
	case cs.State.Running != nil:
		t := &corev1.ContainerStateTerminated{ExitCode: 0, Reason: ReasonCompleted, StartedAt: cs.State.Running.StartedAt,
			FinishedAt: mtime(tl.finished), ContainerID: cs.ContainerID}
		if tl.killed {
			t.ExitCode, t.Reason = killExitCode, ReasonError
		}
		cs.State = corev1.ContainerState{Terminated: t}
	case cs.State.Terminated != nil:
	case cs.LastTerminationState.Terminated != nil:
		cs.State = corev1.ContainerState{Terminated: cs.LastTerminationState.Terminated.DeepCopy()}
	default:
		cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: killExitCode, Reason: ReasonContainerStatusUnknown,
			Message: "The container could not be located when the pod was terminated", FinishedAt: mtime(tl.finished)}}
	}
}

// unschedulableStatus is the status the scheduler writes for a pod it cannot place.
func unschedulableStatus(pod *corev1.Pod, message string, at time.Time) corev1.PodStatus {
	st := *pod.Status.DeepCopy()
	st.Phase = corev1.PodPending
	c := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: ReasonUnschedulable, Message: message,
		LastProbeTime: mtime(at), LastTransitionTime: mtime(at), ObservedGeneration: pod.Generation}
	if prev := findCondition(st.Conditions, corev1.PodScheduled); prev != nil {
		if prev.Status == c.Status {
			c.LastTransitionTime, c.LastProbeTime = prev.LastTransitionTime, prev.LastProbeTime
		}
		*prev = c
	} else {
		st.Conditions = append(st.Conditions, c)
	}
	return st
}
