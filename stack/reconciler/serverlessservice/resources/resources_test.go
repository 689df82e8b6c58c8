//nolint:staticcheck // Knative reads and writes core/v1 Endpoints (§3.6); the pod runtime keeps them.
package resources

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
)

func testSKS(proto string) *netv1alpha1.ServerlessService {
	return &netv1alpha1.ServerlessService{
		ObjectMeta: metav1.ObjectMeta{Name: "hello-00001", Namespace: "ns", UID: "sks-uid",
			Labels: map[string]string{serving.RevisionLabelKey: "hello-00001"}},
		Spec: netv1alpha1.ServerlessServiceSpec{Mode: netv1alpha1.SKSOperationModeServe, ProtocolType: proto, NumActivators: 2},
	}
}

type port struct {
	name         string
	port, target int32
}

func ports(s *corev1.Service) []port {
	var out []port
	for _, p := range s.Spec.Ports {
		out = append(out, port{p.Name, p.Port, p.TargetPort.IntVal})
	}
	return out
}

func TestMakePrivateService_Section3_6(t *testing.T) {
	sel := map[string]string{serving.RevisionUIDLabelKey: "rev-uid"}
	cases := []struct {
		proto string
		want  []port
	}{
		{"http1", []port{{"http", 80, 8012}, {"https", 443, 8112}, {"http-autometric", 9090, 9090}, {"http-usermetric", 9091, 9091}, {"queue-admin", 8022, 8022}, {"http-istio", 8012, 8012}}},
		{"h2c", []port{{"http2", 81, 8013}, {"https", 443, 8112}, {"http-autometric", 9090, 9090}, {"http-usermetric", 9091, 9091}, {"queue-admin", 8022, 8022}, {"http2-istio", 8013, 8013}}},
	}
	for _, c := range cases {
		svc := MakePrivateService(testSKS(c.proto), sel)
		if svc.Name != "hello-00001-private" || svc.Namespace != "ns" {
			t.Errorf("MakePrivateService(%s) name = %s/%s, want ns/hello-00001-private", c.proto, svc.Namespace, svc.Name)
		}
		if fmt.Sprint(ports(svc)) != fmt.Sprint(c.want) {
			t.Errorf("MakePrivateService(%s) ports = %v, want %v", c.proto, ports(svc), c.want)
		}
		if len(svc.Spec.Selector) != 1 || svc.Spec.Selector[serving.RevisionUIDLabelKey] != "rev-uid" {
			t.Errorf("MakePrivateService selector = %v, want revisionUID", svc.Spec.Selector)
		}
		if svc.Labels[serving.ServiceTypeKey] != "Private" || svc.Labels[serving.SKSLabelKey] != "hello-00001" || svc.Labels[serving.RevisionLabelKey] != "hello-00001" {
			t.Errorf("MakePrivateService labels = %v", svc.Labels)
		}
		if ref := metav1.GetControllerOf(svc); ref == nil || ref.Kind != "ServerlessService" || ref.UID != "sks-uid" {
			t.Errorf("MakePrivateService controller = %+v, want the SKS", ref)
		}
	}
}

func TestMakePublicService_Section3_6(t *testing.T) {
	for proto, want := range map[string][]port{
		"http1": {{"http", 80, 8012}, {"https", 443, 8112}},
		"h2c":   {{"http2", 81, 8013}, {"https", 443, 8112}},
	} {
		svc := MakePublicService(testSKS(proto))
		if svc.Name != "hello-00001" || svc.Spec.Selector != nil {
			t.Errorf("MakePublicService(%s) = %s selector %v, want hello-00001 without selector", proto, svc.Name, svc.Spec.Selector)
		}
		if fmt.Sprint(ports(svc)) != fmt.Sprint(want) {
			t.Errorf("MakePublicService(%s) ports = %v, want %v", proto, ports(svc), want)
		}
		if svc.Labels[serving.ServiceTypeKey] != "Public" {
			t.Errorf("MakePublicService labels = %v, want serviceType Public", svc.Labels)
		}
	}
}

func ips(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("127.0.1.%d", i+1)
	}
	return out
}

func TestChooseSubset_ConsistentHashing_Section3_6(t *testing.T) {
	all := ips(10)
	a := ChooseSubset(all, 3, "hello-00001")
	if len(a) != 3 {
		t.Fatalf("ChooseSubset(10, 3) chose %d, want 3", len(a))
	}
	// Deterministic and independent of input order.
	rev := append([]string(nil), all...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	if b := ChooseSubset(rev, 3, "hello-00001"); fmt.Sprint(keys(a)) != fmt.Sprint(keys(b)) {
		t.Errorf("ChooseSubset depends on input order: %v vs %v", keys(a), keys(b))
	}
	// Removing an activator that was not chosen changes nothing; removing a chosen one
	// replaces only that one.
	var notChosen, chosen string
	for _, ip := range all {
		if _, ok := a[ip]; ok {
			chosen = ip
		} else {
			notChosen = ip
		}
	}
	if b := ChooseSubset(without(all, notChosen), 3, "hello-00001"); fmt.Sprint(keys(a)) != fmt.Sprint(keys(b)) {
		t.Errorf("removing unchosen %s changed the subset: %v → %v", notChosen, keys(a), keys(b))
	}
	b := ChooseSubset(without(all, chosen), 3, "hello-00001")
	kept := 0
	for ip := range b {
		if _, ok := a[ip]; ok {
			kept++
		}
	}
	if kept != 2 {
		t.Errorf("removing chosen %s kept %d of the other chosen, want 2 (%v → %v)", chosen, kept, keys(a), keys(b))
	}
	// Different revisions spread over different activators.
	counts := map[string]int{}
	for i := range 200 {
		for ip := range ChooseSubset(all, 2, fmt.Sprintf("rev-%d", i)) {
			counts[ip]++
		}
	}
	for _, ip := range all {
		if counts[ip] < 20 || counts[ip] > 60 {
			t.Errorf("activator %s backs %d of 200 revisions (×2), want roughly 40", ip, counts[ip])
		}
	}
	if got := ChooseSubset(all[:2], 3, "x"); len(got) != 2 {
		t.Errorf("ChooseSubset(2 candidates, 3) = %v, want both", keys(got))
	}
}

func keys(m map[string]struct{}) []string {
	var out []string
	for _, ip := range ips(10) {
		if _, ok := m[ip]; ok {
			out = append(out, ip)
		}
	}
	return out
}

func without(all []string, drop string) []string {
	var out []string
	for _, s := range all {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

func activatorSubsets(n int) []corev1.EndpointSubset {
	ss := corev1.EndpointSubset{Ports: []corev1.EndpointPort{
		{Name: "http", Port: 8012}, {Name: "http2", Port: 8013}, {Name: "https", Port: 8112}, {Name: "http-metrics", Port: 9090},
	}}
	for _, ip := range ips(n) {
		ss.Addresses = append(ss.Addresses, corev1.EndpointAddress{IP: ip})
	}
	return []corev1.EndpointSubset{ss}
}

func TestSubsetEndpoints_Section3_6(t *testing.T) {
	got := SubsetEndpoints(activatorSubsets(5), "hello-00001", 2)
	if ReadyAddressCount(got) != 2 {
		t.Errorf("SubsetEndpoints(5 activators, 2) kept %d addresses, want 2", ReadyAddressCount(got))
	}
	want := ChooseSubset(ips(5), 2, "hello-00001")
	for _, a := range got[0].Addresses {
		if _, ok := want[a.IP]; !ok {
			t.Errorf("SubsetEndpoints kept %s, not in the consistent-hash choice %v", a.IP, keys(want))
		}
	}
	if got := SubsetEndpoints(activatorSubsets(2), "hello-00001", 3); ReadyAddressCount(got) != 2 {
		t.Errorf("SubsetEndpoints(2 activators, 3) = %d addresses, want all 2", ReadyAddressCount(got))
	}
}

func TestPublicSubsets_KeepsServingAndTLSPortsUnderPublicNames_Section3_6(t *testing.T) {
	private := []corev1.EndpointSubset{{
		Addresses: []corev1.EndpointAddress{{IP: "127.0.0.10"}},
		Ports: []corev1.EndpointPort{
			{Name: "http", Port: 8012}, {Name: "https", Port: 8112}, {Name: "http-autometric", Port: 9090},
			{Name: "http-istio", Port: 8012}, {Name: "queue-admin", Port: 8022},
		},
	}}
	got := PublicSubsets(testSKS("http1"), private)
	if len(got) != 1 || fmt.Sprint(got[0].Ports) != fmt.Sprint([]corev1.EndpointPort{{Name: "http", Port: 8012, Protocol: "TCP"}, {Name: "https", Port: 8112, Protocol: "TCP"}}) {
		t.Errorf("PublicSubsets(private, http1) = %+v, want http:8012 and https:8112 once each", got)
	}
	got = PublicSubsets(testSKS("h2c"), activatorSubsets(1))
	if fmt.Sprint(got[0].Ports) != fmt.Sprint([]corev1.EndpointPort{{Name: "http2", Port: 8013, Protocol: "TCP"}, {Name: "https", Port: 8112, Protocol: "TCP"}}) {
		t.Errorf("PublicSubsets(activator, h2c) ports = %+v, want http2:8013 and https:8112", got[0].Ports)
	}
	if got := PublicSubsets(testSKS("http1"), []corev1.EndpointSubset{{Ports: []corev1.EndpointPort{{Port: 8012}}}}); got != nil {
		t.Errorf("PublicSubsets(no addresses) = %+v, want nil", got)
	}
}
