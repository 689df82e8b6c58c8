package resources

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/duck"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/kmeta"
)

// MakePA builds the Revision's PodAutoscaler (§1.5 PA spec): all the Revision's annotations,
// the Deployment's labels, and reachability from routingState with the not-ready override.
func MakePA(rev *servingv1.Revision, deploy *appsv1.Deployment, cfg *config.Config) *autoscalingv1alpha1.PodAutoscaler {
	annos := make(map[string]string, len(rev.Annotations))
	for k, v := range rev.Annotations {
		annos[k] = v
	}
	return &autoscalingv1alpha1.PodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{
			Name:            kmeta.PodAutoscalerName(rev.Name),
			Namespace:       rev.Namespace,
			Labels:          MakeLabels(rev),
			Annotations:     annos,
			OwnerReferences: []metav1.OwnerReference{kmeta.NewControllerRef(rev, RevisionGVK)},
		},
		Spec: autoscalingv1alpha1.PodAutoscalerSpec{
			ContainerConcurrency: ContainerConcurrency(rev, cfg.Defaults),
			ScaleTargetRef: corev1.ObjectReference{
				APIVersion: appsv1.SchemeGroupVersion.String(),
				Kind:       "Deployment",
				Name:       kmeta.DeploymentName(rev.Name),
			},
			ProtocolType: Protocol(rev),
			Reachability: Reachability(rev, deploy),
		},
	}
}

// Reachability maps routingState to the PA's reachability (§1.2): active → Reachable,
// reserve → Unreachable, anything else → "" (unknown). It is Unreachable regardless when
// ResourcesAvailable or ContainerHealthy is False while the Deployment wants pods and has none
// ready, so a broken revision does not hold min-scale pods.
func Reachability(rev *servingv1.Revision, deploy *appsv1.Deployment) autoscalingv1alpha1.ReachabilityType {
	if deploy != nil {
		replicas := int32(1)
		if deploy.Spec.Replicas != nil {
			replicas = *deploy.Spec.Replicas
		}
		for _, t := range []duck.ConditionType{servingv1.RevisionConditionResourcesAvailable, servingv1.RevisionConditionContainerHealthy} {
			if rev.Status.GetCondition(t).IsFalse() && replicas > 0 && deploy.Status.ReadyReplicas == 0 {
				return autoscalingv1alpha1.ReachabilityUnreachable
			}
		}
	}
	switch rev.Labels[serving.RoutingStateLabelKey] {
	case serving.RoutingStateActive:
		return autoscalingv1alpha1.ReachabilityReachable
	case serving.RoutingStateReserve:
		return autoscalingv1alpha1.ReachabilityUnreachable
	}
	return autoscalingv1alpha1.ReachabilityUnknown
}
