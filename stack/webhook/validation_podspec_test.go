package webhook

import (
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
)

// svcCase is a Service built by mod, admitted (defaulted, then validated) under cfg; want is
// the whole rendered error ("" for valid).
type svcCase struct {
	name string
	mod  func(*servingv1.Service)
	cfg  *config.Config
	want string
}

func runSvcCases(t *testing.T, cases []svcCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := ksvc(c.mod)
			got := admit(t, s, Options{Config: c.cfg, User: "alice"})
			want := c.want
			if want == "" {
				want = "<nil>"
			}
			if errString(got) != want {
				t.Errorf("Validate(%s) = %q, want %q", c.name, errString(got), want)
			}
		})
	}
}

func TestValidate_KnativeSampleAccepted(t *testing.T) {
	runSvcCases(t, []svcCase{{name: "everything allowed", mod: func(s *servingv1.Service) {
		s.Labels = map[string]string{"networking.knative.dev/visibility": "cluster-local"}
		s.Annotations = map[string]string{"serving.knative.dev/rollout-duration": "120s"}
		s.Spec.Template.Name = "hello-v1"
		s.Spec.Template.Annotations = map[string]string{"autoscaling.knative.dev/min-scale": "1",
			"autoscaling.knative.dev/maxScale": "5", "autoscaling.knative.dev/target": "10"}
		s.Spec.Template.Spec.ContainerConcurrency = ptr.To[int64](50)
		s.Spec.Template.Spec.TimeoutSeconds = ptr.To[int64](600)
		ps := podSpec(s)
		ps.ServiceAccountName = "runner"
		ps.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "pull"}}
		ps.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)}
		ps.Volumes = []corev1.Volume{{Name: "cfg", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}}}
		c := ctr0(s)
		c.Ports = []corev1.ContainerPort{{Name: "h2c", ContainerPort: 9000}}
		c.Env = []corev1.EnvVar{{Name: "TARGET", Value: "World"},
			{Name: "FROM", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Key: "k"}}}}
		c.EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{}}}
		c.VolumeMounts = []corev1.VolumeMount{{Name: "cfg", MountPath: "/etc/cfg"}}
		c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(9000)}}}
		c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("h2c")}}}
		c.SecurityContext = &corev1.SecurityContext{ReadOnlyRootFilesystem: ptr.To(true)}
		s.Spec.Traffic = []servingv1.TrafficTarget{{Percent: ptr.To[int64](80)}, {RevisionName: "hello-v1", Percent: ptr.To[int64](20), Tag: "v1"}}
	}}})
}

func TestValidate_DisallowedPodSpecFieldsRejected(t *testing.T) { // §2.2 PodSpec allowed fields
	nodeSelector := func(s *servingv1.Service) { podSpec(s).NodeSelector = map[string]string{"disk": "ssd"} }
	runSvcCases(t, []svcCase{
		{name: "nodeSelector", mod: nodeSelector, want: "must not set the field(s): spec.template.spec.nodeSelector"},
		{name: "nodeSelector with its feature flag", mod: nodeSelector,
			cfg: cfgWith(t, config.FeaturesConfigName, map[string]string{"kubernetes.podspec-nodeselector": "enabled"})},
		{name: "always disallowed", mod: func(s *servingv1.Service) {
			ps := podSpec(s)
			ps.RestartPolicy, ps.Hostname, ps.NodeName = corev1.RestartPolicyAlways, "h", "n"
			ps.TerminationGracePeriodSeconds = ptr.To[int64](5)
		}, want: "must not set the field(s): spec.template.spec.hostname, spec.template.spec.nodeName, " +
			"spec.template.spec.restartPolicy, spec.template.spec.terminationGracePeriodSeconds"},
		{name: "flagged fields", mod: func(s *servingv1.Service) {
			ps := podSpec(s)
			ps.Tolerations = []corev1.Toleration{{Key: "k"}}
			ps.HostNetwork = true
			ps.Affinity = &corev1.Affinity{}
		}, want: "must not set the field(s): spec.template.spec.affinity, spec.template.spec.hostNetwork, spec.template.spec.tolerations"},
		{name: "pod securityContext beyond the safe subset", mod: func(s *servingv1.Service) {
			podSpec(s).SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](1000), Sysctls: []corev1.Sysctl{{Name: "a"}}}
		}, want: "must not set the field(s): spec.template.spec.securityContext.sysctls"},
		{name: "pod securityContext with its flag", mod: func(s *servingv1.Service) {
			podSpec(s).SecurityContext = &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{{Name: "a"}}}
		}, cfg: cfgWith(t, config.FeaturesConfigName, map[string]string{"kubernetes.podspec-securitycontext": "Enabled"})},
		{name: "initContainers need their flag", mod: func(s *servingv1.Service) {
			podSpec(s).InitContainers = []corev1.Container{{Image: testImage}}
		}, want: "must not set the field(s): spec.template.spec.initContainers"},
		{name: "automountServiceAccountToken true", mod: func(s *servingv1.Service) {
			podSpec(s).AutomountServiceAccountToken = ptr.To(true)
		}, want: "invalid value: true: spec.template.spec.automountServiceAccountToken\nonly false is allowed"},
		{name: "automountServiceAccountToken false", mod: func(s *servingv1.Service) {
			podSpec(s).AutomountServiceAccountToken = ptr.To(false)
		}},
	})
}

func TestValidate_DisallowedContainerFieldsRejected(t *testing.T) { // §2.2 Container allowed fields
	runSvcCases(t, []svcCase{
		{name: "lifecycle, stdin, tty", mod: func(s *servingv1.Service) {
			c := ctr0(s)
			c.Lifecycle = &corev1.Lifecycle{}
			c.Stdin, c.TTY = true, true
		}, want: "must not set the field(s): spec.template.spec.containers[0].lifecycle, " +
			"spec.template.spec.containers[0].stdin, spec.template.spec.containers[0].tty"},
		{name: "privileged", mod: func(s *servingv1.Service) {
			ctr0(s).SecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true)}
		}, want: "must not set the field(s): spec.template.spec.containers[0].securityContext.privileged"},
		{name: "env fieldRef without flag", mod: func(s *servingv1.Service) {
			ctr0(s).Env = []corev1.EnvVar{{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}}}
		}, want: "must not set the field(s): spec.template.spec.containers[0].env[0].valueFrom.fieldRef"},
		{name: "env fieldRef with flag", mod: func(s *servingv1.Service) {
			ctr0(s).Env = []corev1.EnvVar{{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}}}
		}, cfg: cfgWith(t, config.FeaturesConfigName, map[string]string{"kubernetes.podspec-fieldref": "enabled"})},
		{name: "envFrom with neither", mod: func(s *servingv1.Service) {
			ctr0(s).EnvFrom = []corev1.EnvFromSource{{Prefix: "X_"}}
		}, want: "expected exactly one, got neither: spec.template.spec.containers[0].envFrom[0].configMapRef, " +
			"spec.template.spec.containers[0].envFrom[0].secretRef"},
		{name: "env without name", mod: func(s *servingv1.Service) { ctr0(s).Env = []corev1.EnvVar{{Value: "v"}} },
			want: "missing field(s): spec.template.spec.containers[0].env[0].name"},
	})
}

func TestValidate_ReservedNamesRejected(t *testing.T) { // §2.2 Reserved names
	runSvcCases(t, []svcCase{
		{name: "PORT env", mod: func(s *servingv1.Service) { ctr0(s).Env = []corev1.EnvVar{{Name: "PORT", Value: "1"}} },
			want: `"PORT" is a reserved environment variable: spec.template.spec.containers[0].env[0].name`},
		{name: "K_SERVICE env", mod: func(s *servingv1.Service) {
			ctr0(s).Env = []corev1.EnvVar{{Name: "OK", Value: "1"}, {Name: "K_SERVICE", Value: "x"}}
		}, want: `"K_SERVICE" is a reserved environment variable: spec.template.spec.containers[0].env[1].name`},
		{name: "queue-proxy container", mod: func(s *servingv1.Service) { ctr0(s).Name = "queue-proxy" },
			want: `"queue-proxy" is a reserved container name: spec.template.spec.containers[0].name`},
		{name: "mount on /dev", mod: func(s *servingv1.Service) {
			podSpec(s).Volumes = []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
			ctr0(s).VolumeMounts = []corev1.VolumeMount{{Name: "v", MountPath: "/dev/"}}
		}, want: `mountPath "/dev" is a reserved path: spec.template.spec.containers[0].volumeMounts[0].mountPath`},
	})
}

func TestValidate_ReservedPortsRejected(t *testing.T) { // §2.2 Reserved names: ports
	for _, p := range []int32{8012, 8013, 8022, 9090, 9091, 8008} {
		s := ksvc(func(s *servingv1.Service) { ctr0(s).Ports = []corev1.ContainerPort{{ContainerPort: p}} })
		got := errString(admit(t, s, Options{}))
		want := strings.ReplaceAll("%d is a reserved port: spec.template.spec.containers[0].ports[0].containerPort\n"+
			"%d is a reserved port, please use a different value", "%d", itoa(p))
		if got != want {
			t.Errorf("Validate(port %d) = %q, want %q", p, got, want)
		}
	}
	s := ksvc(func(s *servingv1.Service) { ctr0(s).Ports = []corev1.ContainerPort{{ContainerPort: 8080}} })
	if got := admit(t, s, Options{}); got != nil {
		t.Errorf("Validate(port 8080) = %v, want nil", got)
	}
}

func itoa(p int32) string { return strconv.Itoa(int(p)) }

func TestValidate_PortRules(t *testing.T) { // §2.2 Ports
	two := func(s *servingv1.Service) {
		podSpec(s).Containers = []corev1.Container{{Image: testImage, Ports: []corev1.ContainerPort{{ContainerPort: 8080}}},
			{Image: testImage, Ports: []corev1.ContainerPort{{ContainerPort: 9000}}}}
	}
	runSvcCases(t, []svcCase{
		{name: "two ports", mod: func(s *servingv1.Service) {
			ctr0(s).Ports = []corev1.ContainerPort{{ContainerPort: 8080}, {ContainerPort: 8081}}
		}, want: "more than one container port is set: spec.template.spec.containers[0].ports\nOnly a single port is allowed"},
		{name: "bad name", mod: func(s *servingv1.Service) {
			ctr0(s).Ports = []corev1.ContainerPort{{Name: "grpc", ContainerPort: 8080}}
		},
			want: "Port name grpc is not allowed: spec.template.spec.containers[0].ports[0].name\nName must be empty, or one of: 'h2c', 'http1'"},
		{name: "UDP", mod: func(s *servingv1.Service) {
			ctr0(s).Ports = []corev1.ContainerPort{{ContainerPort: 8080, Protocol: corev1.ProtocolUDP}}
		}, want: "invalid value: UDP: spec.template.spec.containers[0].ports[0].protocol"},
		{name: "hostPort", mod: func(s *servingv1.Service) {
			ctr0(s).Ports = []corev1.ContainerPort{{ContainerPort: 8080, HostPort: 80}}
		},
			want: "must not set the field(s): spec.template.spec.containers[0].ports[0].hostPort"},
		{name: "ports in two containers", mod: two,
			want: "more than one container port is set: spec.template.spec.containers[*].ports\nOnly a single port is allowed across all containers"},
		{name: "no port among several containers", mod: func(s *servingv1.Service) {
			podSpec(s).Containers = []corev1.Container{{Image: testImage}, {Image: testImage}}
		}, want: "missing field(s): spec.template.spec.containers.ports"},
		{name: "sidecar and serving container", mod: func(s *servingv1.Service) {
			podSpec(s).Containers = []corev1.Container{{Image: testImage}, {Image: testImage, Ports: []corev1.ContainerPort{{ContainerPort: 9000}}}}
		}},
		{name: "multi-container off", mod: func(s *servingv1.Service) {
			podSpec(s).Containers = []corev1.Container{{Image: testImage}, {Image: testImage, Ports: []corev1.ContainerPort{{ContainerPort: 9000}}}}
		}, cfg: cfgWith(t, config.FeaturesConfigName, map[string]string{"multi-container": "disabled"}),
			want: "multi-container is off, but found 2 containers: spec.template.spec.containers"},
		{name: "sidecar probe", mod: func(s *servingv1.Service) {
			podSpec(s).Containers = []corev1.Container{{Image: testImage, Ports: []corev1.ContainerPort{{ContainerPort: 9000}}},
				{Image: testImage, ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{}}}}}
		}, want: "must not set the field(s): spec.template.spec.containers[1].readinessProbe"},
		{name: "duplicate container names", mod: func(s *servingv1.Service) {
			podSpec(s).Containers = []corev1.Container{{Name: "a", Image: testImage, Ports: []corev1.ContainerPort{{ContainerPort: 9000}}},
				{Name: "a", Image: testImage}}
		}, want: `duplicate container name "a": spec.template.spec.containers[1].name`},
	})
}

func TestValidate_ImageParse(t *testing.T) { // §2.2 Image
	runSvcCases(t, []svcCase{
		{name: "missing", mod: func(s *servingv1.Service) { ctr0(s).Image = "" },
			want: "missing field(s): spec.template.spec.containers[0].image"},
		{name: "uppercase", mod: func(s *servingv1.Service) { ctr0(s).Image = "ghcr.io/Knative/App" },
			want: "Failed to parse image reference: spec.template.spec.containers[0].image\n" +
				`image: "ghcr.io/Knative/App", error: invalid repository component "Knative": want lowercase letters and digits separated by '.', '_', '__' or '-'`},
	})
	s := ksvc(func(s *servingv1.Service) { ctr0(s).Image = "nginx:bad tag" })
	if got := errString(admit(t, s, Options{})); !strings.HasPrefix(got, "Failed to parse image reference: spec.template.spec.containers[0].image") {
		t.Errorf("Validate(image nginx:bad tag) = %q, want the parse failure", got)
	}
}

func TestValidate_ProbeRules(t *testing.T) { // §2.2 Probes
	probe := func(p *corev1.Probe) func(*servingv1.Service) {
		return func(s *servingv1.Service) { ctr0(s).ReadinessProbe = p }
	}
	http := corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/"}}
	runSvcCases(t, []svcCase{
		{name: "two handlers", mod: probe(&corev1.Probe{ProbeHandler: corev1.ProbeHandler{
			HTTPGet: &corev1.HTTPGetAction{}, TCPSocket: &corev1.TCPSocketAction{}}}),
			want: "expected exactly one, got both: spec.template.spec.containers[0].readinessProbe.httpGet, spec.template.spec.containers[0].readinessProbe.tcpSocket"},
		{name: "liveness without handler", mod: func(s *servingv1.Service) { ctr0(s).LivenessProbe = &corev1.Probe{PeriodSeconds: 3} },
			want: "expected exactly one, got neither: spec.template.spec.containers[0].livenessProbe.exec, " +
				"spec.template.spec.containers[0].livenessProbe.grpc, spec.template.spec.containers[0].livenessProbe.httpGet, " +
				"spec.template.spec.containers[0].livenessProbe.tcpSocket"},
		{name: "aggressive probe with failureThreshold", mod: probe(&corev1.Probe{ProbeHandler: http, FailureThreshold: 2}),
			want: "failureThreshold is disallowed when periodSeconds is zero: spec.template.spec.containers[0].readinessProbe.failureThreshold"},
		{name: "aggressive probe with timeoutSeconds", mod: probe(&corev1.Probe{ProbeHandler: http, TimeoutSeconds: 2}),
			want: "timeoutSeconds is disallowed when periodSeconds is zero: spec.template.spec.containers[0].readinessProbe.timeoutSeconds"},
		{name: "negative period", mod: probe(&corev1.Probe{ProbeHandler: http, PeriodSeconds: -1}),
			want: "expected 0 <= -1 <= 2147483647: spec.template.spec.containers[0].readinessProbe.periodSeconds"},
		{name: "timeout below 1 with period", mod: probe(&corev1.Probe{ProbeHandler: http, PeriodSeconds: 5, TimeoutSeconds: -3}),
			want: "expected 1 <= -3 <= 2147483647: spec.template.spec.containers[0].readinessProbe.timeoutSeconds"},
		{name: "wrong port number", mod: probe(&corev1.Probe{ProbeHandler: corev1.ProbeHandler{
			HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(9999)}}}),
			want: "invalid value: 9999: spec.template.spec.containers[0].readinessProbe.httpGet.port\nProbe port must match container port"},
		{name: "wrong port name", mod: probe(&corev1.Probe{ProbeHandler: corev1.ProbeHandler{
			TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("admin")}}}),
			want: "invalid value: admin: spec.template.spec.containers[0].readinessProbe.tcpSocket.port\nProbe port must match container port"},
		{name: "default port 8080 by number", mod: probe(&corev1.Probe{ProbeHandler: corev1.ProbeHandler{
			HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(8080)}}})},
		{name: "probe terminationGracePeriodSeconds", mod: probe(&corev1.Probe{ProbeHandler: http, TerminationGracePeriodSeconds: ptr.To[int64](3)}),
			want: "must not set the field(s): spec.template.spec.containers[0].readinessProbe.terminationGracePeriodSeconds"},
	})
}

func TestValidate_TimeoutSecondsBounds(t *testing.T) { // §2.2 timeoutSeconds
	timeout := func(v int64) func(*servingv1.Service) {
		return func(s *servingv1.Service) { s.Spec.Template.Spec.TimeoutSeconds = ptr.To(v) }
	}
	runSvcCases(t, []svcCase{
		{name: "700", mod: timeout(700), want: "expected 0 <= 700 <= 600: spec.template.spec.timeoutSeconds"},
		{name: "-1", mod: timeout(-1), want: "expected 0 <= -1 <= 600: spec.template.spec.timeoutSeconds"},
		{name: "600", mod: timeout(600)},
		{name: "700 with a raised max", mod: timeout(700),
			cfg: cfgWith(t, config.DefaultsConfigName, map[string]string{"max-revision-timeout-seconds": "900"})},
		{name: "responseStart above timeout", mod: func(s *servingv1.Service) {
			s.Spec.Template.Spec.TimeoutSeconds = ptr.To[int64](100)
			s.Spec.Template.Spec.ResponseStartTimeoutSeconds = ptr.To[int64](200)
		}, want: "expected 0 <= 200 <= 100: spec.template.spec.responseStartTimeoutSeconds"},
	})
}

func TestValidate_ContainerConcurrencyBounds(t *testing.T) { // §2.2 containerConcurrency
	cc := func(v int64) func(*servingv1.Service) {
		return func(s *servingv1.Service) { s.Spec.Template.Spec.ContainerConcurrency = ptr.To(v) }
	}
	runSvcCases(t, []svcCase{
		{name: "1001", mod: cc(1001), want: "expected 0 <= 1001 <= 1000: spec.template.spec.containerConcurrency"},
		{name: "-1", mod: cc(-1), want: "expected 0 <= -1 <= 1000: spec.template.spec.containerConcurrency"},
		{name: "0 when zero is not allowed", mod: cc(0),
			cfg:  cfgWith(t, config.DefaultsConfigName, map[string]string{"allow-container-concurrency-zero": "false", "container-concurrency": "1"}),
			want: "expected 1 <= 0 <= 1000: spec.template.spec.containerConcurrency"},
		{name: "1000", mod: cc(1000)},
	})
}

func TestValidate_VolumeRules(t *testing.T) { // §2.2 volumes and mounts
	vol := func(v corev1.Volume, mounts ...corev1.VolumeMount) func(*servingv1.Service) {
		return func(s *servingv1.Service) {
			podSpec(s).Volumes = []corev1.Volume{v}
			ctr0(s).VolumeMounts = mounts
		}
	}
	secret := corev1.Volume{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "x"}}}
	runSvcCases(t, []svcCase{
		{name: "not mounted", mod: vol(secret), want: `volume with name "s" not mounted: spec.template.spec.volumes[0].name`},
		{name: "mount without volume", mod: vol(secret, corev1.VolumeMount{Name: "s", MountPath: "/s"}, corev1.VolumeMount{Name: "t", MountPath: "/t"}),
			want: "volumeMount has no matching volume: spec.template.spec.containers[0].volumeMounts[1].name"},
		{name: "relative mountPath", mod: vol(secret, corev1.VolumeMount{Name: "s", MountPath: "s"}),
			want: "invalid value: s: spec.template.spec.containers[0].volumeMounts[0].mountPath"},
		{name: "hostPath", mod: vol(corev1.Volume{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}},
			corev1.VolumeMount{Name: "h", MountPath: "/h"}),
			want: "must not set the field(s): spec.template.spec.volumes[0].hostPath"},
		{name: "emptyDir off", mod: vol(corev1.Volume{Name: "e", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			corev1.VolumeMount{Name: "e", MountPath: "/e"}),
			cfg:  cfgWith(t, config.FeaturesConfigName, map[string]string{"kubernetes.podspec-volumes-emptydir": "disabled"}),
			want: "must not set the field(s): spec.template.spec.volumes[0].emptyDir"},
		{name: "no source", mod: vol(corev1.Volume{Name: "n"}, corev1.VolumeMount{Name: "n", MountPath: "/n"}),
			want: "expected exactly one, got neither: spec.template.spec.volumes[0].configMap, spec.template.spec.volumes[0].emptyDir, " +
				"spec.template.spec.volumes[0].projected, spec.template.spec.volumes[0].secret"},
		{name: "mountPropagation", mod: vol(secret, corev1.VolumeMount{Name: "s", MountPath: "/s", MountPropagation: ptr.To(corev1.MountPropagationNone)}),
			want: "must not set the field(s): spec.template.spec.containers[0].volumeMounts[0].mountPropagation"},
	})
}

func TestValidate_EmptyContainersRejected(t *testing.T) {
	runSvcCases(t, []svcCase{{name: "no containers", mod: func(s *servingv1.Service) { podSpec(s).Containers = nil },
		want: "missing field(s): spec.template.spec.containers"}})
}
