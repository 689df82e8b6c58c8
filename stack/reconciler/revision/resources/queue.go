package resources

import (
	"encoding/json"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
)

// Env var names of the queue-proxy container (§5 Env).
const (
	EnvContainerConcurrency        = "CONTAINER_CONCURRENCY"
	EnvQueueServingPort            = "QUEUE_SERVING_PORT"
	EnvQueueServingTLSPort         = "QUEUE_SERVING_TLS_PORT"
	EnvUserPort                    = "USER_PORT"
	EnvRevisionTimeout             = "REVISION_TIMEOUT_SECONDS"
	EnvRevisionResponseStart       = "REVISION_RESPONSE_START_TIMEOUT_SECONDS"
	EnvRevisionIdleTimeout         = "REVISION_IDLE_TIMEOUT_SECONDS"
	EnvServingReadinessProbe       = "SERVING_READINESS_PROBE"
	EnvServingNamespace            = "SERVING_NAMESPACE"
	EnvServingService              = "SERVING_SERVICE"
	EnvServingConfiguration        = "SERVING_CONFIGURATION"
	EnvServingRevision             = "SERVING_REVISION"
	EnvServingPod                  = "SERVING_POD"
	EnvServingPodIP                = "SERVING_POD_IP"
	EnvSystemNamespace             = "SYSTEM_NAMESPACE"
	queueCPURequest                = "25m"
	localAddress                   = "127.0.0.1"
	queueReadinessPeriodAggressive = 1
)

// QueueServingPort is 8013 for h2c revisions, else 8012 (§5 Ports).
func QueueServingPort(p autoscalingv1alpha1.ProtocolType) int32 {
	if p == autoscalingv1alpha1.ProtocolH2C {
		return serving.QueueH2CPort
	}
	return serving.QueueHTTPPort
}

// makeQueueContainer builds the queue-proxy sidecar (§5): ports, env, readiness probe and the
// default 25m CPU request.
func makeQueueContainer(rev *servingv1.Revision, cfg *config.Config) corev1.Container {
	userPort := UserPort(rev)
	servingPort := QueueServingPort(Protocol(rev))
	var userProbe *corev1.Probe
	if cs := rev.Spec.Containers; len(cs) > 0 {
		userProbe = cs[ServingContainerIndex(rev)].ReadinessProbe
	}
	probe := UserReadinessProbe(userProbe, userPort)
	probeJSON, _ := json.Marshal(probe) // a Probe always marshals

	return corev1.Container{
		Name:  serving.QueueContainerName,
		Image: cfg.Deployment.QueueSidecarImage,
		Ports: []corev1.ContainerPort{
			{Name: serving.QueuePortName, ContainerPort: servingPort, Protocol: corev1.ProtocolTCP},
			{Name: serving.QueueHTTPSPortName, ContainerPort: serving.QueueHTTPSPort, Protocol: corev1.ProtocolTCP},
			{Name: serving.QueueAdminPortName, ContainerPort: serving.QueueAdminPort, Protocol: corev1.ProtocolTCP},
			{Name: serving.AutoscalingQueueMetricsPortName, ContainerPort: serving.AutoscalingQueueMetricsPort, Protocol: corev1.ProtocolTCP},
			{Name: serving.UserQueueMetricsPortName, ContainerPort: serving.UserQueueMetricsPort, Protocol: corev1.ProtocolTCP},
		},
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse(queueCPURequest),
		}},
		ReadinessProbe: queueReadinessProbe(probe, servingPort),
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			ReadOnlyRootFilesystem:   ptr.To(true),
			RunAsNonRoot:             ptr.To(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
		Env: []corev1.EnvVar{
			{Name: EnvServingNamespace, Value: rev.Namespace},
			{Name: EnvServingService, Value: rev.Labels[serving.ServiceLabelKey]},
			{Name: EnvServingConfiguration, Value: rev.Labels[serving.ConfigurationLabelKey]},
			{Name: EnvServingRevision, Value: rev.Name},
			{Name: EnvQueueServingPort, Value: strconv.Itoa(int(servingPort))},
			{Name: EnvQueueServingTLSPort, Value: strconv.Itoa(int(serving.QueueHTTPSPort))},
			{Name: EnvContainerConcurrency, Value: strconv.FormatInt(ContainerConcurrency(rev, cfg.Defaults), 10)},
			{Name: EnvRevisionTimeout, Value: strconv.FormatInt(TimeoutSeconds(rev, cfg.Defaults), 10)},
			{Name: EnvRevisionResponseStart, Value: strconv.FormatInt(ptr.Deref(rev.Spec.ResponseStartTimeoutSeconds, 0), 10)},
			{Name: EnvRevisionIdleTimeout, Value: strconv.FormatInt(ptr.Deref(rev.Spec.IdleTimeoutSeconds, 0), 10)},
			{Name: EnvServingPod, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: EnvServingPodIP, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			{Name: EnvUserPort, Value: strconv.Itoa(int(userPort))},
			{Name: EnvServingReadinessProbe, Value: string(probeJSON)},
			{Name: EnvSystemNamespace, Value: config.SystemNamespace},
		},
	}
}

// UserReadinessProbe is the probe queue-proxy runs against the user container (§5 Readiness):
// the user's readiness probe aimed at 127.0.0.1:<userPort> (port only when unset), an exec probe
// replaced by TCP on the user port (kubelet still runs the exec probe), and TCP on the user port
// when the user set none.
func UserReadinessProbe(p *corev1.Probe, userPort int32) *corev1.Probe {
	if p == nil {
		return &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Host: localAddress, Port: intstr.FromInt32(userPort)}},
			SuccessThreshold: 1,
		}
	}
	p = p.DeepCopy()
	switch {
	case p.HTTPGet != nil:
		p.HTTPGet.Host = localAddress
		if p.HTTPGet.Port == (intstr.IntOrString{}) {
			p.HTTPGet.Port = intstr.FromInt32(userPort)
		}
		if p.HTTPGet.Scheme == "" {
			p.HTTPGet.Scheme = corev1.URISchemeHTTP
		}
	case p.TCPSocket != nil:
		p.TCPSocket.Host = localAddress
		if p.TCPSocket.Port == (intstr.IntOrString{}) {
			p.TCPSocket.Port = intstr.FromInt32(userPort)
		}
	case p.GRPC != nil:
		if p.GRPC.Port == 0 {
			p.GRPC.Port = userPort
		}
	case p.Exec != nil:
		p.Exec = nil
		p.TCPSocket = &corev1.TCPSocketAction{Host: localAddress, Port: intstr.FromInt32(userPort)}
	default:
		p.TCPSocket = &corev1.TCPSocketAction{Host: localAddress, Port: intstr.FromInt32(userPort)}
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = 1
	}
	if p.PeriodSeconds > 0 && p.TimeoutSeconds < 1 {
		p.TimeoutSeconds = 1
	}
	return p
}

// queueReadinessProbe is kubelet's probe of queue-proxy: GET :<queue port> with
// K-Network-Probe: queue, on the user probe's timings; an aggressive user probe (period 0) is
// polled every second by kubelet while queue-proxy itself polls every 50ms.
func queueReadinessProbe(user *corev1.Probe, port int32) *corev1.Probe {
	p := &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Port:        intstr.FromInt32(port),
			HTTPHeaders: []corev1.HTTPHeader{{Name: serving.ProbeHeaderName, Value: serving.QueueProbeValue}},
		}},
		InitialDelaySeconds: user.InitialDelaySeconds,
		PeriodSeconds:       user.PeriodSeconds,
		TimeoutSeconds:      user.TimeoutSeconds,
		SuccessThreshold:    user.SuccessThreshold,
		FailureThreshold:    user.FailureThreshold,
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = queueReadinessPeriodAggressive
	}
	// Spell out the API server's probe defaults: the Deployment drift check (DeepDerivative)
	// compares integers exactly, so a 0 here would look like drift after every write and make
	// the reconciler rewrite the Deployment on each pass.
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = 1
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = 3
	}
	return p
}
