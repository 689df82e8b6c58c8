//nolint:staticcheck // the SKS writes core/v1 Endpoints (§3.6)
package gateway

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/servingsim/servingsim/stack/apis"
)

func TestClientEndpoints_ReadyLoopbackAddrsOfHTTPPort(t *testing.T) {
	eps := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: "hello-00001"},
		Subsets: []corev1.EndpointSubset{
			{
				Addresses:         []corev1.EndpointAddress{{IP: "10.10.0.3"}, {IP: "10.10.0.2"}},
				NotReadyAddresses: []corev1.EndpointAddress{{IP: "10.10.0.9"}},
				Ports:             []corev1.EndpointPort{{Name: "https", Port: 8112}, {Name: "http", Port: 8012}},
			},
			{ // no http port: not an upstream for the gateway
				Addresses: []corev1.EndpointAddress{{IP: "10.10.0.7"}},
				Ports:     []corev1.EndpointPort{{Name: "http-metrics", Port: 9090}},
			},
		},
	}
	c := fake.NewClientBuilder().WithScheme(apis.NewScheme()).WithObjects(eps).Build()
	r := NewClientEndpoints(c)
	ctx := context.Background()

	got, err := r.ReadyAddrs(ctx, testNS, "hello-00001")
	want := []string{"127.10.0.2:8012", "127.10.0.3:8012"}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("ReadyAddrs() = %v, %v; want %v (ready only, 10.x mapped to 127.x, http target port, sorted)", got, err, want)
	}
	again, _ := r.ReadyAddrs(ctx, testNS, "hello-00001")
	if &again[0] != &got[0] {
		t.Error("ReadyAddrs() recomputed an unchanged Endpoints, want the memoised slice")
	}

	// The SKS flips to Proxy mode: the public Endpoints now list the activator.
	eps.Subsets = []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: "10.0.1.1"}},
		Ports: []corev1.EndpointPort{{Name: "http", Port: 8012}}}}
	if err := c.Update(ctx, eps); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.ReadyAddrs(ctx, testNS, "hello-00001"); !slices.Equal(got, []string{"127.0.1.1:8012"}) {
		t.Errorf("ReadyAddrs() after the switch = %v, want [127.0.1.1:8012]", got)
	}

	if got, err := r.ReadyAddrs(ctx, testNS, "missing"); err != nil || got != nil {
		t.Errorf("ReadyAddrs(missing) = %v, %v; want nil, nil (no healthy upstream)", got, err)
	}
}
