package revision

import (
	"fmt"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/duck"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
)

// Reasons and messages of the Revision's conditions (§1.5).
const (
	ReasonDeploying                = "Deploying"
	ReasonNotOwned                 = "NotOwned"
	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
	MessageInitialScaleNeverMet    = "Initial scale was never achieved"
)

// ExitCodeReason is the ContainerHealthy reason of a container that exited with code.
func ExitCodeReason(code int32) string { return fmt.Sprintf("ExitCode%d", code) }

// containerExitingMessage is the ContainerHealthy message of a crashed container.
func containerExitingMessage(msg string) string { return "Container failed with: " + msg }

func notOwnedMessage(kind, name string) string {
	return fmt.Sprintf("There is an existing %s %q that we do not own.", kind, name)
}

// condition is a computed condition value, applied once through the condition manager.
type condition struct {
	status          corev1.ConditionStatus
	reason, message string
}

// deploymentReadiness folds a Deployment's Progressing and ReplicaFailure conditions into one
// readiness (§1.5 "the Deployment's Ready condition"): False if either reports a failure (a
// replica failure outranks a progress failure), True when progressing succeeded and no replica
// failure exists, Unknown (Deploying) otherwise.
func deploymentReadiness(ds *appsv1.DeploymentStatus) condition {
	progressing := condition{status: corev1.ConditionUnknown, reason: ReasonDeploying}
	replicaSet := condition{status: corev1.ConditionTrue}
	for _, c := range ds.Conditions {
		switch c.Type {
		case appsv1.DeploymentProgressing:
			progressing = condition{status: c.Status, reason: c.Reason, message: c.Message}
			if c.Status == corev1.ConditionTrue {
				progressing.reason, progressing.message = "", ""
			}
		case appsv1.DeploymentReplicaFailure:
			switch c.Status {
			case corev1.ConditionTrue:
				replicaSet = condition{status: corev1.ConditionFalse, reason: c.Reason, message: c.Message}
			case corev1.ConditionUnknown:
				replicaSet = condition{status: corev1.ConditionUnknown, reason: c.Reason, message: c.Message}
			}
		}
	}
	switch {
	case replicaSet.status == corev1.ConditionFalse:
		return replicaSet
	case progressing.status == corev1.ConditionFalse:
		return progressing
	case progressing.status == corev1.ConditionTrue && replicaSet.status == corev1.ConditionTrue:
		return condition{status: corev1.ConditionTrue}
	case progressing.status == corev1.ConditionUnknown:
		return progressing
	}
	return replicaSet
}

func apply(m duck.ConditionManager, t duck.ConditionType, c condition) {
	switch c.status {
	case corev1.ConditionTrue:
		m.MarkTrueWithReason(t, c.reason, c.message)
	case corev1.ConditionFalse:
		m.MarkFalse(t, c.reason, c.message)
	default:
		m.MarkUnknown(t, c.reason, c.message)
	}
}

// progressTimedOut reports whether the Deployment's progress deadline has passed: the
// Deployment controller says so (Progressing=False, ProgressDeadlineExceeded), or — when nothing
// maintains a Progressing condition — the Deployment is older than its deadline with no
// available replica. The second return is how long until the fallback deadline passes (0 when
// unknown or already passed).
func progressTimedOut(d *appsv1.Deployment, now time.Time) (bool, time.Duration) {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing {
			return c.Status == corev1.ConditionFalse && c.Reason == ReasonProgressDeadlineExceeded, 0
		}
	}
	if d.Spec.ProgressDeadlineSeconds == nil || d.CreationTimestamp.IsZero() || d.Status.AvailableReplicas > 0 {
		return false, 0
	}
	deadline := d.CreationTimestamp.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second)
	if !now.Before(deadline) {
		return true, 0
	}
	return false, deadline.Sub(now)
}

// crashVerdict is what the pods of a Deployment with no available replica say (§1.5 crash
// detection); nil fields mean "no finding".
type crashVerdict struct {
	resourcesAvailable *condition
	containerHealthy   *condition
	// recheckAfter > 0 asks for a reconcile when the progress deadline passes.
	recheckAfter time.Duration
}

// detectCrash inspects the first pod (by name) of a Deployment that wants replicas but has none
// available: an Unschedulable pod makes ResourcesAvailable False with the scheduler's reason
// (unless podAlwaysSchedulable); a user container whose last run terminated makes
// ContainerHealthy False with ExitCode<N>; a waiting user container makes ResourcesAvailable
// False with the waiting reason once the progress deadline has passed.
func detectCrash(d *appsv1.Deployment, pods []corev1.Pod, podAlwaysSchedulable bool, now time.Time) crashVerdict {
	var v crashVerdict
	replicas := int32(1)
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	if replicas == 0 || d.Status.AvailableReplicas > 0 || len(pods) == 0 {
		return v
	}
	sorted := append([]corev1.Pod(nil), pods...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	pod := sorted[0]
	if !podAlwaysSchedulable {
		for _, c := range pod.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
				v.resourcesAvailable = &condition{status: corev1.ConditionFalse, reason: c.Reason, message: c.Message}
				break
			}
		}
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == serving.QueueContainerName {
			continue
		}
		if t := cs.LastTerminationState.Terminated; t != nil {
			msg := t.Message
			if t.ExitCode == 0 && msg == "" {
				msg = "container exited with no error"
			}
			v.containerHealthy = &condition{status: corev1.ConditionFalse, reason: ExitCodeReason(t.ExitCode), message: containerExitingMessage(msg)}
			break
		}
		if w := cs.State.Waiting; w != nil {
			timedOut, wait := progressTimedOut(d, now)
			if timedOut {
				v.resourcesAvailable = &condition{status: corev1.ConditionFalse, reason: w.Reason, message: w.Message}
				break
			}
			v.recheckAfter = wait
		}
	}
	return v
}

// propagateAutoscalerStatus mirrors the PA into the Revision (§1.5 propagation from the PA).
func propagateAutoscalerStatus(m duck.ConditionManager, rs *servingv1.RevisionStatus, ps *autoscalingv1alpha1.PodAutoscalerStatus) {
	rs.ActualReplicas, rs.DesiredReplicas = nil, nil
	if ps.ActualScale != nil && *ps.ActualScale >= 0 {
		v := *ps.ActualScale
		rs.ActualReplicas = &v
	}
	if ps.DesiredScale != nil && *ps.DesiredScale >= 0 {
		v := *ps.DesiredScale
		rs.DesiredReplicas = &v
	}
	ready := ps.GetCondition(autoscalingv1alpha1.PodAutoscalerConditionReady)
	if ready == nil {
		m.SetInfo(servingv1.RevisionConditionActive, corev1.ConditionUnknown, ReasonDeploying, "")
		return
	}
	initialized := ps.GetCondition(autoscalingv1alpha1.PodAutoscalerConditionScaleTargetInitialized).IsTrue()
	if initialized && !rs.GetCondition(servingv1.RevisionConditionResourcesAvailable).IsFalse() {
		m.MarkTrue(servingv1.RevisionConditionResourcesAvailable)
		m.MarkTrue(servingv1.RevisionConditionContainerHealthy)
	}
	switch ready.Status {
	case corev1.ConditionTrue:
		m.SetInfo(servingv1.RevisionConditionActive, corev1.ConditionTrue, "", "")
	case corev1.ConditionFalse:
		if !initialized {
			m.MarkFalse(servingv1.RevisionConditionResourcesAvailable, ReasonProgressDeadlineExceeded, MessageInitialScaleNeverMet)
		}
		m.SetInfo(servingv1.RevisionConditionActive, corev1.ConditionFalse, ready.Reason, ready.Message)
	default:
		m.SetInfo(servingv1.RevisionConditionActive, corev1.ConditionUnknown, ready.Reason, ready.Message)
	}
}
