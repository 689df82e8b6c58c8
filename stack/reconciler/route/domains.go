package route

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/kmeta"
)

// clusterLocalSuffix is what a cluster-local host ends in (§1.8).
const clusterLocalSuffix = "." + config.DefaultDomain

// HostnameFor is the host name of a traffic name: the Route's name for DefaultTarget, else
// tag-template ({{.Tag}}-{{.Name}} by default). The placeholder Service has the same name.
func HostnameFor(netCfg *config.Network, route, tag string) string {
	if tag == DefaultTarget {
		return route
	}
	if n, err := netCfg.TagName(route, tag); err == nil && n != "" {
		return n
	}
	return kmeta.PlaceholderServiceName(route, tag)
}

func isClusterLocal(labels map[string]string) bool {
	return labels[serving.VisibilityLabelKey] == serving.VisibilityClusterLocal
}

// DomainFor renders the full domain of hostname for route (§1.8). A cluster-local name always
// uses the default template with svc.cluster.local; otherwise the domain comes from
// config-domain by the Route's labels and the host from domain-template.
func DomainFor(cfg *config.Config, route *servingv1.Route, hostname string, clusterLocal bool) (string, error) {
	if clusterLocal {
		return config.DefaultHost(hostname, route.Namespace, config.DefaultDomain), nil
	}
	labels := make(map[string]string, len(route.Labels))
	for k, v := range route.Labels {
		if k != serving.VisibilityLabelKey {
			labels[k] = v
		}
	}
	return cfg.Network.Host(config.DomainTemplateValues{
		Name:        hostname,
		Namespace:   route.Namespace,
		Domain:      cfg.Domain.LookupDomain(labels),
		Annotations: route.Annotations,
		Labels:      labels,
	})
}

// RouteVisibility is the visibility of the Route itself: ClusterLocal when it carries the
// cluster-local label or config-domain gives it svc.cluster.local, else ExternalIP (§1.8).
func RouteVisibility(cfg *config.Config, route *servingv1.Route) netv1alpha1.IngressVisibility {
	if isClusterLocal(route.Labels) || cfg.Domain.LookupDomain(route.Labels) == config.DefaultDomain {
		return netv1alpha1.IngressVisibilityClusterLocal
	}
	return netv1alpha1.IngressVisibilityExternalIP
}

// Visibility gives every traffic name of route (DefaultTarget and each spec tag) its
// visibility: the Route's, made ClusterLocal when the placeholder Service of that name (among
// placeholders, the Services labelled with the Route) carries the cluster-local label (§1.8).
func Visibility(cfg *config.Config, route *servingv1.Route, placeholders []corev1.Service) map[string]netv1alpha1.IngressVisibility {
	def := RouteVisibility(cfg, route)
	local := map[string]bool{}
	for i := range placeholders {
		local[placeholders[i].Name] = isClusterLocal(placeholders[i].Labels)
	}
	out := map[string]netv1alpha1.IngressVisibility{}
	names := []string{DefaultTarget}
	for _, tt := range route.Spec.Traffic {
		names = append(names, tt.Tag)
	}
	for _, n := range names {
		v := def
		if local[HostnameFor(cfg.Network, route.Name, n)] {
			v = netv1alpha1.IngressVisibilityClusterLocal
		}
		out[n] = v
	}
	return out
}

// URLFor is the URL of a traffic name: http for cluster-local names, else config-network's
// default-external-scheme.
func URLFor(cfg *config.Config, route *servingv1.Route, name string, vis netv1alpha1.IngressVisibility) (string, error) {
	local := vis == netv1alpha1.IngressVisibilityClusterLocal
	host, err := DomainFor(cfg, route, HostnameFor(cfg.Network, route.Name, name), local)
	if err != nil {
		return "", err
	}
	scheme := cfg.Network.DefaultExternalScheme
	if local || scheme == "" {
		scheme = "http"
	}
	return scheme + "://" + host, nil
}

// AddressURL is status.address.url: the Route's placeholder Service in cluster DNS.
func AddressURL(route *servingv1.Route) string {
	return "http://" + config.DefaultHost(route.Name, route.Namespace, config.DefaultDomain)
}

// ExpandedHosts adds the short cluster names of a cluster-local host: n.ns.svc.cluster.local
// also answers as n.ns.svc and n.ns (§1.8). The result is sorted.
func ExpandedHosts(host string) []string {
	hosts := []string{host}
	if base, ok := strings.CutSuffix(host, clusterLocalSuffix); ok {
		hosts = append(hosts, base, base+".svc")
	}
	slices.Sort(hosts)
	return slices.Compact(hosts)
}
