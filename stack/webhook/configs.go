package webhook

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
)

// Names of the webhook configurations, as Knative names them.
const (
	DefaultingWebhookName = "webhook.serving.knative.dev"
	ValidationWebhookName = "validation.webhook.serving.knative.dev"
)

// servingResources are the serving.knative.dev/v1 resources both webhooks cover. Only main
// resources are listed, so status-subresource writes never reach the webhook.
var servingResources = []string{"services", "configurations", "revisions", "routes"}

func rule(group, version string, resources ...string) admissionregistrationv1.RuleWithOperations {
	return admissionregistrationv1.RuleWithOperations{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
		Rule: admissionregistrationv1.Rule{
			APIGroups: []string{group}, APIVersions: []string{version}, Resources: resources,
			Scope: ptr.To(admissionregistrationv1.NamespacedScope),
		},
	}
}

func clientConfig(path string) admissionregistrationv1.WebhookClientConfig {
	return admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{
		Name: serving.WebhookServiceName, Namespace: serving.SystemNamespace, Path: ptr.To(path),
	}}
}

// MutatingWebhookConfiguration routes CREATE and UPDATE of Services, Configurations, Revisions,
// Routes and PodAutoscalers to DefaultingPath of Service knative-serving/webhook.
func MutatingWebhookConfiguration() *admissionregistrationv1.MutatingWebhookConfiguration {
	return &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: DefaultingWebhookName},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name:         DefaultingWebhookName,
			ClientConfig: clientConfig(DefaultingPath),
			Rules: []admissionregistrationv1.RuleWithOperations{
				rule(servingv1.SchemeGroupVersion.Group, servingv1.SchemeGroupVersion.Version, servingResources...),
				rule(autoscalingv1alpha1.SchemeGroupVersion.Group, autoscalingv1alpha1.SchemeGroupVersion.Version, "podautoscalers"),
			},
			FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          ptr.To[int32](10),
			ReinvocationPolicy:      ptr.To(admissionregistrationv1.NeverReinvocationPolicy),
		}},
	}
}

// ValidatingWebhookConfiguration routes CREATE and UPDATE of Services, Configurations, Revisions
// and Routes to ValidationPath of Service knative-serving/webhook.
func ValidatingWebhookConfiguration() *admissionregistrationv1.ValidatingWebhookConfiguration {
	return &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: ValidationWebhookName},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    ValidationWebhookName,
			ClientConfig:            clientConfig(ValidationPath),
			Rules:                   []admissionregistrationv1.RuleWithOperations{rule(servingv1.SchemeGroupVersion.Group, servingv1.SchemeGroupVersion.Version, servingResources...)},
			FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          ptr.To[int32](10),
		}},
	}
}
