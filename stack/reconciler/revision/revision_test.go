package revision

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/servingsim/servingsim/stack/apis"
	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/duck"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/reconciler/revision/resources"
)

var t0 = time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)

var key = types.NamespacedName{Namespace: "ns", Name: "hello-00001"}

func newRevision() *servingv1.Revision {
	return &servingv1.Revision{
		ObjectMeta: metav1.ObjectMeta{
			Name: key.Name, Namespace: key.Namespace, UID: "rev-uid", Generation: 1,
			Labels: map[string]string{
				serving.ConfigurationLabelKey: "hello",
				serving.ServiceLabelKey:       "hello",
				serving.RoutingStateLabelKey:  serving.RoutingStateActive,
			},
		},
		Spec: servingv1.RevisionSpec{
			PodSpec:              corev1.PodSpec{Containers: []corev1.Container{{Name: "user-container", Image: "gcr.io/p/hello:v1"}}},
			ContainerConcurrency: ptr.To[int64](0),
			TimeoutSeconds:       ptr.To[int64](300),
		},
	}
}

type env struct {
	r     *Reconciler
	c     client.Client
	clock *clocktesting.FakeClock
	rec   *record.FakeRecorder
}

func newEnv(t *testing.T, objs ...client.Object) *env {
	t.Helper()
	c := fake.NewClientBuilder().WithScheme(apis.NewScheme()).
		WithStatusSubresource(&servingv1.Revision{}, &autoscalingv1alpha1.PodAutoscaler{}).
		WithObjects(objs...).Build()
	clk := clocktesting.NewFakeClock(t0)
	rec := record.NewFakeRecorder(16)
	return &env{r: &Reconciler{Client: c, Config: config.NewStore(), Clock: clk, Recorder: rec}, c: c, clock: clk, rec: rec}
}

func (e *env) reconcile(t *testing.T) (reconcile.Result, error) {
	t.Helper()
	return e.r.Reconcile(context.Background(), reconcile.Request{NamespacedName: key})
}

func (e *env) mustReconcile(t *testing.T) reconcile.Result {
	t.Helper()
	res, err := e.reconcile(t)
	if err != nil {
		t.Fatalf("Reconcile = %v, want no error", err)
	}
	return res
}

func (e *env) revision(t *testing.T) *servingv1.Revision {
	t.Helper()
	rev := &servingv1.Revision{}
	if err := e.c.Get(context.Background(), key, rev); err != nil {
		t.Fatalf("get revision: %v", err)
	}
	return rev
}

func (e *env) deployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := e.c.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: "hello-00001-deployment"}, d); err != nil {
		t.Fatalf("get deployment: %v", err)
	}
	return d
}

func (e *env) pa(t *testing.T) *autoscalingv1alpha1.PodAutoscaler {
	t.Helper()
	pa := &autoscalingv1alpha1.PodAutoscaler{}
	if err := e.c.Get(context.Background(), key, pa); err != nil {
		t.Fatalf("get podautoscaler: %v", err)
	}
	return pa
}

func wantCond(t *testing.T, st *duck.Status, typ duck.ConditionType, status corev1.ConditionStatus, reason string) {
	t.Helper()
	c := st.GetCondition(typ)
	if c == nil || c.Status != status || (reason != "" && c.Reason != reason) {
		t.Errorf("condition %s = %+v, want %s/%s", typ, c, status, reason)
	}
}

func (e *env) setDeploymentStatus(t *testing.T, s appsv1.DeploymentStatus) {
	t.Helper()
	d := e.deployment(t)
	d.Status = s
	if err := e.c.Status().Update(context.Background(), d); err != nil {
		t.Fatalf("update deployment status: %v", err)
	}
}

func (e *env) setPAStatus(t *testing.T, conds map[duck.ConditionType]corev1.ConditionStatus, actual, desired int32) {
	t.Helper()
	pa := e.pa(t)
	pa.Status.Conditions = nil
	for typ, st := range conds {
		pa.Status.Conditions = append(pa.Status.Conditions, duck.Condition{Type: typ, Status: st, LastTransitionTime: metav1.NewTime(t0)})
	}
	pa.Status.ActualScale, pa.Status.DesiredScale = &actual, &desired
	if err := e.c.Status().Update(context.Background(), pa); err != nil {
		t.Fatalf("update pa status: %v", err)
	}
}

func crashingPod(mutate func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "hello-00001-deployment-abc", Namespace: "ns", Labels: map[string]string{
			serving.RevisionUIDLabelKey: "rev-uid", serving.RevisionLabelKey: key.Name,
		}},
	}
	mutate(p)
	return p
}

func TestRevisionCreatesDeploymentAndPA_Section1_5(t *testing.T) {
	e := newEnv(t, newRevision())
	e.mustReconcile(t)

	d := e.deployment(t)
	if *d.Spec.Replicas != 1 || d.Spec.Template.Spec.Containers[1].Name != serving.QueueContainerName {
		t.Errorf("deployment replicas=%d containers=%d, want 1 replica with queue-proxy", *d.Spec.Replicas, len(d.Spec.Template.Spec.Containers))
	}
	if img := d.Spec.Template.Spec.Containers[0].Image; !strings.Contains(img, "@sha256:") {
		t.Errorf("user image = %q, want the (fake) resolved digest", img)
	}
	pa := e.pa(t)
	if pa.Spec.Reachability != autoscalingv1alpha1.ReachabilityReachable || pa.Spec.ScaleTargetRef.Name != d.Name {
		t.Errorf("pa spec = %+v, want Reachable targeting %s", pa.Spec, d.Name)
	}
	rev := e.revision(t)
	wantCond(t, &rev.Status.Status, servingv1.RevisionConditionResourcesAvailable, corev1.ConditionUnknown, ReasonDeploying)
	wantCond(t, &rev.Status.Status, servingv1.RevisionConditionContainerHealthy, corev1.ConditionUnknown, ReasonDeploying)
	wantCond(t, &rev.Status.Status, duck.ConditionReady, corev1.ConditionUnknown, "")
	wantCond(t, &rev.Status.Status, servingv1.RevisionConditionActive, corev1.ConditionUnknown, ReasonDeploying)
	if rev.Status.ObservedGeneration != 1 {
		t.Errorf("observedGeneration = %d, want 1", rev.Status.ObservedGeneration)
	}
	if cs := rev.Status.ContainerStatuses; len(cs) != 1 || cs[0].Name != "user-container" || !strings.HasPrefix(cs[0].ImageDigest, "gcr.io/p/hello@sha256:") {
		t.Errorf("containerStatuses = %+v, want the resolved digest of user-container", cs)
	}
}

func TestRevisionBecomesReadyWhenPAInitialized_Section1_5(t *testing.T) {
	for name, conds := range map[string][]appsv1.DeploymentCondition{
		"Deployment controller reports Progressing": {{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"}},
		"no Deployment conditions (pod runtime)":    nil,
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, newRevision())
			e.mustReconcile(t)
			e.setDeploymentStatus(t, appsv1.DeploymentStatus{Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 1, Conditions: conds})
			e.setPAStatus(t, map[duck.ConditionType]corev1.ConditionStatus{
				duck.ConditionReady: corev1.ConditionTrue, autoscalingv1alpha1.PodAutoscalerConditionActive: corev1.ConditionTrue,
				autoscalingv1alpha1.PodAutoscalerConditionScaleTargetInitialized: corev1.ConditionTrue, autoscalingv1alpha1.PodAutoscalerConditionSKSReady: corev1.ConditionTrue,
			}, 1, 1)
			e.clock.Step(time.Second)
			e.mustReconcile(t)

			rev := e.revision(t)
			wantCond(t, &rev.Status.Status, duck.ConditionReady, corev1.ConditionTrue, "")
			wantCond(t, &rev.Status.Status, servingv1.RevisionConditionResourcesAvailable, corev1.ConditionTrue, "")
			wantCond(t, &rev.Status.Status, servingv1.RevisionConditionContainerHealthy, corev1.ConditionTrue, "")
			wantCond(t, &rev.Status.Status, servingv1.RevisionConditionActive, corev1.ConditionTrue, "")
			if rev.Status.ActualReplicas == nil || *rev.Status.ActualReplicas != 1 || rev.Status.DesiredReplicas == nil || *rev.Status.DesiredReplicas != 1 {
				t.Errorf("actual/desired replicas = %v/%v, want 1/1", rev.Status.ActualReplicas, rev.Status.DesiredReplicas)
			}
			select {
			case ev := <-e.rec.Events:
				if !strings.Contains(ev, "RevisionReady") {
					t.Errorf("event = %q, want RevisionReady", ev)
				}
			default:
				t.Errorf("no event recorded, want RevisionReady")
			}

			// Level-triggered and quiet (§1.7): a later reconcile with nothing changed writes
			// nothing, even though the conditions pass through intermediate states.
			rv := rev.ResourceVersion
			e.clock.Step(time.Minute)
			e.mustReconcile(t)
			if got := e.revision(t); got.ResourceVersion != rv {
				t.Errorf("no-op reconcile changed the revision: resourceVersion %s → %s, conditions %+v", rv, got.ResourceVersion, got.Status.Conditions)
			}
		})
	}
}

func TestRevisionCrashExitCode_Section1_5(t *testing.T) {
	pod := crashingPod(func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{
			{Name: serving.QueueContainerName, Ready: true},
			{Name: "user-container", LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Message: "boom"}}},
		}
	})
	e := newEnv(t, newRevision(), pod)
	e.mustReconcile(t)
	e.setDeploymentStatus(t, appsv1.DeploymentStatus{Replicas: 1})
	e.mustReconcile(t)

	rev := e.revision(t)
	wantCond(t, &rev.Status.Status, servingv1.RevisionConditionContainerHealthy, corev1.ConditionFalse, "ExitCode1")
	wantCond(t, &rev.Status.Status, duck.ConditionReady, corev1.ConditionFalse, "ExitCode1")
	if c := rev.Status.GetCondition(servingv1.RevisionConditionContainerHealthy); c.Message != "Container failed with: boom" {
		t.Errorf("ContainerHealthy message = %q, want %q", c.Message, "Container failed with: boom")
	}
	// §1.2 override: failed, wants a pod, none ready → the PA becomes Unreachable.
	if got := e.pa(t).Spec.Reachability; got != autoscalingv1alpha1.ReachabilityUnreachable {
		t.Errorf("pa reachability = %q, want Unreachable", got)
	}
}

func TestRevisionUnschedulable_Section1_5(t *testing.T) {
	pod := crashingPod(func(p *corev1.Pod) {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: "0/1 nodes are available: insufficient cpu"}}
	})
	e := newEnv(t, newRevision(), pod)
	e.mustReconcile(t)
	e.setDeploymentStatus(t, appsv1.DeploymentStatus{Replicas: 1})
	e.mustReconcile(t)

	rev := e.revision(t)
	wantCond(t, &rev.Status.Status, servingv1.RevisionConditionResourcesAvailable, corev1.ConditionFalse, "Unschedulable")
	wantCond(t, &rev.Status.Status, duck.ConditionReady, corev1.ConditionFalse, "")
	if c := rev.Status.GetCondition(servingv1.RevisionConditionResourcesAvailable); c.Message != "0/1 nodes are available: insufficient cpu" {
		t.Errorf("ResourcesAvailable message = %q, want the scheduler's", c.Message)
	}

	// pod-is-always-schedulable turns the check off.
	e2 := newEnv(t, newRevision(), pod)
	if err := e2.r.Config.Update(config.DeploymentConfigName, map[string]string{"pod-is-always-schedulable": "true"}); err != nil {
		t.Fatal(err)
	}
	e2.mustReconcile(t)
	e2.setDeploymentStatus(t, appsv1.DeploymentStatus{Replicas: 1})
	e2.mustReconcile(t)
	if c := e2.revision(t).Status.GetCondition(servingv1.RevisionConditionResourcesAvailable); c.IsFalse() {
		t.Errorf("ResourcesAvailable with pod-is-always-schedulable = %+v, want not False", c)
	}
}

func TestRevisionWaitingContainerAfterProgressDeadline_Section1_5(t *testing.T) {
	waiting := crashingPod(func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "user-container", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "pull failed"}}}}
	})

	t.Run("Deployment controller reports ProgressDeadlineExceeded", func(t *testing.T) {
		e := newEnv(t, newRevision(), waiting)
		e.mustReconcile(t)
		e.setDeploymentStatus(t, appsv1.DeploymentStatus{Replicas: 1, Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded", Message: "timed out"},
		}})
		e.mustReconcile(t)
		wantCond(t, &e.revision(t).Status.Status, servingv1.RevisionConditionResourcesAvailable, corev1.ConditionFalse, "ImagePullBackOff")
	})

	t.Run("no Progressing condition: deadline counted from creation", func(t *testing.T) {
		rev := newRevision()
		d := resources.MakeDeployment(rev, config.Default())
		d.CreationTimestamp = metav1.NewTime(t0)
		d.Status = appsv1.DeploymentStatus{Replicas: 1}
		e := newEnv(t, rev, d, waiting)
		e.clock.SetTime(t0.Add(5 * time.Minute))
		res := e.mustReconcile(t)
		if c := e.revision(t).Status.GetCondition(servingv1.RevisionConditionResourcesAvailable); c.IsFalse() {
			t.Errorf("ResourcesAvailable before the deadline = %+v, want not False", c)
		}
		if res.RequeueAfter != 5*time.Minute {
			t.Errorf("RequeueAfter = %v, want 5m (until the 600s deadline)", res.RequeueAfter)
		}
		e.clock.SetTime(t0.Add(601 * time.Second))
		e.mustReconcile(t)
		wantCond(t, &e.revision(t).Status.Status, servingv1.RevisionConditionResourcesAvailable, corev1.ConditionFalse, "ImagePullBackOff")
	})
}

func TestRevisionInitialScaleNeverAchieved_Section1_5(t *testing.T) {
	e := newEnv(t, newRevision())
	e.mustReconcile(t)
	e.setPAStatus(t, map[duck.ConditionType]corev1.ConditionStatus{
		duck.ConditionReady: corev1.ConditionFalse, autoscalingv1alpha1.PodAutoscalerConditionActive: corev1.ConditionFalse,
		autoscalingv1alpha1.PodAutoscalerConditionScaleTargetInitialized: corev1.ConditionUnknown,
	}, 0, 0)
	e.mustReconcile(t)
	rev := e.revision(t)
	wantCond(t, &rev.Status.Status, servingv1.RevisionConditionResourcesAvailable, corev1.ConditionFalse, ReasonProgressDeadlineExceeded)
	wantCond(t, &rev.Status.Status, servingv1.RevisionConditionActive, corev1.ConditionFalse, "")
	if c := rev.Status.GetCondition(servingv1.RevisionConditionResourcesAvailable); c.Message != MessageInitialScaleNeverMet {
		t.Errorf("message = %q, want %q", c.Message, MessageInitialScaleNeverMet)
	}
}

func TestRevisionScaledToZeroStaysReady_Section1_5(t *testing.T) {
	e := newEnv(t, newRevision())
	e.mustReconcile(t)
	e.setPAStatus(t, map[duck.ConditionType]corev1.ConditionStatus{
		duck.ConditionReady: corev1.ConditionFalse, autoscalingv1alpha1.PodAutoscalerConditionActive: corev1.ConditionFalse,
		autoscalingv1alpha1.PodAutoscalerConditionScaleTargetInitialized: corev1.ConditionTrue,
	}, 0, 0)
	e.mustReconcile(t)
	rev := e.revision(t)
	wantCond(t, &rev.Status.Status, duck.ConditionReady, corev1.ConditionTrue, "")
	wantCond(t, &rev.Status.Status, servingv1.RevisionConditionActive, corev1.ConditionFalse, "")
}

func TestRevisionDeploymentNotOwned_Section1_5(t *testing.T) {
	other := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "hello-00001-deployment", Namespace: "ns"}}
	e := newEnv(t, newRevision(), other)
	if _, err := e.reconcile(t); err == nil {
		t.Errorf("Reconcile with a foreign Deployment = nil error, want one")
	}
	wantCond(t, &e.revision(t).Status.Status, servingv1.RevisionConditionResourcesAvailable, corev1.ConditionFalse, ReasonNotOwned)
}

func TestRevisionRepairsDriftedDeploymentButKeepsReplicas_Section1_5(t *testing.T) {
	e := newEnv(t, newRevision())
	e.mustReconcile(t)
	d := e.deployment(t)
	d.Spec.Replicas = ptr.To[int32](4) // the PA's business
	d.Spec.Template.Spec.Containers[1].Env = nil
	if err := e.c.Update(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	e.mustReconcile(t)
	d = e.deployment(t)
	if *d.Spec.Replicas != 4 {
		t.Errorf("replicas = %d, want the PA's 4 kept", *d.Spec.Replicas)
	}
	if len(d.Spec.Template.Spec.Containers[1].Env) == 0 {
		t.Errorf("queue-proxy env = empty, want restored")
	}
}

func TestRevisionPASpecFollowsRoutingState_Section1_2(t *testing.T) {
	e := newEnv(t, newRevision())
	e.mustReconcile(t)
	rev := e.revision(t)
	rev.Labels[serving.RoutingStateLabelKey] = serving.RoutingStateReserve
	if err := e.c.Update(context.Background(), rev); err != nil {
		t.Fatal(err)
	}
	e.mustReconcile(t)
	if got := e.pa(t).Spec.Reachability; got != autoscalingv1alpha1.ReachabilityUnreachable {
		t.Errorf("pa reachability after routingState=reserve = %q, want Unreachable", got)
	}
}
