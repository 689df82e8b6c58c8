package resources

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/config"
)

func TestNumActivators_Section3_5_6(t *testing.T) {
	spec := func(total, tbc float64) autoscaler.DeciderSpec {
		return autoscaler.DeciderSpec{TotalValue: total, TargetBurstCapacity: tbc, ActivatorCapacity: 100}
	}
	cases := []struct {
		name  string
		ready int
		spec  autoscaler.DeciderSpec
		want  int32
	}{
		{"no pods, default TBC 211: ceil(211/100)=3", 0, spec(100, 211), 3},
		{"5 pods ×100 + 211 = 711 → 8", 5, spec(100, 211), 8},
		{"TBC 0 always 2", 50, spec(100, 0), 2},
		{"TBC -1 counts only pods: 3×100/100 = 3", 3, spec(100, -1), 3},
		{"TBC -1 with one pod is floored at 2", 1, spec(100, -1), 2},
		{"CC=10: 10 pods ×10 + 211 = 311 → 4", 10, spec(10, 211), 4},
	}
	for _, c := range cases {
		if got := NumActivators(c.ready, c.spec); got != c.want {
			t.Errorf("%s: NumActivators(%d, total=%v, tbc=%v) = %d, want %d", c.name, c.ready, c.spec.TotalValue, c.spec.TargetBurstCapacity, got, c.want)
		}
	}
}

func TestSKSMode_Section3_5_5(t *testing.T) {
	cases := []struct {
		want, ebc int32
		mode      netv1alpha1.ServerlessServiceOperationMode
	}{
		{-1, -111, netv1alpha1.SKSOperationModeProxy}, // initial decision: a new revision starts in Proxy
		{-1, 0, netv1alpha1.SKSOperationModeProxy},
		{0, 5, netv1alpha1.SKSOperationModeProxy},
		{3, -1, netv1alpha1.SKSOperationModeProxy}, // TBC=-1: always Proxy
		{3, 0, netv1alpha1.SKSOperationModeServe},  // TBC=0: Serve once pods are wanted
		{3, 89, netv1alpha1.SKSOperationModeServe},
	}
	for _, c := range cases {
		if got := SKSMode(c.want, c.ebc); got != c.mode {
			t.Errorf("SKSMode(want=%d, ebc=%d) = %s, want %s", c.want, c.ebc, got, c.mode)
		}
	}
}

func testPA() *autoscalingv1alpha1.PodAutoscaler {
	return &autoscalingv1alpha1.PodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{
			Name: "hello-00001", Namespace: "ns", UID: types.UID("pa-uid"),
			Labels:      map[string]string{serving.RevisionLabelKey: "hello-00001"},
			Annotations: map[string]string{serving.LastAppliedConfigurationAnnotation: "{}", serving.MinScaleAnnotationKey: "1"},
		},
		Spec: autoscalingv1alpha1.PodAutoscalerSpec{
			ScaleTargetRef: corev1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "hello-00001-deployment"},
			ProtocolType:   autoscalingv1alpha1.ProtocolH2C,
		},
	}
}

func TestMakeSKS_Section3_5(t *testing.T) {
	sks := MakeSKS(testPA(), netv1alpha1.SKSOperationModeProxy, 3)
	if sks.Name != "hello-00001" || sks.Namespace != "ns" {
		t.Errorf("MakeSKS name = %s/%s, want ns/hello-00001", sks.Namespace, sks.Name)
	}
	if sks.Spec.Mode != netv1alpha1.SKSOperationModeProxy || sks.Spec.NumActivators != 3 || sks.Spec.ProtocolType != "h2c" {
		t.Errorf("MakeSKS spec = %+v, want Proxy, 3 activators, h2c", sks.Spec)
	}
	if sks.Spec.ObjectRef.Name != "hello-00001-deployment" || sks.Spec.ObjectRef.Kind != "Deployment" {
		t.Errorf("MakeSKS objectRef = %+v, want the Deployment", sks.Spec.ObjectRef)
	}
	if _, ok := sks.Annotations[serving.LastAppliedConfigurationAnnotation]; ok {
		t.Errorf("MakeSKS annotations = %v, want last-applied-configuration dropped", sks.Annotations)
	}
	if sks.Annotations[serving.MinScaleAnnotationKey] != "1" || sks.Labels[serving.RevisionLabelKey] != "hello-00001" {
		t.Errorf("MakeSKS meta = %v / %v, want PA labels and annotations", sks.Labels, sks.Annotations)
	}
	if ref := metav1.GetControllerOf(sks); ref == nil || ref.UID != "pa-uid" || ref.Kind != "PodAutoscaler" {
		t.Errorf("MakeSKS controller = %+v, want the PodAutoscaler", ref)
	}
}

func TestMakeMetric_ScrapeTargetEmptyWhenTBCIsMinusOne_Section3_3(t *testing.T) {
	pa := testPA()
	spec := autoscaler.MakeDeciderSpec(pa, config.DefaultAutoscaler())
	m := MakeMetric(pa, spec, ScrapeTarget(spec, "hello-00001-private"))
	if m.Spec.StableWindow.Duration != 60*time.Second || m.Spec.PanicWindow.Duration != 6*time.Second || m.Spec.ScrapeTarget != "hello-00001-private" {
		t.Errorf("MakeMetric spec = %+v, want 60s/6s/hello-00001-private", m.Spec)
	}
	pa.Annotations[serving.TargetBurstCapacityAnnotationKey] = "-1"
	spec = autoscaler.MakeDeciderSpec(pa, config.DefaultAutoscaler())
	if got := ScrapeTarget(spec, "hello-00001-private"); got != "" {
		t.Errorf("ScrapeTarget(TBC=-1) = %q, want empty", got)
	}
}
