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
