//nolint:staticcheck // Knative's public Services are backed by core/v1 Endpoints the SKS writes (§3.6).
package gateway

import (
	"context"
	"net"
	"slices"
	"strconv"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/podruntime"
)

// EndpointsReader gives the gateway the ready upstreams of a K8s Service: "ip:port" addresses
// it can dial (loopback pod or activator IPs, the target port of the Service's "http" port).
// The result is shared and read-only; no Endpoints (or none ready) is an empty result, not an
// error.
type EndpointsReader interface {
	ReadyAddrs(ctx context.Context, namespace, name string) ([]string, error)
}

// EndpointsFunc adapts a function to EndpointsReader.
type EndpointsFunc func(ctx context.Context, namespace, name string) ([]string, error)

// ReadyAddrs calls f.
func (f EndpointsFunc) ReadyAddrs(ctx context.Context, namespace, name string) ([]string, error) {
	return f(ctx, namespace, name)
}

var _ EndpointsReader = EndpointsFunc(nil)

// ClientEndpoints reads core/v1 Endpoints through a controller-runtime client.Reader (the
// manager's cache in the system). The gateway follows the revision's public Service, so it
// sends to pods in Serve mode and to the activator in Proxy mode without knowing which
// (§6 Data path). Addresses are converted once per Endpoints resourceVersion, so the hot path
// is a cache read and a map hit.
type ClientEndpoints struct {
	reader client.Reader
	memo   sync.Map // types.NamespacedName → *endpointsMemo
}

type endpointsMemo struct {
	resourceVersion string
	addrs           []string
}

var _ EndpointsReader = (*ClientEndpoints)(nil)

// NewClientEndpoints returns a reader over r.
func NewClientEndpoints(r client.Reader) *ClientEndpoints { return &ClientEndpoints{reader: r} }

// ReadyAddrs returns the ready addresses of Endpoints namespace/name, each 10.x stand-in mapped
// back to its loopback IP with podruntime.PodIP, sorted.
func (c *ClientEndpoints) ReadyAddrs(ctx context.Context, namespace, name string) ([]string, error) {
	key := types.NamespacedName{Namespace: namespace, Name: name}
	var eps corev1.Endpoints
	// Read-only use: skip the cache's deep copy.
	if err := c.reader.Get(ctx, key, &eps, client.UnsafeDisableDeepCopy); err != nil {
		if apierrors.IsNotFound(err) {
			c.memo.Delete(key)
			return nil, nil
		}
		return nil, err
	}
	if m, ok := c.memo.Load(key); ok {
		if m := m.(*endpointsMemo); eps.ResourceVersion != "" && m.resourceVersion == eps.ResourceVersion {
			return m.addrs, nil
		}
	}
	addrs := ReadyAddrs(&eps)
	c.memo.Store(key, &endpointsMemo{resourceVersion: eps.ResourceVersion, addrs: addrs})
	return addrs, nil
}

// ReadyAddrs lists the ready "ip:port" upstreams of eps: every ready address of each subset
// that has an "http" port, at that port's (target) number, IPs mapped to loopback, sorted so
// seeded endpoint choices repeat.
func ReadyAddrs(eps *corev1.Endpoints) []string {
	var addrs []string
	for _, ss := range eps.Subsets {
		port, ok := httpPort(ss.Ports)
		if !ok {
			continue
		}
		p := strconv.Itoa(int(port))
		for _, a := range ss.Addresses { // NotReadyAddresses are never dialled
			addrs = append(addrs, net.JoinHostPort(podruntime.PodIP(a.IP), p))
		}
	}
	slices.Sort(addrs)
	return slices.Compact(addrs)
}

func httpPort(ports []corev1.EndpointPort) (int32, bool) {
	for _, p := range ports {
		if p.Name == serving.ServicePortNameHTTP1 {
			return p.Port, true
		}
	}
	// A single unnamed port is the Service's only port.
	if len(ports) == 1 && ports[0].Name == "" {
		return ports[0].Port, true
	}
	return 0, false
}
