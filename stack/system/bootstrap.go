package system

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/podruntime"
)

// Addresses are the loopback IPs the system components answer on. Pods use 127.10.0.0 and up.
type Addresses struct {
	Activators  []string // default one, 127.0.1.1 (a default install runs one activator, scaled by an HPA)
	Autoscaler  string   // default 127.0.2.1
	Controller  string   // default 127.0.3.1
	Gateway     string   // default 127.0.4.1
	Webhook     string   // the webhook server's host
	WebhookPort int
}

// Slots is how many stacks can run side by side on one machine's loopback network.
const Slots = 30

// SlotAddresses are the component addresses and pod IP range of loopback slot n (0 ≤ n <
// Slots), so that stacks in different test processes never share a listener. Slot 0 is the
// default layout (activator 127.0.1.1, autoscaler 127.0.2.1, controller 127.0.3.1, gateway
// 127.0.4.1, pods from 127.10.0.1); slot n moves the third octet of the components up by 8n and
// gives its pods the second octets 10+8n … 17+8n (half a million addresses).
func SlotAddresses(n int) (Addresses, podruntime.IPRange, error) {
	if n < 0 || n >= Slots {
		return Addresses{}, podruntime.IPRange{}, fmt.Errorf("loopback slot %d out of range [0, %d)", n, Slots)
	}
	c := byte(8 * n)
	ip := func(third byte) string { return netip.AddrFrom4([4]byte{127, 0, c + third, 1}).String() }
	a := Addresses{Activators: []string{ip(1)}, Autoscaler: ip(2), Controller: ip(3), Gateway: ip(4)}
	second := byte(10 + 8*n)
	pods := podruntime.IPRange{First: netip.AddrFrom4([4]byte{127, second, 0, 1}), Last: netip.AddrFrom4([4]byte{127, second + 7, 255, 254})}
	return a, pods, nil
}

// SlotClaimAddress is where a process holds a listener to claim slot n for one stack.
func SlotClaimAddress(n int) string {
	return net.JoinHostPort(netip.AddrFrom4([4]byte{127, 0, byte(8*n) + 5, 1}).String(), "65001")
}

func (a *Addresses) defaults() {
	if len(a.Activators) == 0 {
		a.Activators = []string{"127.0.1.1"}
	}
	if a.Autoscaler == "" {
		a.Autoscaler = "127.0.2.1"
	}
	if a.Controller == "" {
		a.Controller = "127.0.3.1"
	}
	if a.Gateway == "" {
		a.Gateway = "127.0.4.1"
	}
	if a.Webhook == "" {
		a.Webhook = "127.0.0.1"
	}
	if a.WebhookPort == 0 {
		a.WebhookPort = 8443
	}
}

type port struct {
	name       string
	port       int32
	targetPort int32
}

type systemService struct {
	namespace, name string
	labels          map[string]string
	ips             []string
	ports           []port
}

// Bootstrap creates, if missing, the namespaces, the config-* ConfigMaps (with data, a
// Knative-style `_example` note plus the given overrides) and the selector-less system Services
// with Endpoints pointing at the in-process components. It is idempotent.
func Bootstrap(ctx context.Context, c client.Client, addrs Addresses, configData map[string]map[string]string) error {
	addrs.defaults()
	for _, ns := range []string{serving.SystemNamespace, serving.GatewayNamespace} {
		obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
			Labels: map[string]string{"app.kubernetes.io/part-of": "servingsim"}}}
		if err := createIfMissing(ctx, c, obj); err != nil {
			return err
		}
	}
	for _, name := range config.Names {
		data := map[string]string{"_example": "See Knative's " + name + " for the keys; servingsim reads the same ones."}
		for k, v := range configData[name] {
			data[k] = v
		}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: serving.SystemNamespace, Name: name,
			Labels: map[string]string{"app.kubernetes.io/part-of": "knative-serving"}}, Data: data}
		if err := createIfMissing(ctx, c, cm); err != nil {
			return err
		}
	}
	for _, s := range systemServices(addrs) {
		if err := ensureService(ctx, c, s); err != nil {
			return err
		}
	}
	return nil
}

func systemServices(a Addresses) []systemService {
	return []systemService{
		{serving.SystemNamespace, serving.ActivatorServiceName, map[string]string{"app": "activator"}, a.Activators, []port{
			{"http", serving.ServiceHTTPPort, serving.QueueHTTPPort}, {"http2", serving.ServiceH2CPort, serving.QueueH2CPort},
			{"https", serving.ServiceHTTPSPort, serving.QueueHTTPSPort}, {"http-metrics", 9090, 9090}}},
		{serving.SystemNamespace, serving.AutoscalerServiceName, map[string]string{"app": "autoscaler"}, []string{a.Autoscaler}, []port{
			{"http", 8080, 8080}, {"http-metrics", 9090, 9090}}},
		{serving.SystemNamespace, serving.ControllerServiceName, map[string]string{"app": "controller"}, []string{a.Controller}, []port{
			{"http-metrics", 9090, 9090}}},
		{serving.SystemNamespace, serving.WebhookServiceName, map[string]string{"app": "webhook"}, []string{a.Webhook}, []port{
			{"https-webhook", 443, int32(a.WebhookPort)}, {"http-metrics", 9090, 9090}}},
		{serving.GatewayNamespace, serving.GatewayServiceName, map[string]string{"app": "3scale-kourier-gateway"}, []string{a.Gateway}, []port{
			{"http2", 80, 8080}, {"https", 443, 8443}}},
		{serving.GatewayNamespace, serving.GatewayInternalServiceName, map[string]string{"app": "3scale-kourier-gateway"}, []string{a.Gateway}, []port{
			{"http2", 80, 8081}}},
	}
}

func ensureService(ctx context.Context, c client.Client, s systemService) error {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: s.namespace, Name: s.name, Labels: s.labels}}
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: s.namespace, Name: s.name, Labels: s.labels}} //nolint:staticcheck // Knative reads v1 Endpoints
	subset := corev1.EndpointSubset{}                                                                              //nolint:staticcheck
	for _, ip := range s.ips {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("service %s/%s: %q is not an IP address", s.namespace, s.name, ip)
		}
		// The API server refuses loopback IPs in Endpoints; publish the 10.x stand-in that every
		// consumer maps back with podruntime.PodIP before dialing.
		subset.Addresses = append(subset.Addresses, corev1.EndpointAddress{IP: podruntime.EndpointIP(ip)}) //nolint:staticcheck
	}
	for _, p := range s.ports {
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: p.name, Port: p.port, TargetPort: intstr.FromInt32(p.targetPort), Protocol: corev1.ProtocolTCP})
		subset.Ports = append(subset.Ports, corev1.EndpointPort{Name: p.name, Port: p.targetPort, Protocol: corev1.ProtocolTCP}) //nolint:staticcheck
	}
	ep.Subsets = []corev1.EndpointSubset{subset} //nolint:staticcheck
	if err := createIfMissing(ctx, c, svc); err != nil {
		return err
	}
	// Endpoints follow the component addresses of this run, so they are overwritten.
	existing := &corev1.Endpoints{} //nolint:staticcheck
	if err := c.Get(ctx, client.ObjectKeyFromObject(ep), existing); err == nil {
		existing.Subsets = ep.Subsets
		return c.Update(ctx, existing)
	}
	return createIfMissing(ctx, c, ep)
}

func createIfMissing(ctx context.Context, c client.Client, obj client.Object) error {
	if err := c.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create %T %s/%s: %w", obj, obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}
