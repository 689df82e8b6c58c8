package route

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/kmeta"
)

// RouteGVK is the kind the Route's children's controller references name.
var RouteGVK = servingv1.SchemeGroupVersion.WithKind("Route")

// IngressClass is the class of route's Ingress: the Route's ingress.class annotation, else
// config-network's ingress-class.
func IngressClass(cfg *config.Config, route *servingv1.Route) string {
	if c := route.Annotations[serving.IngressClassAnnotationKey]; c != "" {
		return c
	}
	if cfg.Network.IngressClass != "" {
		return cfg.Network.IngressClass
	}
	return serving.DefaultIngressClass
}

// MakeIngress builds the KIngress of route for its flattened traffic and per-name visibility
// (§6): the Route's labels plus route and routeNamespace, its annotations (without kubectl's
// last-applied-configuration) over the ingress class, a controller reference to the Route, and
// the rules of MakeIngressSpec.
func MakeIngress(cfg *config.Config, route *servingv1.Route, t *Traffic, vis map[string]netv1alpha1.IngressVisibility) (*netv1alpha1.Ingress, error) {
	spec, err := MakeIngressSpec(cfg, route, t, vis)
	if err != nil {
		return nil, err
	}
	return &netv1alpha1.Ingress{
		ObjectMeta: metav1.ObjectMeta{
			Name:      kmeta.IngressName(route.Name),
			Namespace: route.Namespace,
			Labels: kmeta.UnionMaps(route.Labels, map[string]string{
				serving.RouteLabelKey:          route.Name,
				serving.RouteNamespaceLabelKey: route.Namespace,
			}),
			Annotations: kmeta.FilterMap(kmeta.UnionMaps(
				map[string]string{serving.IngressClassAnnotationKey: IngressClass(cfg, route)}, route.Annotations),
				func(k string) bool { return k == serving.LastAppliedConfigurationAnnotation }),
			OwnerReferences: []metav1.OwnerReference{kmeta.NewControllerRef(route, RouteGVK)},
		},
		Spec: spec,
	}, nil
}

// MakeIngressSpec emits, for each traffic name in sorted order (DefaultTarget first, then each
// tag), a ClusterLocal rule on the expanded cluster hosts and, unless the name is
// cluster-local, an ExternalIP rule on its external domain (§6 Rule generation). Each rule
// has one path splitting to the Revisions' public Services; with tag-header-based-routing on,
// the default rule also gets one header-matched path per tag first and appends
// Knative-Serving-Default-Route, and tag rules append Knative-Serving-Tag.
func MakeIngressSpec(cfg *config.Config, route *servingv1.Route, t *Traffic, vis map[string]netv1alpha1.IngressVisibility) (netv1alpha1.IngressSpec, error) {
	names := t.Names()
	tags := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == DefaultTarget })
	tagHeader := cfg.Features != nil && cfg.Features.IsOn(config.FeatureTagHeaderBasedRouting)
	var rules []netv1alpha1.IngressRule
	for _, name := range names {
		visibilities := []netv1alpha1.IngressVisibility{netv1alpha1.IngressVisibilityClusterLocal}
		if vis[name] != netv1alpha1.IngressVisibilityClusterLocal {
			visibilities = append(visibilities, netv1alpha1.IngressVisibilityExternalIP)
		}
		for _, v := range visibilities {
			local := v == netv1alpha1.IngressVisibilityClusterLocal
			domain, err := DomainFor(cfg, route, HostnameFor(cfg.Network, route.Name, name), local)
			if err != nil {
				return netv1alpha1.IngressSpec{}, err
			}
			hosts := []string{domain}
			if local {
				hosts = ExpandedHosts(domain)
			}
			path := makePath(route.Namespace, t.Targets[name])
			paths := []netv1alpha1.HTTPIngressPath{path}
			if tagHeader {
				if name == DefaultTarget {
					paths[0].AppendHeaders = map[string]string{serving.DefaultRouteHeaderName: "true"}
					var tagged []netv1alpha1.HTTPIngressPath
					for _, tag := range tags {
						p := makePath(route.Namespace, t.Targets[tag])
						p.Headers = map[string]netv1alpha1.HeaderMatch{serving.TagHeaderName: {Exact: tag}}
						tagged = append(tagged, p)
					}
					paths = append(tagged, paths...)
				} else {
					paths[0].AppendHeaders = map[string]string{serving.TagHeaderName: name}
				}
			}
			rules = append(rules, netv1alpha1.IngressRule{
				Hosts:      hosts,
				Visibility: v,
				HTTP:       &netv1alpha1.HTTPIngressRuleValue{Paths: paths},
			})
		}
	}
	return netv1alpha1.IngressSpec{Rules: rules}, nil
}

// makePath splits a path over targets with a positive percent, each to the Revision's public
// Service on port 80 (81 for h2c), appending the revision and namespace headers.
func makePath(ns string, targets []RevisionTarget) netv1alpha1.HTTPIngressPath {
	splits := make([]netv1alpha1.IngressBackendSplit, 0, len(targets))
	for _, t := range targets {
		if t.Percent == nil || *t.Percent <= 0 {
			continue
		}
		port := serving.ServiceHTTPPort
		if t.Protocol == ProtocolH2C {
			port = serving.ServiceH2CPort
		}
		splits = append(splits, netv1alpha1.IngressBackendSplit{
			ServiceNamespace: ns,
			ServiceName:      kmeta.PublicServiceName(kmeta.ServerlessServiceName(kmeta.PodAutoscalerName(t.RevisionName))),
			ServicePort:      intstr.FromInt32(port),
			Percent:          int(*t.Percent),
			AppendHeaders: map[string]string{
				serving.RevisionHeaderName:          t.RevisionName,
				serving.RevisionNamespaceHeaderName: ns,
			},
		})
	}
	return netv1alpha1.HTTPIngressPath{Splits: splits}
}

// DefaultPlaceholderTarget is where placeholder Services point until the Ingress reports its
// private load balancer: Kourier's internal gateway Service.
const DefaultPlaceholderTarget = serving.GatewayInternalServiceName + "." + serving.GatewayNamespace + clusterLocalSuffix

// PlaceholderTarget is the ExternalName of the placeholder Services: the Ingress's private
// load-balancer domain when reported, else DefaultPlaceholderTarget (§6 Placeholder services).
func PlaceholderTarget(ing *netv1alpha1.Ingress) string {
	if ing != nil && ing.Status.PrivateLoadBalancer != nil {
		for _, lb := range ing.Status.PrivateLoadBalancer.Ingress {
			if lb.DomainInternal != "" {
				return lb.DomainInternal
			}
		}
	}
	return DefaultPlaceholderTarget
}

// MakePlaceholderService builds the K8s Service name (the Route's own or a tag's host name)
// that makes <name>.<ns>.svc.cluster.local resolve: an ExternalName Service pointing at
// target, labelled with the Route's labels (without the visibility label, which users set per
// Service) plus the route label, annotated like the Route, and controlled by it.
func MakePlaceholderService(route *servingv1.Route, name, target string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name:      name,
			Namespace: route.Namespace,
			Labels: kmeta.UnionMaps(kmeta.FilterMap(route.Labels, func(k string) bool {
				return k == serving.VisibilityLabelKey
			}), map[string]string{serving.RouteLabelKey: route.Name}),
			Annotations:     kmeta.UnionMaps(route.Annotations),
			OwnerReferences: []metav1.OwnerReference{kmeta.NewControllerRef(route, RouteGVK)},
		},
		Spec: corev1.ServiceSpec{
			Type:            corev1.ServiceTypeExternalName,
			ExternalName:    target,
			SessionAffinity: corev1.ServiceAffinityNone,
			Ports: []corev1.ServicePort{{
				Name:       serving.ServicePortNameH2C,
				Protocol:   corev1.ProtocolTCP,
				Port:       serving.ServiceHTTPPort,
				TargetPort: intstr.FromInt32(serving.ServiceHTTPPort),
			}},
		},
	}
}

// placeholderSpecMatches compares the fields MakePlaceholderService sets, so that API-server
// defaults do not cause endless updates.
func placeholderSpecMatches(have, want *corev1.ServiceSpec) bool {
	if have.Type != want.Type || have.ExternalName != want.ExternalName ||
		have.SessionAffinity != want.SessionAffinity || len(have.Ports) != len(want.Ports) {
		return false
	}
	for i := range want.Ports {
		h, w := have.Ports[i], want.Ports[i]
		if h.Name != w.Name || h.Port != w.Port || h.TargetPort != w.TargetPort || h.Protocol != w.Protocol {
			return false
		}
	}
	return true
}
