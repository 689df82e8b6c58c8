package serverlessservice

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/servingsim/servingsim/stack/apis/duck"
	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
)

// Reasons and messages of the SKS conditions (§3.6).
const (
	ReasonNoHealthyBackends            = "NoHealthyBackends"
	ReasonCreatingPublicService        = "CreatingPublicService"
	ReasonCreatingPublicEndpoints      = "CreatingPublicEndpoints"
	ReasonNotOwned                     = "NotOwned"
	ReasonActivatorEndpointsPopulated  = "ActivatorEndpointsPopulated"
	MessageServiceNotReady             = "K8s Service is not ready"
	MessageActivatorEndpointsPopulated = "Revision is backed by Activator"
	MessageActivatorEndpointsRemoved   = "Revision is backed by its pods"
)

// ProxyFor is how long the SKS has had the activator in its public endpoints: the time since
// ActivatorEndpointsPopulated turned True, or 0 when it is not True (§3.5.4, §3.6).
func ProxyFor(sks *netv1alpha1.ServerlessService, now time.Time) time.Duration {
	c := sks.Status.GetCondition(netv1alpha1.ServerlessServiceConditionActivatorEndpointsPopulated)
	if !c.IsTrue() || c.LastTransitionTime.IsZero() {
		return 0
	}
	return now.Sub(c.LastTransitionTime.Time)
}

// IsReady reports whether the SKS's Ready condition is True.
func IsReady(sks *netv1alpha1.ServerlessService) bool {
	return sks.Status.GetCondition(duck.ConditionReady).IsTrue()
}

func markActivatorEndpoints(m duck.ConditionManager, populated bool) {
	if populated {
		m.SetInfo(netv1alpha1.ServerlessServiceConditionActivatorEndpointsPopulated, corev1.ConditionTrue,
			ReasonActivatorEndpointsPopulated, MessageActivatorEndpointsPopulated)
		return
	}
	m.SetInfo(netv1alpha1.ServerlessServiceConditionActivatorEndpointsPopulated, corev1.ConditionFalse,
		ReasonActivatorEndpointsPopulated, MessageActivatorEndpointsRemoved)
}
