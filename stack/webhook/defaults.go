package webhook

import (
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
)

// defaultService defaults the template, then the traffic (in a Service an empty traffic list
// means 100% to the latest revision), then the user annotations (§2.1).
func defaultService(c reqCtx, s *servingv1.Service, old *servingv1.Service) {
	c.parent = s.ObjectMeta
	defaultRevisionSpec(c, &s.Spec.Template.Spec)
	defaultTraffic(&s.Spec.RouteSpec, true)
	var oldSpec any
	if old != nil {
		oldSpec = old.Spec
	}
	setUserInfo(c, &s.ObjectMeta, oldSpec, s.Spec)
}

// defaultConfiguration defaults the template; user annotations only when the Configuration is
// not owned (by a Service, whose own annotations it carries) (§2.1).
func defaultConfiguration(c reqCtx, cfg *servingv1.Configuration, old *servingv1.Configuration) {
	c.parent = cfg.ObjectMeta
	defaultRevisionSpec(c, &cfg.Spec.Template.Spec)
	if len(cfg.OwnerReferences) == 0 {
		var oldSpec any
		if old != nil {
			oldSpec = old.Spec
		}
		setUserInfo(c, &cfg.ObjectMeta, oldSpec, cfg.Spec)
	}
}

// defaultRevision defaults the spec on create only: it is immutable afterwards (§2.1).
func defaultRevision(c reqCtx, r *servingv1.Revision) {
	if c.update {
		return
	}
	c.parent = r.ObjectMeta
	defaultRevisionSpec(c, &r.Spec)
}

// defaultRoute defaults the traffic targets and, for a standalone Route, the user annotations.
func defaultRoute(c reqCtx, r *servingv1.Route, old *servingv1.Route) {
	defaultTraffic(&r.Spec, false)
	if len(r.OwnerReferences) == 0 {
		var oldSpec any
		if old != nil {
			oldSpec = old.Spec
		}
		setUserInfo(c, &r.ObjectMeta, oldSpec, r.Spec)
	}
}

// defaultTraffic fills an empty Service traffic list with 100% to the latest revision; every
// target gets latestRevision = (revisionName == "") and a nil percent becomes 0 (§2.1).
func defaultTraffic(rs *servingv1.RouteSpec, inService bool) {
	if len(rs.Traffic) == 0 && inService {
		rs.Traffic = []servingv1.TrafficTarget{{Percent: ptr.To[int64](100), LatestRevision: ptr.To(true)}}
	}
	for i := range rs.Traffic {
		tt := &rs.Traffic[i]
		if tt.LatestRevision == nil {
			tt.LatestRevision = ptr.To(tt.RevisionName == "")
		}
		if tt.Percent == nil {
			tt.Percent = ptr.To[int64](0)
		}
	}
}

// setUserInfo records the requester: creator and lastModifier on create; on update
// lastModifier only, and only when the spec changed (§2.1). oldSpec is nil on create.
func setUserInfo(c reqCtx, meta *metav1.ObjectMeta, oldSpec, newSpec any) {
	if c.user == "" {
		return
	}
	if c.update && equality.Semantic.DeepEqual(oldSpec, newSpec) {
		return
	}
	if meta.Annotations == nil {
		meta.Annotations = map[string]string{}
	}
	if !c.update {
		meta.Annotations[serving.CreatorAnnotation] = c.user
	}
	meta.Annotations[serving.UpdaterAnnotation] = c.user
}

// defaultPodAutoscaler sets the class (KPA) and the class's default metric (§2.1).
func defaultPodAutoscaler(pa *autoscalingv1alpha1.PodAutoscaler) {
	if pa.Annotations == nil {
		pa.Annotations = map[string]string{}
	}
	class, ok := pa.Annotations[serving.ClassAnnotationKey]
	if !ok {
		class = serving.KPAClass
		pa.Annotations[serving.ClassAnnotationKey] = class
	}
	if _, ok := pa.Annotations[serving.MetricAnnotationKey]; !ok {
		switch class {
		case serving.KPAClass:
			pa.Annotations[serving.MetricAnnotationKey] = serving.MetricConcurrency
		case serving.HPAClass:
			pa.Annotations[serving.MetricAnnotationKey] = serving.MetricCPU
		}
	}
}
