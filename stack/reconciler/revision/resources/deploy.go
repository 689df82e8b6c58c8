package resources

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/kmeta"
)

// Env var names set on user containers (§1.5).
const (
	EnvPort          = "PORT"
	EnvRevision      = "K_REVISION"
	EnvConfiguration = "K_CONFIGURATION"
	EnvService       = "K_SERVICE"
)

// RevisionGVK is the owner kind of the Revision's children.
var RevisionGVK = servingv1.SchemeGroupVersion.WithKind("Revision")

// ServingContainerIndex is the container that receives traffic: the one declaring a port, or the
// only container (§2.2 allows exactly one port across containers).
func ServingContainerIndex(rev *servingv1.Revision) int {
	for i, c := range rev.Spec.Containers {
		if len(c.Ports) > 0 {
			return i
		}
	}
	return 0
}

// UserPort is the serving container's port, default 8080.
func UserPort(rev *servingv1.Revision) int32 {
	if cs := rev.Spec.Containers; len(cs) > 0 {
		if ps := cs[ServingContainerIndex(rev)].Ports; len(ps) > 0 && ps[0].ContainerPort != 0 {
			return ps[0].ContainerPort
		}
	}
	return serving.DefaultUserPort
}

// Protocol is h2c when the user port is named h2c, else http1 (§1.5).
func Protocol(rev *servingv1.Revision) autoscalingv1alpha1.ProtocolType {
	if cs := rev.Spec.Containers; len(cs) > 0 {
		if ps := cs[ServingContainerIndex(rev)].Ports; len(ps) > 0 && ps[0].Name == serving.H2CPortName {
			return autoscalingv1alpha1.ProtocolH2C
		}
	}
	return autoscalingv1alpha1.ProtocolHTTP1
}

// TimeoutSeconds is spec.timeoutSeconds, or config-defaults revision-timeout-seconds when the
// webhook did not default it.
func TimeoutSeconds(rev *servingv1.Revision, d *config.Defaults) int64 {
	if t := rev.Spec.TimeoutSeconds; t != nil && *t > 0 {
		return *t
	}
	return d.RevisionTimeoutSeconds
}

// ContainerConcurrency is spec.containerConcurrency or config-defaults container-concurrency.
func ContainerConcurrency(rev *servingv1.Revision, d *config.Defaults) int64 {
	if cc := rev.Spec.ContainerConcurrency; cc != nil {
		return *cc
	}
	return d.ContainerConcurrency
}

// MakeDeployment builds the Revision's Deployment (§1.5). replicas is initial-scale (annotation
// or config); the PA reconciler owns replicas afterwards.
func MakeDeployment(rev *servingv1.Revision, cfg *config.Config) *appsv1.Deployment {
	labels := MakeLabels(rev)
	annos := deploymentAnnotations(rev)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name:            kmeta.DeploymentName(rev.Name),
			Namespace:       rev.Namespace,
			Labels:          labels,
			Annotations:     annos,
			OwnerReferences: []metav1.OwnerReference{kmeta.NewControllerRef(rev, RevisionGVK)},
		},
		Spec: appsv1.DeploymentSpec{
			Replicas:                ptr.To(autoscaler.InitialScale(rev.Annotations, cfg.Autoscaler)),
			Selector:                &metav1.LabelSelector{MatchLabels: MakeSelector(rev)},
			ProgressDeadlineSeconds: ptr.To(int32(autoscaler.ProgressDeadline(rev.Annotations, cfg.Deployment).Seconds())),
			RevisionHistoryLimit:    ptr.To(int32(0)),
			Strategy: appsv1.DeploymentStrategy{
				Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{
					MaxUnavailable: ptr.To(intstr.FromInt32(0)),
					MaxSurge:       ptr.To(intstr.FromString("25%")),
				},
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annos},
				Spec:       makePodSpec(rev, cfg),
			},
		},
	}
}

func makePodSpec(rev *servingv1.Revision, cfg *config.Config) corev1.PodSpec {
	spec := *rev.Spec.PodSpec.DeepCopy()
	servingIdx := ServingContainerIndex(rev)
	containers := make([]corev1.Container, 0, len(spec.Containers)+1)
	for i := range spec.Containers {
		c := spec.Containers[i]
		if i == servingIdx {
			c = makeServingContainer(c, rev)
		} else {
			c = makeContainer(c, rev)
		}
		if i < len(rev.Status.ContainerStatuses) && rev.Status.ContainerStatuses[i].ImageDigest != "" {
			c.Image = rev.Status.ContainerStatuses[i].ImageDigest
		}
		containers = append(containers, c)
	}
	spec.Containers = append(containers, makeQueueContainer(rev, cfg))
	spec.TerminationGracePeriodSeconds = ptr.To(TimeoutSeconds(rev, cfg.Defaults))
	if spec.EnableServiceLinks == nil && cfg.Defaults.EnableServiceLinks != nil {
		spec.EnableServiceLinks = ptr.To(*cfg.Defaults.EnableServiceLinks)
	}
	return spec
}

// makeContainer applies what every user container gets: the drain preStop hook, the K_* env,
// and no kubelet readiness probe for HTTP/TCP/gRPC (queue-proxy runs it, §5 Readiness).
func makeContainer(c corev1.Container, rev *servingv1.Revision) corev1.Container {
	c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{
		Path: serving.QueueDrainPath,
		Port: intstr.FromInt32(serving.QueueAdminPort),
	}}}
	c.Env = append(c.Env,
		corev1.EnvVar{Name: EnvRevision, Value: rev.Name},
		corev1.EnvVar{Name: EnvConfiguration, Value: rev.Labels[serving.ConfigurationLabelKey]},
		corev1.EnvVar{Name: EnvService, Value: rev.Labels[serving.ServiceLabelKey]},
	)
	c.Stdin, c.TTY = false, false
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = corev1.TerminationMessageFallbackToLogsOnError
	}
	if p := c.ReadinessProbe; p != nil && (p.HTTPGet != nil || p.TCPSocket != nil || p.GRPC != nil) {
		c.ReadinessProbe = nil
	}
	return c
}

// makeServingContainer additionally pins the single user port and sets PORT; liveness and
// startup probes without a port target the user port.
func makeServingContainer(c corev1.Container, rev *servingv1.Revision) corev1.Container {
	port := UserPort(rev)
	c.Ports = []corev1.ContainerPort{{Name: serving.UserPortName, ContainerPort: port, Protocol: corev1.ProtocolTCP}}
	c.Env = append(c.Env, corev1.EnvVar{Name: EnvPort, Value: strconv.Itoa(int(port))})
	c = makeContainer(c, rev)
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.StartupProbe} {
		defaultProbePort(p, port)
	}
	return c
}

func defaultProbePort(p *corev1.Probe, port int32) {
	switch {
	case p == nil:
	case p.HTTPGet != nil && p.HTTPGet.Port == (intstr.IntOrString{}):
		p.HTTPGet.Port = intstr.FromInt32(port)
	case p.TCPSocket != nil && p.TCPSocket.Port == (intstr.IntOrString{}):
		p.TCPSocket.Port = intstr.FromInt32(port)
	case p.GRPC != nil && p.GRPC.Port == 0:
		p.GRPC.Port = port
	}
}
