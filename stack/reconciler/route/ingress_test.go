package route

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/kmeta"
)

// cfgFrom builds a config snapshot from ConfigMap data, as the Store does.
func cfgFrom(t *testing.T, maps map[string]map[string]string) *config.Config {
	t.Helper()
	s := config.NewStore()
	for name, data := range maps {
		if err := s.Update(name, data); err != nil {
			t.Fatalf("Update(%s) = %v", name, err)
		}
	}
	return s.Load()
}

var exampleCom = map[string]map[string]string{config.DomainConfigName: {"example.com": ""}}

func split(rev string, percent int, port int32) netv1alpha1.IngressBackendSplit {
	return netv1alpha1.IngressBackendSplit{
		ServiceNamespace: ns, ServiceName: rev, ServicePort: intstr.FromInt32(port), Percent: percent,
		AppendHeaders: map[string]string{"Knative-Serving-Revision": rev, "Knative-Serving-Namespace": ns},
	}
}

func flatten(t *testing.T, route *servingv1.Route, world MapLookup) *Traffic {
	t.Helper()
	tr, err := Flatten(route, world)
	if err != nil {
		t.Fatalf("Flatten() = %v", err)
	}
	return tr
}

var helloWorld = lookup(cfgWith("hello", "hello-00002", corev1.ConditionTrue),
	rev("hello-00001", "hello", corev1.ConditionTrue), rev("hello-00002", "hello", corev1.ConditionTrue))

func TestMakeIngressSpec_ExternalRouteWithTag(t *testing.T) { // knative-semantics.md §6 Rule generation
	cfg := cfgFrom(t, exampleCom)
	route := newRoute("hello",
		servingv1.TrafficTarget{RevisionName: "hello-00001", Percent: pct(80)},
		servingv1.TrafficTarget{ConfigurationName: "hello", Percent: pct(20)},
		servingv1.TrafficTarget{RevisionName: "hello-00002", Tag: "candidate", Percent: pct(0)})
	tr := flatten(t, route, helloWorld)
	vis := Visibility(cfg, route, nil)
	spec, err := MakeIngressSpec(cfg, route, tr, vis)
	if err != nil {
		t.Fatal(err)
	}
	main := []netv1alpha1.IngressBackendSplit{split("hello-00001", 80, 80), split("hello-00002", 20, 80)}
	tag := []netv1alpha1.IngressBackendSplit{split("hello-00002", 100, 80)}
	want := []netv1alpha1.IngressRule{
		{Hosts: []string{"hello.demo", "hello.demo.svc", "hello.demo.svc.cluster.local"}, Visibility: "ClusterLocal",
			HTTP: &netv1alpha1.HTTPIngressRuleValue{Paths: []netv1alpha1.HTTPIngressPath{{Splits: main}}}},
		{Hosts: []string{"hello.demo.example.com"}, Visibility: "ExternalIP",
			HTTP: &netv1alpha1.HTTPIngressRuleValue{Paths: []netv1alpha1.HTTPIngressPath{{Splits: main}}}},
		{Hosts: []string{"candidate-hello.demo", "candidate-hello.demo.svc", "candidate-hello.demo.svc.cluster.local"}, Visibility: "ClusterLocal",
			HTTP: &netv1alpha1.HTTPIngressRuleValue{Paths: []netv1alpha1.HTTPIngressPath{{Splits: tag}}}},
		{Hosts: []string{"candidate-hello.demo.example.com"}, Visibility: "ExternalIP",
			HTTP: &netv1alpha1.HTTPIngressRuleValue{Paths: []netv1alpha1.HTTPIngressPath{{Splits: tag}}}},
	}
	if !reflect.DeepEqual(spec.Rules, want) {
		t.Errorf("MakeIngressSpec() rules =\n%+v\nwant\n%+v", spec.Rules, want)
	}
}

func TestMakeIngressSpec_ClusterLocal(t *testing.T) { // §1.8 cluster-local, §6: no ExternalIP rule
	for _, c := range []struct {
		name string
		cfg  *config.Config
		lbl  map[string]string
	}{
		{"visibility label", cfgFrom(t, exampleCom), map[string]string{serving.VisibilityLabelKey: serving.VisibilityClusterLocal}},
		{"no config-domain entries: svc.cluster.local", cfgFrom(t, nil), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			route := newRoute("hello", servingv1.TrafficTarget{ConfigurationName: "hello", Percent: pct(100)})
			for k, v := range c.lbl {
				route.Labels[k] = v
			}
			tr := flatten(t, route, helloWorld)
			vis := Visibility(c.cfg, route, nil)
			spec, err := MakeIngressSpec(c.cfg, route, tr, vis)
			if err != nil {
				t.Fatal(err)
			}
			if len(spec.Rules) != 1 || spec.Rules[0].Visibility != netv1alpha1.IngressVisibilityClusterLocal {
				t.Fatalf("MakeIngressSpec() rules = %+v, want one ClusterLocal rule", spec.Rules)
			}
			if want := []string{"hello.demo", "hello.demo.svc", "hello.demo.svc.cluster.local"}; !reflect.DeepEqual(spec.Rules[0].Hosts, want) {
				t.Errorf("cluster-local hosts = %v, want %v", spec.Rules[0].Hosts, want)
			}
			url, err := URLFor(c.cfg, route, DefaultTarget, vis[DefaultTarget])
			if err != nil || url != "http://hello.demo.svc.cluster.local" {
				t.Errorf("URLFor() = %q, %v; want http://hello.demo.svc.cluster.local", url, err)
			}
		})
	}
}

func TestMakeIngressSpec_H2CRevisionUsesPort81(t *testing.T) { // §6 splits: 81 for h2c
	r := rev("hello-00002", "hello", corev1.ConditionTrue)
	r.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "h2c", ContainerPort: 8080}}
	world := lookup(cfgWith("hello", "hello-00002", corev1.ConditionTrue), r)
	cfg := cfgFrom(t, exampleCom)
	route := newRoute("hello", servingv1.TrafficTarget{ConfigurationName: "hello", Percent: pct(100)})
	spec, err := MakeIngressSpec(cfg, route, flatten(t, route, world), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, rule := range spec.Rules {
		if got := rule.HTTP.Paths[0].Splits[0].ServicePort; got != intstr.FromInt32(81) {
			t.Errorf("%s rule split port = %v, want 81", rule.Visibility, got)
		}
	}
}

func TestMakeIngressSpec_TagHeaderBasedRouting(t *testing.T) { // §6 Tag header routing
	cfg := cfgFrom(t, map[string]map[string]string{
		config.DomainConfigName:   {"example.com": ""},
		config.FeaturesConfigName: {config.FeatureTagHeaderBasedRouting: "Enabled"},
	})
	route := newRoute("hello",
		servingv1.TrafficTarget{ConfigurationName: "hello", Percent: pct(100)},
		servingv1.TrafficTarget{RevisionName: "hello-00001", Tag: "old", Percent: pct(0)})
	spec, err := MakeIngressSpec(cfg, route, flatten(t, route, helloWorld), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Rules) != 4 {
		t.Fatalf("MakeIngressSpec() has %d rules, want 4", len(spec.Rules))
	}
	def := spec.Rules[1] // the default ExternalIP rule
	if len(def.HTTP.Paths) != 2 {
		t.Fatalf("default rule paths = %+v, want a tag-header path then the default path", def.HTTP.Paths)
	}
	tagPath, defPath := def.HTTP.Paths[0], def.HTTP.Paths[1]
	if !reflect.DeepEqual(tagPath.Headers, map[string]netv1alpha1.HeaderMatch{"Knative-Serving-Tag": {Exact: "old"}}) ||
		!reflect.DeepEqual(tagPath.Splits, []netv1alpha1.IngressBackendSplit{split("hello-00001", 100, 80)}) {
		t.Errorf("tag header path = %+v, want header Knative-Serving-Tag=old to 100%% hello-00001", tagPath)
	}
	if defPath.Headers != nil || defPath.AppendHeaders["Knative-Serving-Default-Route"] != "true" {
		t.Errorf("default path = %+v, want no match and Knative-Serving-Default-Route: true appended", defPath)
	}
	if got := spec.Rules[3].HTTP.Paths[0].AppendHeaders; !reflect.DeepEqual(got, map[string]string{"Knative-Serving-Tag": "old"}) {
		t.Errorf("tag rule appendHeaders = %v, want Knative-Serving-Tag: old", got)
	}
}

func TestMakeIngress_MetaAndClass(t *testing.T) { // §6 KIngress shape
	cfg := cfgFrom(t, map[string]map[string]string{config.DomainConfigName: {"example.com": ""},
		config.NetworkConfigName: {"ingress-class": "kourier.ingress.networking.knative.dev"}})
	route := newRoute("hello", servingv1.TrafficTarget{ConfigurationName: "hello", Percent: pct(100)})
	route.Annotations = map[string]string{serving.LastAppliedConfigurationAnnotation: "{}", "note": "x"}
	ing, err := MakeIngress(cfg, route, flatten(t, route, helloWorld), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{serving.IngressClassAnnotationKey: "kourier.ingress.networking.knative.dev", "note": "x"}; !reflect.DeepEqual(ing.Annotations, want) {
		t.Errorf("MakeIngress() annotations = %v, want %v", ing.Annotations, want)
	}
	if want := map[string]string{serving.ServiceLabelKey: "hello", serving.RouteLabelKey: "hello", serving.RouteNamespaceLabelKey: ns}; !reflect.DeepEqual(ing.Labels, want) {
		t.Errorf("MakeIngress() labels = %v, want %v", ing.Labels, want)
	}
	if ing.Name != "hello" || !kmeta.IsControlledBy(ing, route) || ing.OwnerReferences[0].Kind != "Route" {
		t.Errorf("MakeIngress() name/owner = %s/%+v, want hello controlled by the Route", ing.Name, ing.OwnerReferences)
	}
	route.Annotations[serving.IngressClassAnnotationKey] = "istio.ingress.networking.knative.dev"
	if got := IngressClass(cfg, route); got != "istio.ingress.networking.knative.dev" {
		t.Errorf("IngressClass(route annotation) = %q, want the Route's annotation to win", got)
	}
}

func TestVisibilityAndURLs_KnativeDomainRules(t *testing.T) { // §1.8
	cfg := cfgFrom(t, map[string]map[string]string{config.DomainConfigName: {
		"example.com": "",
		"prod.io":     "selector:\n  env: prod\n",
	}})
	route := newRoute("", servingv1.TrafficTarget{ConfigurationName: "hello", Percent: pct(100)},
		servingv1.TrafficTarget{RevisionName: "hello-00001", Tag: "old"})
	got, _ := URLFor(cfg, route, DefaultTarget, RouteVisibility(cfg, route))
	if got != "http://hello.demo.example.com" {
		t.Errorf("URLFor(default) = %q, want http://hello.demo.example.com", got)
	}
	route.Labels["env"] = "prod"
	if got, _ := URLFor(cfg, route, DefaultTarget, RouteVisibility(cfg, route)); got != "http://hello.demo.prod.io" {
		t.Errorf("URLFor(env=prod) = %q, want the more specific selector's domain http://hello.demo.prod.io", got)
	}
	// A tag placeholder Service labelled cluster-local makes only that tag cluster-local.
	placeholders := []corev1.Service{{ObjectMeta: metav1.ObjectMeta{Name: "old-hello",
		Labels: map[string]string{serving.VisibilityLabelKey: serving.VisibilityClusterLocal}}}}
	vis := Visibility(cfg, route, placeholders)
	if vis[DefaultTarget] != netv1alpha1.IngressVisibilityExternalIP || vis["old"] != netv1alpha1.IngressVisibilityClusterLocal {
		t.Errorf("Visibility() = %v, want default ExternalIP and old ClusterLocal", vis)
	}
	if got, _ := URLFor(cfg, route, "old", vis["old"]); got != "http://old-hello.demo.svc.cluster.local" {
		t.Errorf("URLFor(old) = %q, want http://old-hello.demo.svc.cluster.local", got)
	}
	if got := AddressURL(route); got != "http://hello.demo.svc.cluster.local" {
		t.Errorf("AddressURL() = %q, want http://hello.demo.svc.cluster.local", got)
	}
	https := cfgFrom(t, map[string]map[string]string{config.DomainConfigName: {"example.com": ""},
		config.NetworkConfigName: {"default-external-scheme": "https"}})
	delete(route.Labels, "env")
	if got, _ := URLFor(https, route, DefaultTarget, RouteVisibility(https, route)); got != "https://hello.demo.example.com" {
		t.Errorf("URLFor(default-external-scheme https) = %q, want https://hello.demo.example.com", got)
	}
}

func TestExpandedHosts(t *testing.T) { // §1.8 ExpandedHosts
	got := ExpandedHosts("hello.demo.svc.cluster.local")
	if want := []string{"hello.demo", "hello.demo.svc", "hello.demo.svc.cluster.local"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ExpandedHosts() = %v, want %v", got, want)
	}
	if got := ExpandedHosts("hello.demo.example.com"); !reflect.DeepEqual(got, []string{"hello.demo.example.com"}) {
		t.Errorf("ExpandedHosts(external) = %v, want it unchanged", got)
	}
}

func TestMakePlaceholderService(t *testing.T) { // §6 Placeholder services
	route := newRoute("hello")
	route.Labels[serving.VisibilityLabelKey] = serving.VisibilityClusterLocal
	svc := MakePlaceholderService(route, "old-hello", PlaceholderTarget(nil))
	if svc.Spec.Type != corev1.ServiceTypeExternalName || svc.Spec.ExternalName != "kourier-internal.kourier-system.svc.cluster.local" {
		t.Errorf("placeholder spec = %+v, want ExternalName to kourier-internal.kourier-system.svc.cluster.local", svc.Spec)
	}
	if want := map[string]string{serving.ServiceLabelKey: "hello", serving.RouteLabelKey: "hello"}; !reflect.DeepEqual(svc.Labels, want) {
		t.Errorf("placeholder labels = %v, want %v (no visibility label)", svc.Labels, want)
	}
	if !kmeta.IsControlledBy(svc, route) {
		t.Errorf("placeholder not controlled by the Route: %+v", svc.OwnerReferences)
	}
	ing := &netv1alpha1.Ingress{Status: netv1alpha1.IngressStatus{PrivateLoadBalancer: &netv1alpha1.LoadBalancerStatus{
		Ingress: []netv1alpha1.LoadBalancerIngressStatus{{DomainInternal: "private.gw.svc.cluster.local"}}}}}
	if got := PlaceholderTarget(ing); got != "private.gw.svc.cluster.local" {
		t.Errorf("PlaceholderTarget(ingress with private LB) = %q, want its domainInternal", got)
	}
}
