package webhook

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
)

func TestSetDefaults_ServiceKnativeDefaults(t *testing.T) { // §2.1
	s := ksvc()
	if err := SetDefaults(s, Options{User: "alice"}); err != nil {
		t.Fatal(err)
	}
	rs := s.Spec.Template.Spec
	if got := ptr.Deref(rs.TimeoutSeconds, -1); got != 300 {
		t.Errorf("SetDefaults(ksvc).timeoutSeconds = %d, want 300", got)
	}
	if rs.ContainerConcurrency == nil || *rs.ContainerConcurrency != 0 {
		t.Errorf("SetDefaults(ksvc).containerConcurrency = %v, want 0", rs.ContainerConcurrency)
	}
	if rs.ResponseStartTimeoutSeconds != nil || rs.IdleTimeoutSeconds != nil {
		t.Errorf("SetDefaults(ksvc) responseStart/idle = %v/%v, want both unset", rs.ResponseStartTimeoutSeconds, rs.IdleTimeoutSeconds)
	}
	if got := rs.Containers[0].Name; got != "user-container" {
		t.Errorf("SetDefaults(ksvc) container name = %q, want user-container", got)
	}
	wantProbe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{}}, SuccessThreshold: 1}
	if got := rs.Containers[0].ReadinessProbe; !equality.Semantic.DeepEqual(got, wantProbe) {
		t.Errorf("SetDefaults(ksvc) readinessProbe = %+v, want %+v", got, wantProbe)
	}
	if rs.EnableServiceLinks == nil || *rs.EnableServiceLinks {
		t.Errorf("SetDefaults(ksvc).enableServiceLinks = %v, want false", rs.EnableServiceLinks)
	}
	if len(rs.Containers[0].Ports) != 0 {
		t.Errorf("SetDefaults(ksvc) ports = %v, want none (8080 is implied, not written)", rs.Containers[0].Ports)
	}
	wantTraffic := []servingv1.TrafficTarget{{Percent: ptr.To[int64](100), LatestRevision: ptr.To(true)}}
	if !equality.Semantic.DeepEqual(s.Spec.Traffic, wantTraffic) {
		t.Errorf("SetDefaults(ksvc).traffic = %+v, want %+v", s.Spec.Traffic, wantTraffic)
	}
	for _, k := range []string{serving.CreatorAnnotation, serving.UpdaterAnnotation} {
		if got := s.Annotations[k]; got != "alice" {
			t.Errorf("SetDefaults(ksvc, alice) annotation %s = %q, want alice", k, got)
		}
	}
}

func TestSetDefaults_ContainerNames(t *testing.T) { // §2.1 container-name-template
	names := func(cs []corev1.Container) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name)
		}
		return out
	}
	cases := []struct {
		name           string
		ctrs, inits    []string
		want, wantInit []string
	}{
		{"single", []string{""}, nil, []string{"user-container"}, nil},
		{"named kept", []string{"app"}, nil, []string{"app"}, nil},
		{"several", []string{"", ""}, nil, []string{"user-container-0", "user-container-1"}, nil},
		{"mixed", []string{"sidecar", ""}, nil, []string{"sidecar", "user-container-1"}, nil},
		{"clash moves on", []string{"", "user-container-1", ""}, nil,
			[]string{"user-container-0", "user-container-1", "user-container-2"}, nil},
		{"single clashing with init", []string{""}, []string{"user-container"}, []string{"user-container-0"}, []string{"user-container"}},
		{"init containers", []string{""}, []string{"", ""}, []string{"user-container"}, []string{"init-container-0", "init-container-1"}},
		{"single init", []string{""}, []string{""}, []string{"user-container"}, []string{"init-container"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := ksvc(func(s *servingv1.Service) {
				ps := podSpec(s)
				ps.Containers = nil
				for _, n := range c.ctrs {
					ps.Containers = append(ps.Containers, corev1.Container{Name: n, Image: testImage})
				}
				for _, n := range c.inits {
					ps.InitContainers = append(ps.InitContainers, corev1.Container{Name: n, Image: testImage})
				}
			})
			if err := SetDefaults(s, Options{}); err != nil {
				t.Fatal(err)
			}
			if got := names(podSpec(s).Containers); !equality.Semantic.DeepEqual(got, c.want) {
				t.Errorf("SetDefaults(%v) containers = %v, want %v", c.ctrs, got, c.want)
			}
			if got := names(podSpec(s).InitContainers); !equality.Semantic.DeepEqual(got, c.wantInit) {
				t.Errorf("SetDefaults(%v) initContainers = %v, want %v", c.inits, got, c.wantInit)
			}
		})
	}
}

func TestSetDefaults_ContainerNameTemplate(t *testing.T) {
	cfg := cfgWith(t, config.DefaultsConfigName, map[string]string{"container-name-template": "{{.Name}}-app"})
	s := ksvc()
	if err := SetDefaults(s, Options{Config: cfg}); err != nil {
		t.Fatal(err)
	}
	if got := ctr0(s).Name; got != "hello-app" {
		t.Errorf("SetDefaults(template {{.Name}}-app) name = %q, want hello-app", got)
	}
}

func TestSetDefaults_ReadinessProbe(t *testing.T) { // §2.1 Readiness probe
	t.Run("period set gets k8s thresholds", func(t *testing.T) {
		s := ksvc(func(s *servingv1.Service) {
			ctr0(s).ReadinessProbe = &corev1.Probe{PeriodSeconds: 5,
				ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz"}}}
		})
		if err := SetDefaults(s, Options{}); err != nil {
			t.Fatal(err)
		}
		p := ctr0(s).ReadinessProbe
		if p.SuccessThreshold != 1 || p.FailureThreshold != 3 || p.TimeoutSeconds != 1 || p.TCPSocket != nil {
			t.Errorf("SetDefaults(period 5) probe = %+v, want success 1, failure 3, timeout 1, httpGet only", p)
		}
	})
	t.Run("grpc service", func(t *testing.T) {
		s := ksvc(func(s *servingv1.Service) {
			ctr0(s).ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{}}}
			ctr0(s).LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{}}}
		})
		if err := SetDefaults(s, Options{}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []*corev1.Probe{ctr0(s).ReadinessProbe, ctr0(s).LivenessProbe} {
			if p.GRPC.Service == nil || *p.GRPC.Service != "" {
				t.Errorf("SetDefaults(grpc probe).service = %v, want \"\"", p.GRPC.Service)
			}
		}
	})
	t.Run("only the serving container of several", func(t *testing.T) {
		s := ksvc(func(s *servingv1.Service) {
			podSpec(s).Containers = []corev1.Container{
				{Image: testImage, Ports: []corev1.ContainerPort{{ContainerPort: 9000}}},
				{Image: testImage},
			}
		})
		if err := SetDefaults(s, Options{}); err != nil {
			t.Fatal(err)
		}
		if p := podSpec(s).Containers[0].ReadinessProbe; p == nil || p.TCPSocket == nil {
			t.Errorf("SetDefaults serving container probe = %+v, want tcpSocket", p)
		}
		if p := podSpec(s).Containers[1].ReadinessProbe; p != nil {
			t.Errorf("SetDefaults sidecar probe = %+v, want none", p)
		}
	})
}

func TestSetDefaults_TimeoutsAndConcurrencyFromConfig(t *testing.T) { // §2.1 timeoutSeconds
	cfg := cfgWith(t, config.DefaultsConfigName, map[string]string{
		"revision-timeout-seconds": "120", "revision-response-start-timeout-seconds": "60",
		"revision-idle-timeout-seconds": "30", "container-concurrency": "10",
	})
	s := ksvc(func(s *servingv1.Service) { s.Spec.Template.Spec.TimeoutSeconds = ptr.To[int64](0) })
	if err := SetDefaults(s, Options{Config: cfg}); err != nil {
		t.Fatal(err)
	}
	rs := s.Spec.Template.Spec
	got := [4]int64{ptr.Deref(rs.TimeoutSeconds, -1), ptr.Deref(rs.ResponseStartTimeoutSeconds, -1),
		ptr.Deref(rs.IdleTimeoutSeconds, -1), ptr.Deref(rs.ContainerConcurrency, -1)}
	if want := [4]int64{120, 60, 30, 10}; got != want {
		t.Errorf("SetDefaults timeout/responseStart/idle/cc = %v, want %v", got, want)
	}
	// A user timeout below the finer defaults leaves them unset.
	s = ksvc(func(s *servingv1.Service) { s.Spec.Template.Spec.TimeoutSeconds = ptr.To[int64](20) })
	if err := SetDefaults(s, Options{Config: cfg}); err != nil {
		t.Fatal(err)
	}
	if rs := s.Spec.Template.Spec; rs.ResponseStartTimeoutSeconds != nil || rs.IdleTimeoutSeconds != nil {
		t.Errorf("SetDefaults(timeout 20) responseStart/idle = %v/%v, want unset", rs.ResponseStartTimeoutSeconds, rs.IdleTimeoutSeconds)
	}
}

func TestSetDefaults_ResourceDefaultsFromConfig(t *testing.T) {
	cfg := cfgWith(t, config.DefaultsConfigName, map[string]string{"revision-cpu-request": "100m", "revision-memory-limit": "256Mi"})
	s := ksvc(func(s *servingv1.Service) {
		ctr0(s).Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}
	})
	if err := SetDefaults(s, Options{Config: cfg}); err != nil {
		t.Fatal(err)
	}
	r := ctr0(s).Resources
	if q := r.Requests[corev1.ResourceCPU]; q.String() != "1" {
		t.Errorf("SetDefaults cpu request = %s, want the user's 1", q.String())
	}
	if q := r.Limits[corev1.ResourceMemory]; q.String() != "256Mi" {
		t.Errorf("SetDefaults memory limit = %s, want 256Mi", q.String())
	}
}

func TestSetDefaults_VolumeMountsReadOnly(t *testing.T) { // §2.1 volume mounts
	s := ksvc(func(s *servingv1.Service) {
		podSpec(s).Volumes = []corev1.Volume{
			{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}},
			{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		}
		ctr0(s).VolumeMounts = []corev1.VolumeMount{{Name: "cfg", MountPath: "/cfg"}, {Name: "scratch", MountPath: "/scratch"}}
	})
	if err := SetDefaults(s, Options{}); err != nil {
		t.Fatal(err)
	}
	if m := ctr0(s).VolumeMounts; !m[0].ReadOnly || m[1].ReadOnly {
		t.Errorf("SetDefaults mounts readOnly = %v/%v, want configMap true, emptyDir false", m[0].ReadOnly, m[1].ReadOnly)
	}
}

func TestSetDefaults_LastModifierOnlyOnSpecChange(t *testing.T) { // §2.1 creator/lastModifier
	old := ksvc()
	if err := SetDefaults(old, Options{User: "alice"}); err != nil {
		t.Fatal(err)
	}
	same := old.DeepCopy()
	same.Labels = map[string]string{"team": "x"}
	if err := SetDefaults(same, Options{User: "bob", Old: old}); err != nil {
		t.Fatal(err)
	}
	if got := same.Annotations[serving.UpdaterAnnotation]; got != "alice" {
		t.Errorf("metadata-only update by bob: lastModifier = %q, want alice", got)
	}
	changed := old.DeepCopy()
	ctr0(changed).Image = "ghcr.io/knative/other:v2"
	if err := SetDefaults(changed, Options{User: "bob", Old: old}); err != nil {
		t.Fatal(err)
	}
	if got, c := changed.Annotations[serving.UpdaterAnnotation], changed.Annotations[serving.CreatorAnnotation]; got != "bob" || c != "alice" {
		t.Errorf("spec update by bob: lastModifier, creator = %q, %q, want bob, alice", got, c)
	}
}

func TestSetDefaults_EnableServiceLinksOnlyOnCreate(t *testing.T) {
	old := ksvc()
	if err := SetDefaults(old, Options{}); err != nil {
		t.Fatal(err)
	}
	upd := ksvc()
	if err := SetDefaults(upd, Options{Old: old}); err != nil {
		t.Fatal(err)
	}
	if upd.Spec.Template.Spec.EnableServiceLinks != nil {
		t.Errorf("SetDefaults on update enableServiceLinks = %v, want unset", *upd.Spec.Template.Spec.EnableServiceLinks)
	}
}

func TestSetDefaults_RevisionSpecSkippedOnUpdate(t *testing.T) { // §2.1
	rev := &servingv1.Revision{ObjectMeta: metav1.ObjectMeta{Name: "hello-00001"},
		Spec: servingv1.RevisionSpec{PodSpec: corev1.PodSpec{Containers: []corev1.Container{{Image: testImage}}}}}
	upd := rev.DeepCopy()
	if err := SetDefaults(upd, Options{Old: rev}); err != nil {
		t.Fatal(err)
	}
	if upd.Spec.TimeoutSeconds != nil || upd.Spec.Containers[0].Name != "" {
		t.Errorf("SetDefaults(revision update) changed the spec: %+v", upd.Spec)
	}
	if err := SetDefaults(rev, Options{}); err != nil {
		t.Fatal(err)
	}
	if ptr.Deref(rev.Spec.TimeoutSeconds, 0) != 300 || rev.Spec.Containers[0].Name != "user-container" {
		t.Errorf("SetDefaults(revision create) spec = %+v, want timeout 300 and user-container", rev.Spec)
	}
}

func TestSetDefaults_RouteTraffic(t *testing.T) { // §2.1 Service and Route
	r := &servingv1.Route{ObjectMeta: metav1.ObjectMeta{Name: "r"}, Spec: servingv1.RouteSpec{Traffic: []servingv1.TrafficTarget{
		{ConfigurationName: "c", Percent: ptr.To[int64](100)},
		{RevisionName: "c-00001", Tag: "old"},
	}}}
	if err := SetDefaults(r, Options{User: "alice"}); err != nil {
		t.Fatal(err)
	}
	want := []servingv1.TrafficTarget{
		{ConfigurationName: "c", Percent: ptr.To[int64](100), LatestRevision: ptr.To(true)},
		{RevisionName: "c-00001", Tag: "old", Percent: ptr.To[int64](0), LatestRevision: ptr.To(false)},
	}
	if !equality.Semantic.DeepEqual(r.Spec.Traffic, want) {
		t.Errorf("SetDefaults(route).traffic = %+v, want %+v", r.Spec.Traffic, want)
	}
	if r.Annotations[serving.CreatorAnnotation] != "alice" {
		t.Errorf("SetDefaults(standalone route) creator = %q, want alice", r.Annotations[serving.CreatorAnnotation])
	}
	empty := &servingv1.Route{ObjectMeta: metav1.ObjectMeta{Name: "r"}}
	if err := SetDefaults(empty, Options{}); err != nil {
		t.Fatal(err)
	}
	if len(empty.Spec.Traffic) != 0 {
		t.Errorf("SetDefaults(standalone empty route).traffic = %+v, want empty (no implied configuration)", empty.Spec.Traffic)
	}
}

func TestSetDefaults_OwnedChildrenKeepUserAnnotations(t *testing.T) { // §2.1 standalone only
	owner := []metav1.OwnerReference{{APIVersion: "serving.knative.dev/v1", Kind: "Service", Name: "hello", UID: "u"}}
	cfg := &servingv1.Configuration{ObjectMeta: metav1.ObjectMeta{Name: "hello", OwnerReferences: owner,
		Annotations: map[string]string{serving.CreatorAnnotation: "alice"}},
		Spec: ksvc().Spec.ConfigurationSpec}
	if err := SetDefaults(cfg, Options{User: "system:controller"}); err != nil {
		t.Fatal(err)
	}
	if got := cfg.Annotations[serving.CreatorAnnotation]; got != "alice" {
		t.Errorf("SetDefaults(owned configuration) creator = %q, want alice kept", got)
	}
	if _, ok := cfg.Annotations[serving.UpdaterAnnotation]; ok {
		t.Errorf("SetDefaults(owned configuration) set lastModifier, want untouched")
	}
	standalone := &servingv1.Configuration{ObjectMeta: metav1.ObjectMeta{Name: "hello"}, Spec: ksvc().Spec.ConfigurationSpec}
	if err := SetDefaults(standalone, Options{User: "carol"}); err != nil {
		t.Fatal(err)
	}
	if got := standalone.Annotations[serving.CreatorAnnotation]; got != "carol" {
		t.Errorf("SetDefaults(standalone configuration) creator = %q, want carol", got)
	}
}

func TestSetDefaults_PodAutoscalerClassAndMetric(t *testing.T) { // §2.1 PA
	cases := []struct {
		name               string
		anns               map[string]string
		wantClass, wantMet string
	}{
		{"empty is KPA concurrency", nil, serving.KPAClass, serving.MetricConcurrency},
		{"HPA gets cpu", map[string]string{serving.ClassAnnotationKey: serving.HPAClass}, serving.HPAClass, serving.MetricCPU},
		{"metric kept", map[string]string{serving.MetricAnnotationKey: serving.MetricRPS}, serving.KPAClass, serving.MetricRPS},
		{"other class untouched", map[string]string{serving.ClassAnnotationKey: "custom.example.com"}, "custom.example.com", ""},
	}
	for _, c := range cases {
		pa := &autoscalingv1alpha1.PodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "p", Annotations: c.anns}}
		if err := SetDefaults(pa, Options{}); err != nil {
			t.Fatal(err)
		}
		if got, m := pa.Annotations[serving.ClassAnnotationKey], pa.Annotations[serving.MetricAnnotationKey]; got != c.wantClass || m != c.wantMet {
			t.Errorf("%s: SetDefaults(PA %v) class, metric = %q, %q, want %q, %q", c.name, c.anns, got, m, c.wantClass, c.wantMet)
		}
	}
}

func TestSetDefaults_ProbePortIsNotWritten(t *testing.T) {
	s := ksvc()
	if err := SetDefaults(s, Options{}); err != nil {
		t.Fatal(err)
	}
	if got := ctr0(s).ReadinessProbe.TCPSocket.Port; got != (intstr.IntOrString{}) {
		t.Errorf("SetDefaults probe port = %v, want zero (resolved by the revision reconciler)", got)
	}
}

func TestSetDefaults_Idempotent(t *testing.T) { // a defaulted spec copied to a child defaults to itself
	s := ksvc(func(s *servingv1.Service) {
		podSpec(s).Containers = []corev1.Container{{Image: testImage, Ports: []corev1.ContainerPort{{ContainerPort: 9000}},
			ReadinessProbe: &corev1.Probe{PeriodSeconds: 2, ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9000}}}},
			{Image: testImage}}
		podSpec(s).Volumes = []corev1.Volume{{Name: "c", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}}}
		podSpec(s).Containers[1].VolumeMounts = []corev1.VolumeMount{{Name: "c", MountPath: "/c"}}
	})
	if err := SetDefaults(s, Options{User: "alice"}); err != nil {
		t.Fatal(err)
	}
	rev := &servingv1.Revision{ObjectMeta: metav1.ObjectMeta{Name: "hello-00001"}, Spec: *s.Spec.Template.Spec.DeepCopy()}
	if err := SetDefaults(rev, Options{User: "controller"}); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(rev.Spec, s.Spec.Template.Spec) {
		t.Errorf("SetDefaults(defaulted spec) = %+v, want it unchanged: %+v", rev.Spec, s.Spec.Template.Spec)
	}
}

func TestSetDefaults_TypedNilOldIsCreate(t *testing.T) {
	s := ksvc()
	if err := SetDefaults(s, Options{User: "alice", Old: (*servingv1.Service)(nil)}); err != nil {
		t.Fatal(err)
	}
	if s.Annotations[serving.CreatorAnnotation] != "alice" || s.Spec.Template.Spec.EnableServiceLinks == nil {
		t.Errorf("SetDefaults(Old: typed nil) = %v, want create behaviour (creator, enableServiceLinks)", s.Annotations)
	}
	if err := SetDefaults(s, Options{Old: &servingv1.Route{}}); err == nil {
		t.Errorf("SetDefaults(Service, Old: Route) = nil, want a type error")
	}
}
