package resources

import (
	"encoding/json"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/duck"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
)

type revOpt func(*servingv1.Revision)

func testRevision(opts ...revOpt) *servingv1.Revision {
	rev := &servingv1.Revision{
		ObjectMeta: metav1.ObjectMeta{
			Name: "hello-00001", Namespace: "ns", UID: "rev-uid",
			Labels: map[string]string{
				serving.ConfigurationLabelKey: "hello",
				serving.ServiceLabelKey:       "hello",
				serving.RoutingStateLabelKey:  serving.RoutingStateActive,
				serving.RouteLabelKey:         "hello",
				"team":                        "a",
			},
			Annotations: map[string]string{
				serving.MinScaleAnnotationKey:             "1",
				serving.RoutesAnnotationKey:               "hello",
				serving.RoutingStateModifiedAnnotationKey: "2026-01-01T00:00:00Z",
				serving.CreatorAnnotation:                 "alice",
			},
		},
		Spec: servingv1.RevisionSpec{
			PodSpec: corev1.PodSpec{Containers: []corev1.Container{{
				Name:  serving.UserContainerDefaultName,
				Image: "kind.local/hello:latest",
				ReadinessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready"}},
					PeriodSeconds: 5, FailureThreshold: 3, TimeoutSeconds: 2,
				},
			}}},
			ContainerConcurrency: ptr.To[int64](10),
			TimeoutSeconds:       ptr.To[int64](120),
		},
	}
	for _, o := range opts {
		o(rev)
	}
	return rev
}

func env(c corev1.Container) map[string]corev1.EnvVar {
	m := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		m[e.Name] = e
	}
	return m
}

func TestMakeDeployment_MetaAndSpec_Section1_5(t *testing.T) {
	d := MakeDeployment(testRevision(), config.Default())
	if d.Name != "hello-00001-deployment" || d.Namespace != "ns" {
		t.Errorf("MakeDeployment name = %s/%s, want ns/hello-00001-deployment", d.Namespace, d.Name)
	}
	wantLabels := map[string]string{
		serving.ConfigurationLabelKey: "hello", serving.ServiceLabelKey: "hello", "team": "a",
		serving.RevisionLabelKey: "hello-00001", serving.RevisionUIDLabelKey: "rev-uid", serving.AppLabelKey: "hello-00001",
	}
	for _, labels := range []map[string]string{d.Labels, d.Spec.Template.Labels} {
		if len(labels) != len(wantLabels) {
			t.Errorf("MakeDeployment labels = %v, want %v", labels, wantLabels)
		}
		for k, v := range wantLabels {
			if labels[k] != v {
				t.Errorf("MakeDeployment label %s = %q, want %q", k, labels[k], v)
			}
		}
	}
	if sel := d.Spec.Selector.MatchLabels; len(sel) != 1 || sel[serving.RevisionUIDLabelKey] != "rev-uid" {
		t.Errorf("MakeDeployment selector = %v, want revisionUID only", sel)
	}
	for _, annos := range []map[string]string{d.Annotations, d.Spec.Template.Annotations} {
		if len(annos) != 1 || annos[serving.CreatorAnnotation] != "alice" {
			t.Errorf("MakeDeployment annotations = %v, want only the creator (autoscaling and routing keys filtered)", annos)
		}
	}
	if got := *d.Spec.Replicas; got != 1 {
		t.Errorf("replicas = %d, want initial-scale 1", got)
	}
	if got := *d.Spec.ProgressDeadlineSeconds; got != 600 {
		t.Errorf("progressDeadlineSeconds = %d, want 600", got)
	}
	if got := *d.Spec.RevisionHistoryLimit; got != 0 {
		t.Errorf("revisionHistoryLimit = %d, want 0", got)
	}
	if ru := d.Spec.Strategy.RollingUpdate; d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil || *ru.MaxUnavailable != intstr.FromInt32(0) {
		t.Errorf("strategy = %+v, want RollingUpdate maxUnavailable 0", d.Spec.Strategy)
	}
	if got := *d.Spec.Template.Spec.TerminationGracePeriodSeconds; got != 120 {
		t.Errorf("terminationGracePeriodSeconds = %d, want timeoutSeconds 120", got)
	}
	if ref := metav1.GetControllerOf(d); ref == nil || ref.Kind != "Revision" || ref.UID != "rev-uid" {
		t.Errorf("controller = %+v, want the Revision", ref)
	}
	if got := d.Spec.Template.Spec.EnableServiceLinks; got == nil || *got {
		t.Errorf("enableServiceLinks = %v, want false from config-defaults", got)
	}
}

func TestMakeDeployment_ReplicasAndDeadlineFromAnnotations_Section1_5(t *testing.T) {
	rev := testRevision(func(r *servingv1.Revision) {
		r.Annotations[serving.InitialScaleAnnotationKey] = "3"
		r.Annotations[serving.ProgressDeadlineAnnotationKey] = "45s"
	})
	d := MakeDeployment(rev, config.Default())
	if *d.Spec.Replicas != 3 || *d.Spec.ProgressDeadlineSeconds != 45 {
		t.Errorf("replicas/progressDeadline = %d/%d, want 3/45", *d.Spec.Replicas, *d.Spec.ProgressDeadlineSeconds)
	}
	cfg := config.Default()
	cfg.Autoscaler.InitialScale = 2
	if d := MakeDeployment(testRevision(), cfg); *d.Spec.Replicas != 2 {
		t.Errorf("replicas with config initial-scale 2 = %d, want 2", *d.Spec.Replicas)
	}
}

func TestMakeDeployment_UserContainer_Section1_5(t *testing.T) {
	d := MakeDeployment(testRevision(), config.Default())
	cs := d.Spec.Template.Spec.Containers
	if len(cs) != 2 || cs[0].Name != "user-container" || cs[1].Name != "queue-proxy" {
		t.Fatalf("containers = %v, want user-container then queue-proxy", names(cs))
	}
	u := cs[0]
	if u.ReadinessProbe != nil {
		t.Errorf("user readiness probe = %+v, want removed (queue-proxy runs it)", u.ReadinessProbe)
	}
	ps := u.Lifecycle.PreStop.HTTPGet
	if ps == nil || ps.Path != "/wait-for-drain" || ps.Port != intstr.FromInt32(8022) {
		t.Errorf("preStop = %+v, want GET :8022/wait-for-drain", u.Lifecycle.PreStop)
	}
	e := env(u)
	for k, v := range map[string]string{"PORT": "8080", "K_REVISION": "hello-00001", "K_CONFIGURATION": "hello", "K_SERVICE": "hello"} {
		if e[k].Value != v {
			t.Errorf("user env %s = %q, want %q", k, e[k].Value, v)
		}
	}
	if len(u.Ports) != 1 || u.Ports[0].ContainerPort != 8080 || u.Ports[0].Name != "user-port" {
		t.Errorf("user ports = %+v, want user-port 8080", u.Ports)
	}
	if u.Image != "kind.local/hello:latest" {
		t.Errorf("user image = %q, want the tag (kind.local skips resolution)", u.Image)
	}
}

func names(cs []corev1.Container) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func TestMakeDeployment_QueueProxy_Section5(t *testing.T) {
	d := MakeDeployment(testRevision(), config.Default())
	q := d.Spec.Template.Spec.Containers[1]
	e := env(q)
	want := map[string]string{
		"CONTAINER_CONCURRENCY": "10", "QUEUE_SERVING_PORT": "8012", "USER_PORT": "8080",
		"REVISION_TIMEOUT_SECONDS": "120", "REVISION_RESPONSE_START_TIMEOUT_SECONDS": "0", "REVISION_IDLE_TIMEOUT_SECONDS": "0",
		"SERVING_NAMESPACE": "ns", "SERVING_SERVICE": "hello", "SERVING_CONFIGURATION": "hello", "SERVING_REVISION": "hello-00001",
	}
	for k, v := range want {
		if e[k].Value != v {
			t.Errorf("queue env %s = %q, want %q", k, e[k].Value, v)
		}
	}
	if f := e["SERVING_POD"].ValueFrom; f == nil || f.FieldRef.FieldPath != "metadata.name" {
		t.Errorf("SERVING_POD = %+v, want fieldRef metadata.name", e["SERVING_POD"])
	}
	if f := e["SERVING_POD_IP"].ValueFrom; f == nil || f.FieldRef.FieldPath != "status.podIP" {
		t.Errorf("SERVING_POD_IP = %+v, want fieldRef status.podIP", e["SERVING_POD_IP"])
	}
	var probe corev1.Probe
	if err := json.Unmarshal([]byte(e["SERVING_READINESS_PROBE"].Value), &probe); err != nil {
		t.Fatalf("SERVING_READINESS_PROBE = %q: %v", e["SERVING_READINESS_PROBE"].Value, err)
	}
	if g := probe.HTTPGet; g == nil || g.Path != "/ready" || g.Host != "127.0.0.1" || g.Port != intstr.FromInt32(8080) || probe.PeriodSeconds != 5 {
		t.Errorf("SERVING_READINESS_PROBE = %+v, want the user's HTTP probe aimed at 127.0.0.1:8080", probe)
	}
	ports := map[string]int32{}
	for _, p := range q.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for n, p := range map[string]int32{"queue-port": 8012, "queue-admin": 8022, "http-autometric": 9090, "http-usermetric": 9091, "https-port": 8112} {
		if ports[n] != p {
			t.Errorf("queue port %s = %d, want %d (ports %v)", n, ports[n], p, ports)
		}
	}
	rp := q.ReadinessProbe
	if rp == nil || rp.HTTPGet == nil || rp.HTTPGet.Port != intstr.FromInt32(8012) ||
		len(rp.HTTPGet.HTTPHeaders) != 1 || rp.HTTPGet.HTTPHeaders[0] != (corev1.HTTPHeader{Name: "K-Network-Probe", Value: "queue"}) ||
		rp.PeriodSeconds != 5 || rp.FailureThreshold != 3 {
		t.Errorf("queue readiness = %+v, want GET :8012 K-Network-Probe: queue on the user's timings", rp)
	}
	if cpu := q.Resources.Requests[corev1.ResourceCPU]; cpu.Cmp(resource.MustParse("25m")) != 0 || q.Resources.Limits != nil {
		t.Errorf("queue resources = %+v, want only a 25m CPU request", q.Resources)
	}
	if q.Image != config.DefaultDeployment().QueueSidecarImage {
		t.Errorf("queue image = %q, want queue-sidecar-image", q.Image)
	}
}

func TestMakeDeployment_H2CAndCustomPort_Section5(t *testing.T) {
	rev := testRevision(func(r *servingv1.Revision) {
		r.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "h2c", ContainerPort: 9000}}
		r.Spec.Containers[0].ReadinessProbe = nil
		r.Spec.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{}}}
	})
	d := MakeDeployment(rev, config.Default())
	u, q := d.Spec.Template.Spec.Containers[0], d.Spec.Template.Spec.Containers[1]
	if env(u)["PORT"].Value != "9000" || env(q)["USER_PORT"].Value != "9000" || env(q)["QUEUE_SERVING_PORT"].Value != "8013" {
		t.Errorf("PORT/USER_PORT/QUEUE_SERVING_PORT = %s/%s/%s, want 9000/9000/8013", env(u)["PORT"].Value, env(q)["USER_PORT"].Value, env(q)["QUEUE_SERVING_PORT"].Value)
	}
	if q.Ports[0].ContainerPort != 8013 || q.ReadinessProbe.HTTPGet.Port != intstr.FromInt32(8013) {
		t.Errorf("queue serving port = %d / probe %v, want 8013", q.Ports[0].ContainerPort, q.ReadinessProbe.HTTPGet.Port)
	}
	if u.LivenessProbe.TCPSocket.Port != intstr.FromInt32(9000) {
		t.Errorf("liveness port = %v, want the user port 9000", u.LivenessProbe.TCPSocket.Port)
	}
	var probe corev1.Probe
	_ = json.Unmarshal([]byte(env(q)["SERVING_READINESS_PROBE"].Value), &probe)
	if probe.TCPSocket == nil || probe.TCPSocket.Port != intstr.FromInt32(9000) || probe.TCPSocket.Host != "127.0.0.1" {
		t.Errorf("default SERVING_READINESS_PROBE = %+v, want TCP 127.0.0.1:9000", probe)
	}
	if Protocol(rev) != autoscalingv1alpha1.ProtocolH2C {
		t.Errorf("Protocol(port named h2c) = %s, want h2c", Protocol(rev))
	}
}

func TestUserReadinessProbe_ExecBecomesTCP_Section5(t *testing.T) {
	rev := testRevision(func(r *servingv1.Revision) {
		r.Spec.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
	})
	d := MakeDeployment(rev, config.Default())
	u, q := d.Spec.Template.Spec.Containers[0], d.Spec.Template.Spec.Containers[1]
	if u.ReadinessProbe == nil || u.ReadinessProbe.Exec == nil {
		t.Errorf("user exec readiness probe = %+v, want kept for kubelet", u.ReadinessProbe)
	}
	if v := env(q)["SERVING_READINESS_PROBE"].Value; !strings.Contains(v, `"tcpSocket"`) || strings.Contains(v, `"exec"`) {
		t.Errorf("SERVING_READINESS_PROBE = %s, want a TCP probe instead of exec", v)
	}
}

func TestMakeDeployment_UserAppLabelAndDigest_Section1_2(t *testing.T) {
	rev := testRevision(func(r *servingv1.Revision) {
		r.Labels[serving.AppLabelKey] = "mine"
		r.Spec.Containers[0].Image = "gcr.io/p/hello:v1"
		r.Status.ContainerStatuses = []servingv1.ContainerStatus{{Name: "user-container", ImageDigest: ResolveDigest("gcr.io/p/hello:v1", nil)}}
	})
	d := MakeDeployment(rev, config.Default())
	if d.Labels[serving.AppLabelKey] != "mine" {
		t.Errorf("app label = %q, want the user's", d.Labels[serving.AppLabelKey])
	}
	if img := d.Spec.Template.Spec.Containers[0].Image; !strings.HasPrefix(img, "gcr.io/p/hello@sha256:") {
		t.Errorf("user image = %q, want the resolved digest", img)
	}
}

func TestResolveDigest_Section1_5(t *testing.T) {
	skip := config.DefaultDeployment().RegistriesSkippingTagResolving
	cases := []struct{ image, wantPrefix string }{
		{"kind.local/app:latest", ""},
		{"ko.local/app", ""},
		{"gcr.io/p/app@sha256:abc", "gcr.io/p/app@sha256:abc"},
		{"gcr.io/p/app:v1", "gcr.io/p/app@sha256:"},
		{"localhost:5000/app:v1", "localhost:5000/app@sha256:"},
		{"nginx", "nginx@sha256:"},
	}
	for _, c := range cases {
		got := ResolveDigest(c.image, skip)
		if (c.wantPrefix == "" && got != "") || !strings.HasPrefix(got, c.wantPrefix) {
			t.Errorf("ResolveDigest(%q) = %q, want prefix %q", c.image, got, c.wantPrefix)
		}
	}
	if a, b := ResolveDigest("gcr.io/p/app:v1", nil), ResolveDigest("gcr.io/p/app:v1", nil); a != b {
		t.Errorf("ResolveDigest is not deterministic: %q vs %q", a, b)
	}
}

func TestMakePA_Section1_5(t *testing.T) {
	rev := testRevision()
	pa := MakePA(rev, MakeDeployment(rev, config.Default()), config.Default())
	if pa.Name != "hello-00001" || pa.Spec.ContainerConcurrency != 10 || pa.Spec.ProtocolType != autoscalingv1alpha1.ProtocolHTTP1 {
		t.Errorf("MakePA = %s cc=%d proto=%s, want hello-00001 cc=10 http1", pa.Name, pa.Spec.ContainerConcurrency, pa.Spec.ProtocolType)
	}
	if ref := pa.Spec.ScaleTargetRef; ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != "hello-00001-deployment" {
		t.Errorf("scaleTargetRef = %+v, want apps/v1 Deployment hello-00001-deployment", ref)
	}
	if len(pa.Annotations) != len(rev.Annotations) || pa.Annotations[serving.MinScaleAnnotationKey] != "1" {
		t.Errorf("PA annotations = %v, want all the Revision's %v", pa.Annotations, rev.Annotations)
	}
	if pa.Labels[serving.RevisionLabelKey] != "hello-00001" {
		t.Errorf("PA labels = %v, want the revision label", pa.Labels)
	}
}

func TestReachability_Section1_2(t *testing.T) {
	deploy := func(replicas, ready int32) *appsv1.Deployment {
		return &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: &replicas}, Status: appsv1.DeploymentStatus{ReadyReplicas: ready}}
	}
	failed := func(r *servingv1.Revision) {
		r.Status.Conditions = []duck.Condition{{Type: servingv1.RevisionConditionContainerHealthy, Status: corev1.ConditionFalse}}
	}
	state := func(s string) revOpt {
		return func(r *servingv1.Revision) { r.Labels[serving.RoutingStateLabelKey] = s }
	}
	cases := []struct {
		name string
		rev  *servingv1.Revision
		d    *appsv1.Deployment
		want autoscalingv1alpha1.ReachabilityType
	}{
		{"active", testRevision(state("active")), deploy(1, 1), autoscalingv1alpha1.ReachabilityReachable},
		{"reserve", testRevision(state("reserve")), deploy(1, 1), autoscalingv1alpha1.ReachabilityUnreachable},
		{"pending", testRevision(state("pending")), deploy(1, 1), autoscalingv1alpha1.ReachabilityUnknown},
		{"failed, wants pods, none ready", testRevision(state("active"), failed), deploy(1, 0), autoscalingv1alpha1.ReachabilityUnreachable},
		{"failed but a pod is ready", testRevision(state("active"), failed), deploy(1, 1), autoscalingv1alpha1.ReachabilityReachable},
		{"failed at zero replicas", testRevision(state("active"), failed), deploy(0, 0), autoscalingv1alpha1.ReachabilityReachable},
	}
	for _, c := range cases {
		if got := Reachability(c.rev, c.d); got != c.want {
			t.Errorf("Reachability(%s) = %q, want %q", c.name, got, c.want)
		}
	}
}
