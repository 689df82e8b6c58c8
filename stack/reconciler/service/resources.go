package service

import (
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/ptr"

	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/kmeta"
	"github.com/servingsim/servingsim/stack/reconciler/labeler"
)

// ServiceGVK is the kind the children's controller references name.
var ServiceGVK = servingv1.SchemeGroupVersion.WithKind("Service")

// ConfigurationName is the name of the Service's Configuration: the Service's own name (§1.1).
func ConfigurationName(svc *servingv1.Service) string { return svc.Name }

// RouteName is the name of the Service's Route (§1.1).
func RouteName(svc *servingv1.Service) string { return svc.Name }

// MakeConfiguration builds the Configuration svc wants (§1.2): the Service's labels plus the
// service and serviceUID labels; its annotations without kubectl's last-applied-configuration
// and the rollout-duration keys, plus the routes annotation (the routes already recorded on
// existing, if any, and the Service's Route, sorted); the spec copied from spec.template.
func MakeConfiguration(svc *servingv1.Service, existing *servingv1.Configuration) *servingv1.Configuration {
	routes := sets.New(RouteName(svc))
	if existing != nil {
		routes = routes.Union(labeler.ParseRoutes(existing.Annotations[serving.RoutesAnnotationKey]))
	}
	anns := kmeta.FilterMap(svc.Annotations, func(k string) bool {
		return k == serving.LastAppliedConfigurationAnnotation || k == serving.RolloutDurationKey ||
			k == serving.RolloutDurationLegacyKey
	})
	anns[serving.RoutesAnnotationKey] = labeler.JoinRoutes(routes)
	return &servingv1.Configuration{
		ObjectMeta: metav1.ObjectMeta{
			Name:      ConfigurationName(svc),
			Namespace: svc.Namespace,
			Labels: kmeta.UnionMaps(svc.Labels, map[string]string{
				serving.ServiceLabelKey:    svc.Name,
				serving.ServiceUIDLabelKey: string(svc.UID),
			}),
			Annotations:     anns,
			OwnerReferences: []metav1.OwnerReference{kmeta.NewControllerRef(svc, ServiceGVK)},
		},
		Spec: *svc.Spec.ConfigurationSpec.DeepCopy(),
	}
}

// MakeRoute builds the Route svc wants (§1.2): the Service's labels plus the service label, its
// annotations without kubectl's last-applied-configuration, and spec.traffic with every target
// that names no Revision pointed at the Service's Configuration. A Service without traffic
// gets the webhook's default, 100% to the latest Revision.
func MakeRoute(svc *servingv1.Service) *servingv1.Route {
	traffic := make([]servingv1.TrafficTarget, 0, max(len(svc.Spec.Traffic), 1))
	for _, tt := range svc.Spec.Traffic {
		tt := *tt.DeepCopy()
		if tt.RevisionName == "" {
			tt.ConfigurationName = ConfigurationName(svc)
		}
		traffic = append(traffic, tt)
	}
	if len(traffic) == 0 {
		traffic = append(traffic, servingv1.TrafficTarget{
			ConfigurationName: ConfigurationName(svc),
			LatestRevision:    ptr.To(true),
			Percent:           ptr.To[int64](100),
		})
	}
	return &servingv1.Route{
		ObjectMeta: metav1.ObjectMeta{
			Name:      RouteName(svc),
			Namespace: svc.Namespace,
			Labels:    kmeta.UnionMaps(svc.Labels, map[string]string{serving.ServiceLabelKey: svc.Name}),
			Annotations: kmeta.FilterMap(svc.Annotations, func(k string) bool {
				return k == serving.LastAppliedConfigurationAnnotation
			}),
			OwnerReferences: []metav1.OwnerReference{kmeta.NewControllerRef(svc, ServiceGVK)},
		},
		Spec: servingv1.RouteSpec{Traffic: traffic},
	}
}

// ConfigurationSemanticEquals reports whether existing already has desired's spec, labels and
// annotations, so it need not be clobbered (§1.3).
func ConfigurationSemanticEquals(desired, existing *servingv1.Configuration) bool {
	return equality.Semantic.DeepEqual(desired.Spec, existing.Spec) &&
		equality.Semantic.DeepEqual(desired.Labels, existing.Labels) &&
		equality.Semantic.DeepEqual(desired.Annotations, existing.Annotations)
}

// RouteSemanticEquals reports whether existing already has desired's spec, labels and
// annotations, so it need not be clobbered (§1.3).
func RouteSemanticEquals(desired, existing *servingv1.Route) bool {
	return equality.Semantic.DeepEqual(desired.Spec, existing.Spec) &&
		equality.Semantic.DeepEqual(desired.Labels, existing.Labels) &&
		equality.Semantic.DeepEqual(desired.Annotations, existing.Annotations)
}

// TrafficMigrated reports whether the Route's status.traffic equals its spec.traffic with every
// target of cfg replaced by cfg's latest ready Revision, ignoring tag URLs and latestRevision
// (§1.3 step 5).
func TrafficMigrated(route *servingv1.Route, cfg *servingv1.Configuration) bool {
	if len(route.Spec.Traffic) != len(route.Status.Traffic) {
		return false
	}
	for i := range route.Spec.Traffic {
		want, got := *route.Spec.Traffic[i].DeepCopy(), *route.Status.Traffic[i].DeepCopy()
		if want.ConfigurationName == cfg.Name {
			want.RevisionName = cfg.Status.LatestReadyRevisionName
			want.ConfigurationName = ""
		}
		want.URL, got.URL = "", ""
		want.LatestRevision, got.LatestRevision = nil, nil
		if !equality.Semantic.DeepEqual(want, got) {
			return false
		}
	}
	return true
}
