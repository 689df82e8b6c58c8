package podruntime

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// Deployment condition reasons (pkg/controller/deployment/util/deployment_util.go).
const (
	ReasonNewReplicaSetCreated       = "NewReplicaSetCreated"
	ReasonFoundNewReplicaSet         = "FoundNewReplicaSet"
	ReasonReplicaSetUpdated          = "ReplicaSetUpdated"
	ReasonNewReplicaSetAvailable     = "NewReplicaSetAvailable"
	ReasonProgressDeadlineExceeded   = "ProgressDeadlineExceeded"
	ReasonMinimumReplicasAvailable   = "MinimumReplicasAvailable"
	ReasonMinimumReplicasUnavailable = "MinimumReplicasUnavailable"
	ReasonFailedCreate               = "FailedCreate"
)

// PodTemplateHashLabel is the label carrying a pod's template hash, as on real ReplicaSet pods.
const PodTemplateHashLabel = appsv1.DefaultDeploymentUniqueLabelKey

// safeAlphanums is apimachinery's rand alphabet: no vowels, no confusable characters.
const safeAlphanums = "bcdfghjklmnpqrstvwxz2456789"

// templateHash is the pod-template hash (like controller.ComputeHash: FNV-32a of the template,
// rendered with the safe alphabet). Ours hashes the template's JSON, so values differ from a real
// cluster's but are stable for a given template.
func templateHash(tpl *corev1.PodTemplateSpec) string {
	b, _ := json.Marshal(tpl) //nolint:errchkjson // a PodTemplateSpec always marshals
	h := fnv.New32a()
	_, _ = h.Write(b)
	s := strconv.FormatUint(uint64(h.Sum32()), 10)
	out := make([]byte, len(s))
	for i := range s {
		out[i] = safeAlphanums[int(s[i])%len(safeAlphanums)]
	}
	return string(out)
}

// replicaSetName is the name the ReplicaSet of this template would have; pods are named after it
// and the Progressing messages quote it.
func replicaSetName(d *appsv1.Deployment, hash string) string { return d.Name + "-" + hash }

// maxGeneratedNameLength is the longest base the API's generateName keeps (63 - 5 random chars).
const maxGeneratedNameLength = 58

// podName is <deployment>-<hash>-<5 chars>, with the base cut like generateName cuts it.
func podName(d *appsv1.Deployment, hash, suffix string) string {
	base := replicaSetName(d, hash) + "-"
	if len(base) > maxGeneratedNameLength {
		base = base[:maxGeneratedNameLength]
	}
	return base + suffix
}

func replicas(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

// fenceposts resolves maxSurge (rounded up) and maxUnavailable (rounded down) against replicas,
// as deployment_util.ResolveFenceposts does; both 0 becomes maxUnavailable 1.
func fenceposts(d *appsv1.Deployment) (surge, unavailable int32) {
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		return 0, 0
	}
	defSurge, defUnavail := intstr.FromString("25%"), intstr.FromString("25%")
	s, u := &defSurge, &defUnavail
	if ru := d.Spec.Strategy.RollingUpdate; ru != nil {
		if ru.MaxSurge != nil {
			s = ru.MaxSurge
		}
		if ru.MaxUnavailable != nil {
			u = ru.MaxUnavailable
		}
	}
	n := int(replicas(d))
	sv, err := intstr.GetScaledValueFromIntOrPercent(s, n, true)
	if err != nil {
		sv = 0
	}
	uv, err := intstr.GetScaledValueFromIntOrPercent(u, n, false)
	if err != nil {
		uv = 0
	}
	if sv == 0 && uv == 0 {
		uv = 1
	}
	return int32(sv), int32(uv)
}

// maxUnavailable is deployment_util.MaxUnavailable: 0 unless RollingUpdate, capped at replicas.
func maxUnavailable(d *appsv1.Deployment) int32 {
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType || replicas(d) == 0 {
		return 0
	}
	_, u := fenceposts(d)
	return min(u, replicas(d))
}

// isAvailable: ready for at least minReadySeconds.
func isAvailable(readySince time.Time, minReady int32, now time.Time) bool {
	if readySince.IsZero() {
		return false
	}
	return minReady == 0 || !readySince.Add(time.Duration(minReady)*time.Second).After(now)
}

// rolloutInput is what the Deployment controller decides from: the active (not terminating, not
// terminal) pods of the current template and of older ones.
type rolloutInput struct {
	d              *appsv1.Deployment
	newPods        []*corev1.Pod
	oldPods        []*corev1.Pod
	unobservedNew  int  // created by us, not yet in the cache
	oldTerminating bool // an old-template pod is still terminating (Recreate waits for it)
	now            time.Time
	times          podTimes
}

type rolloutPlan struct {
	create int
	delete []*corev1.Pod
}

func (in rolloutInput) available(p *corev1.Pod) bool {
	_, ready := in.times(p)
	return isAvailable(ready, in.d.Spec.MinReadySeconds, in.now)
}

// planRollout is the ReplicaSet and Deployment controllers folded together: scale the current
// template's pods to spec.replicas and retire old-template pods per the strategy (Recreate:
// all old pods first; RollingUpdate: within maxSurge/maxUnavailable, unhealthy old pods first).
func planRollout(in rolloutInput) rolloutPlan {
	if in.times == nil {
		in.times = metadataTimes
	}
	want := int(replicas(in.d))
	newCount := len(in.newPods) + in.unobservedNew
	var out rolloutPlan
	scaleNew := func(target int) {
		switch {
		case newCount < target:
			out.create = target - newCount
		case newCount > target:
			extra := min(newCount-target, len(in.newPods))
			victims := append([]*corev1.Pod(nil), in.newPods...)
			sortForScaleDown(victims, in.times)
			out.delete = append(out.delete, victims[:extra]...)
		}
	}
	if len(in.oldPods) == 0 {
		if in.d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType || !in.oldTerminating {
			scaleNew(want)
		}
		return out
	}
	if in.d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		out.delete = append(out.delete, in.oldPods...)
		return out
	}

	surge, unavail := fenceposts(in.d)
	total := newCount + len(in.oldPods)
	// Scale the new pods up within maxSurge, or down to replicas.
	if newCount < want {
		if maxTotal := want + int(surge); total < maxTotal {
			out.create = min(maxTotal-total, want-newCount)
		}
	} else {
		scaleNew(want)
	}
	// Retire old pods while keeping replicas-maxUnavailable available.
	minAvailable := want - int(unavail)
	availableNew := 0
	for _, p := range in.newPods {
		if in.available(p) {
			availableNew++
		}
	}
	newUnavailable := newCount - availableNew
	maxScaledDown := total - minAvailable - newUnavailable
	old := append([]*corev1.Pod(nil), in.oldPods...)
	sortForScaleDown(old, in.times)
	var healthy, unhealthy []*corev1.Pod
	for _, p := range old {
		if in.available(p) {
			healthy = append(healthy, p)
		} else {
			unhealthy = append(unhealthy, p)
		}
	}
	cleaned := 0
	if maxScaledDown > 0 {
		cleaned = min(len(unhealthy), maxScaledDown)
		out.delete = append(out.delete, unhealthy[:cleaned]...)
	}
	remaining := append(append([]*corev1.Pod(nil), unhealthy[cleaned:]...), healthy...)
	sortForScaleDown(remaining, in.times)
	if n := min(availableNew+len(healthy)-minAvailable, len(remaining)); n > 0 {
		out.delete = append(out.delete, remaining[:n]...)
	}
	return out
}

// statusInput is what the Deployment status is computed from, after this round's actions.
type statusInput struct {
	d           *appsv1.Deployment
	hash        string
	active      []*corev1.Pod // not terminating, not terminal
	terminating int
	targets     int // the pods the controller now wants to exist (the ReplicaSets' spec.replicas)
	createErr   error
	now         time.Time
	times       podTimes
}

func newCondition(t appsv1.DeploymentConditionType, s corev1.ConditionStatus, reason, msg string, now time.Time) appsv1.DeploymentCondition {
	return appsv1.DeploymentCondition{Type: t, Status: s, Reason: reason, Message: msg, LastUpdateTime: mtime(now), LastTransitionTime: mtime(now)}
}

func getCondition(st appsv1.DeploymentStatus, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			return &st.Conditions[i]
		}
	}
	return nil
}

// setCondition is deployment_util.SetDeploymentCondition: no-op for the same status and reason,
// keeps lastTransitionTime for the same status, appends at the end.
func setCondition(st *appsv1.DeploymentStatus, c appsv1.DeploymentCondition) {
	cur := getCondition(*st, c.Type)
	if cur != nil && cur.Status == c.Status && cur.Reason == c.Reason {
		return
	}
	if cur != nil && cur.Status == c.Status {
		c.LastTransitionTime = cur.LastTransitionTime
	}
	removeCondition(st, c.Type)
	st.Conditions = append(st.Conditions, c)
}

func removeCondition(st *appsv1.DeploymentStatus, t appsv1.DeploymentConditionType) {
	var out []appsv1.DeploymentCondition
	for _, c := range st.Conditions {
		if c.Type != t {
			out = append(out, c)
		}
	}
	st.Conditions = out
}

func hasProgressDeadline(d *appsv1.Deployment) bool {
	return d.Spec.ProgressDeadlineSeconds != nil && *d.Spec.ProgressDeadlineSeconds != math.MaxInt32
}

// deploymentStatus computes the status the Deployment controller writes (calculateStatus and
// syncRolloutStatus in pkg/controller/deployment), and the instant at which it should look again
// (a progress deadline or a pod becoming available; zero: none).
func deploymentStatus(in statusInput) (appsv1.DeploymentStatus, time.Time) {
	if in.times == nil {
		in.times = metadataTimes
	}
	d := in.d
	w := &wakeups{now: in.now}
	st := *d.Status.DeepCopy()
	var updated, ready, available int32
	for _, p := range in.active {
		if p.Labels[PodTemplateHashLabel] == in.hash {
			updated++
		}
		_, since := in.times(p)
		if isPodReady(p) {
			ready++
		}
		if isAvailable(since, d.Spec.MinReadySeconds, in.now) {
			available++
		} else if !since.IsZero() {
			w.add(since.Add(time.Duration(d.Spec.MinReadySeconds) * time.Second))
		}
	}
	st.ObservedGeneration = d.Generation
	st.Replicas = int32(len(in.active))
	st.UpdatedReplicas = updated
	st.ReadyReplicas = ready
	st.AvailableReplicas = available
	st.UnavailableReplicas = max(int32(in.targets)-available, 0)
	st.TerminatingReplicas = ptr.To(int32(in.terminating))

	if available >= replicas(d)-maxUnavailable(d) {
		setCondition(&st, newCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, ReasonMinimumReplicasAvailable, "Deployment has minimum availability.", in.now))
	} else {
		setCondition(&st, newCondition(appsv1.DeploymentAvailable, corev1.ConditionFalse, ReasonMinimumReplicasUnavailable, "Deployment does not have minimum availability.", in.now))
	}

	rs := replicaSetName(d, in.hash)
	if !hasProgressDeadline(d) {
		removeCondition(&st, appsv1.DeploymentProgressing)
	} else {
		// A template we have not reported on yet is a new ReplicaSet: the deadline restarts.
		if cur := getCondition(st, appsv1.DeploymentProgressing); cur == nil || !mentions(cur.Message, rs) {
			removeCondition(&st, appsv1.DeploymentProgressing)
			setCondition(&st, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewReplicaSetCreated,
				fmt.Sprintf("Created new replica set %q", rs), in.now))
		}
		cur := getCondition(d.Status, appsv1.DeploymentProgressing)
		complete := st.Replicas == st.UpdatedReplicas && cur != nil && cur.Reason == ReasonNewReplicaSetAvailable && mentions(cur.Message, rs)
		if !complete {
			want := replicas(d)
			oldOld := d.Status.Replicas - d.Status.UpdatedReplicas
			newOld := st.Replicas - st.UpdatedReplicas
			switch {
			case st.UpdatedReplicas == want && st.Replicas == want && st.AvailableReplicas == want && st.ObservedGeneration >= d.Generation:
				setCondition(&st, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewReplicaSetAvailable,
					fmt.Sprintf("ReplicaSet %q has successfully progressed.", rs), in.now))
			case st.UpdatedReplicas > d.Status.UpdatedReplicas || newOld < oldOld ||
				st.ReadyReplicas > d.Status.ReadyReplicas || st.AvailableReplicas > d.Status.AvailableReplicas:
				c := newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonReplicaSetUpdated,
					fmt.Sprintf("ReplicaSet %q is progressing.", rs), in.now)
				if p := getCondition(st, appsv1.DeploymentProgressing); p != nil {
					if p.Status == corev1.ConditionTrue {
						c.LastTransitionTime = p.LastTransitionTime
					}
					removeCondition(&st, appsv1.DeploymentProgressing)
				}
				setCondition(&st, c)
			case timedOut(d, st, in.now):
				setCondition(&st, newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, ReasonProgressDeadlineExceeded,
					fmt.Sprintf("ReplicaSet %q has timed out progressing.", rs), in.now))
			}
		}
		// requeueStuckDeployment: look again when the deadline passes.
		if c := getCondition(st, appsv1.DeploymentProgressing); c != nil && c.Reason != ReasonNewReplicaSetAvailable && c.Reason != ReasonProgressDeadlineExceeded {
			w.add(c.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second).Add(time.Millisecond))
		}
	}

	if in.createErr != nil {
		setCondition(&st, newCondition(appsv1.DeploymentReplicaFailure, corev1.ConditionTrue, ReasonFailedCreate, in.createErr.Error(), in.now))
	} else {
		removeCondition(&st, appsv1.DeploymentReplicaFailure)
	}
	return st, w.next
}

// timedOut is deployment_util.DeploymentTimedOut.
func timedOut(d *appsv1.Deployment, st appsv1.DeploymentStatus, now time.Time) bool {
	c := getCondition(st, appsv1.DeploymentProgressing)
	if c == nil || c.Reason == ReasonNewReplicaSetAvailable {
		return false
	}
	if c.Reason == ReasonProgressDeadlineExceeded {
		return true
	}
	return c.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second).Before(now)
}

// mentions reports whether a condition message quotes the ReplicaSet name rs.
func mentions(msg, rs string) bool { return strings.Contains(msg, strconv.Quote(rs)) }
