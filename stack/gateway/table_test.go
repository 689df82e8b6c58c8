package gateway

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
)

func ingress(name string, hosts ...string) *netv1alpha1.Ingress {
	return &netv1alpha1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
		Spec: netv1alpha1.IngressSpec{Rules: []netv1alpha1.IngressRule{{
			Hosts: hosts, Visibility: netv1alpha1.IngressVisibilityExternalIP,
			HTTP: &netv1alpha1.HTTPIngressRuleValue{Paths: []netv1alpha1.HTTPIngressPath{
				{Splits: []netv1alpha1.IngressBackendSplit{{ServiceName: "a", Percent: 100}}},
				{Headers: map[string]netv1alpha1.HeaderMatch{"Knative-Serving-Tag": {Exact: "t"}}},
			}},
		}}},
	}
}

func TestTableHostMatchingIgnoresPortAndCase(t *testing.T) {
	tb := NewTable()
	tb.Set(ingress("hello", "hello.ns.example.com", "hello.ns"))
	for _, h := range []string{"hello.ns.example.com", "HELLO.ns.example.com:8080", "hello.ns"} {
		r, ok := tb.Lookup(h)
		if !ok || r.Ingress != (types.NamespacedName{Namespace: "ns", Name: "hello"}) {
			t.Errorf("Lookup(%q) = %v, %v; want the hello ingress", h, r, ok)
		}
	}
	if r, _ := tb.Lookup("hello.ns"); len(r.Paths[0].Headers) == 0 {
		t.Errorf("Lookup(hello.ns).Paths[0] has no header match; want header-matching paths first")
	}
	if _, ok := tb.Lookup("other.ns"); ok {
		t.Error("Lookup(other.ns) found a route; want none")
	}
}

func TestTableReprogramRemovesStaleHosts(t *testing.T) {
	tb := NewTable()
	tb.Set(ingress("hello", "a.ns", "b.ns"))
	tb.Set(ingress("hello", "a.ns"))
	if _, ok := tb.Lookup("b.ns"); ok {
		t.Error("b.ns still routed after the ingress dropped it")
	}
	tb.Delete(types.NamespacedName{Namespace: "ns", Name: "hello"})
	if tb.Len() != 0 {
		t.Errorf("Len() after Delete = %d, want 0", tb.Len())
	}
}

// With the default domain svc.cluster.local a route's external host is also one of its
// cluster-local hosts (§1.8): each listener must still find its own rule, and deleting the
// ingress must drop both.
func TestTableLookupByVisibility_Section6(t *testing.T) {
	tb := NewTable()
	ing := ingress("hello", "hello.ns.svc.cluster.local")
	local := ing.Spec.Rules[0]
	local.Visibility = netv1alpha1.IngressVisibilityClusterLocal
	local.Hosts = []string{"hello.ns", "hello.ns.svc.cluster.local"}
	ing.Spec.Rules = append(ing.Spec.Rules, local)
	tb.Set(ing)
	cases := []struct {
		name   string
		lookup func(string) (Route, bool)
		host   string
		want   netv1alpha1.IngressVisibility
		found  bool
	}{
		{"external", tb.LookupExternal, "hello.ns.svc.cluster.local", netv1alpha1.IngressVisibilityExternalIP, true},
		{"external", tb.LookupExternal, "hello.ns", "", false},
		{"internal", tb.LookupInternal, "hello.ns.svc.cluster.local", netv1alpha1.IngressVisibilityClusterLocal, true},
		{"internal", tb.LookupInternal, "hello.ns", netv1alpha1.IngressVisibilityClusterLocal, true},
		{"any", tb.Lookup, "hello.ns.svc.cluster.local", netv1alpha1.IngressVisibilityExternalIP, true},
	}
	for _, c := range cases {
		r, ok := c.lookup(c.host)
		if ok != c.found || r.Visibility != c.want {
			t.Errorf("%s lookup(%q) = %q, %v; want %q, %v", c.name, c.host, r.Visibility, ok, c.want, c.found)
		}
	}
	tb.Delete(types.NamespacedName{Namespace: "ns", Name: "hello"})
	if _, ok := tb.LookupInternal("hello.ns.svc.cluster.local"); ok || tb.Len() != 0 {
		t.Errorf("after Delete: internal lookup found a route or Len() = %d; want nothing", tb.Len())
	}
}

func TestTableHostClaimedByAnotherIngressSurvivesDelete(t *testing.T) {
	tb := NewTable()
	tb.Set(ingress("old", "shared.ns"))
	tb.Set(ingress("new", "shared.ns"))
	tb.Delete(types.NamespacedName{Namespace: "ns", Name: "old"})
	if r, ok := tb.Lookup("shared.ns"); !ok || r.Ingress.Name != "new" {
		t.Errorf("Lookup(shared.ns) after deleting the old owner = %v, %v; want the new ingress", r.Ingress, ok)
	}
}
