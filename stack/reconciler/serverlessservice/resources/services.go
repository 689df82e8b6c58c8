//nolint:staticcheck // Knative reads and writes core/v1 Endpoints (§3.6); the pod runtime keeps them.
package resources

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/kmeta"
)

// ServerlessServiceGVK is the owner kind of the SKS's children.
var ServerlessServiceGVK = netv1alpha1.SchemeGroupVersion.WithKind("ServerlessService")

func isH2C(sks *netv1alpha1.ServerlessService) bool {
	return sks.Spec.ProtocolType == string(autoscalingv1alpha1.ProtocolH2C)
}

// ServicePort is the public port of the revision: 81 for h2c, else 80.
func ServicePort(sks *netv1alpha1.ServerlessService) int32 {
	if isH2C(sks) {
		return serving.ServiceH2CPort
	}
	return serving.ServiceHTTPPort
}

// ServicePortName is the name of the public port: http2 for h2c, else http.
func ServicePortName(sks *netv1alpha1.ServerlessService) string {
	if isH2C(sks) {
		return serving.ServicePortNameH2C
	}
	return serving.ServicePortNameHTTP1
}

// TargetPort is the queue-proxy (or activator) port traffic goes to: 8013 for h2c, else 8012.
func TargetPort(sks *netv1alpha1.ServerlessService) int32 {
	if isH2C(sks) {
		return serving.QueueH2CPort
	}
	return serving.QueueHTTPPort
}

func serviceMeta(sks *netv1alpha1.ServerlessService, name, typ string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:      name,
		Namespace: sks.Namespace,
		Labels: kmeta.UnionMaps(sks.Labels, map[string]string{
			serving.ServiceTypeKey: typ,
			serving.SKSLabelKey:    sks.Name,
		}),
		Annotations: kmeta.FilterMap(sks.Annotations, func(k string) bool {
			return k == serving.LastAppliedConfigurationAnnotation
		}),
		OwnerReferences: []metav1.OwnerReference{kmeta.NewControllerRef(sks, ServerlessServiceGVK)},
	}
}

func tcpPort(name string, port, target int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Protocol: corev1.ProtocolTCP, Port: port, TargetPort: intstr.FromInt32(target)}
}

// MakePrivateService builds <rev>-private, selecting the revision's pods (§3.6): 80→8012 (or
// 81→8013 for h2c), 443→8112, the two metrics ports, the queue admin port and the
// "<name>-istio" port that exposes the queue port under its own number.
func MakePrivateService(sks *netv1alpha1.ServerlessService, selector map[string]string) *corev1.Service {
	target := TargetPort(sks)
	return &corev1.Service{
		ObjectMeta: serviceMeta(sks, kmeta.PrivateServiceName(sks.Name), serving.ServiceTypePrivate),
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP,
			Ports: []corev1.ServicePort{
				tcpPort(ServicePortName(sks), ServicePort(sks), target),
				tcpPort(serving.ServicePortNameHTTPS, serving.ServiceHTTPSPort, serving.QueueHTTPSPort),
				tcpPort(serving.AutoscalingQueueMetricsPortName, serving.AutoscalingQueueMetricsPort, serving.AutoscalingQueueMetricsPort),
				tcpPort(serving.UserQueueMetricsPortName, serving.UserQueueMetricsPort, serving.UserQueueMetricsPort),
				tcpPort(serving.QueueAdminPortName, serving.QueueAdminPort, serving.QueueAdminPort),
				tcpPort(ServicePortName(sks)+"-istio", target, target),
			},
			Selector: kmeta.UnionMaps(selector),
		},
	}
}

// MakePublicService builds <rev>, the selector-less Service whose Endpoints the SKS writes:
// 80 (or 81) and 443 (§3.6).
func MakePublicService(sks *netv1alpha1.ServerlessService) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: serviceMeta(sks, kmeta.PublicServiceName(sks.Name), serving.ServiceTypePublic),
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP,
			Ports: []corev1.ServicePort{
				tcpPort(ServicePortName(sks), ServicePort(sks), TargetPort(sks)),
				tcpPort(serving.ServicePortNameHTTPS, serving.ServiceHTTPSPort, serving.QueueHTTPSPort),
			},
		},
	}
}

// MakePublicEndpoints builds the public Endpoints <rev> holding subsets.
func MakePublicEndpoints(sks *netv1alpha1.ServerlessService, subsets []corev1.EndpointSubset) *corev1.Endpoints {
	return &corev1.Endpoints{
		ObjectMeta: serviceMeta(sks, kmeta.PublicServiceName(sks.Name), serving.ServiceTypePublic),
		Subsets:    subsets,
	}
}
