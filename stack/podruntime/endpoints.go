//nolint:staticcheck // kube-controller-manager still writes core/v1 Endpoints, and Knative reads them (§3.6).
package podruntime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// Labels and names of kube-controller-manager's endpoint controllers.
const (
	// EndpointsManagedByLabel marks Endpoints written by the endpoints controller.
	EndpointsManagedByLabel = "endpoints.kubernetes.io/managed-by"
	// EndpointsControllerName is its value.
	EndpointsControllerName = "endpoint-controller"
	// EndpointSliceControllerName is the managed-by value of EndpointSlices we write.
	EndpointSliceControllerName = "endpointslice-controller.k8s.io"
	// maxEndpointsPerSlice is the controller's default --max-endpoints-per-slice.
	maxEndpointsPerSlice = 100
)

// endpointsReconciler is kube-controller-manager's endpoints and endpointslice controllers: for
// every Service with a selector it keeps core/v1 Endpoints and discovery.k8s.io/v1
// EndpointSlices listing the matching pods. Pod IPs are published through EndpointIP (the API
// refuses loopback addresses there).
type endpointsReconciler struct {
	rt *Runtime
}

var _ reconcile.Reconciler = (*endpointsReconciler)(nil)

// serviceSelectorIndex indexes Services by each key=value pair of their selector, so a pod event
// finds the Services that may select the pod from its labels instead of scanning the namespace.
const serviceSelectorIndex = "servingsim.podruntime/selector"

func indexServiceSelector(o client.Object) []string {
	svc, ok := o.(*corev1.Service)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(svc.Spec.Selector))
	for k, v := range svc.Spec.Selector {
		out = append(out, k+"="+v)
	}
	return out
}

func (r *endpointsReconciler) setup(mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &corev1.Service{}, serviceSelectorIndex, indexServiceSelector); err != nil {
		return fmt.Errorf("index services by selector: %w", err)
	}
	managedEndpoints := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetLabels()[EndpointsManagedByLabel] == EndpointsControllerName
	})
	managedSlices := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetLabels()[discoveryv1.LabelManagedBy] == EndpointSliceControllerName
	})
	sliceToService := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		name := o.GetLabels()[discoveryv1.LabelServiceName]
		if name == "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: name}}}
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("podruntime-endpoints").
		For(&corev1.Service{}).
		Watches(&corev1.Pod{}, r.podHandler()).
		// Like the real controller, react to our Endpoints being deleted (and recreate them).
		Watches(&corev1.Endpoints{}, &handler.EnqueueRequestForObject{}, builder.WithPredicates(managedEndpoints, predicate.Funcs{
			CreateFunc: func(event.CreateEvent) bool { return false },
			UpdateFunc: func(event.UpdateEvent) bool { return false },
		})).
		Watches(&discoveryv1.EndpointSlice{}, sliceToService, builder.WithPredicates(managedSlices)).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.rt.opts.Workers}).
		Complete(r)
}

// podHandler enqueues the Services selecting a pod before and after a change that matters to
// endpoints (labels, IP, readiness, termination, node).
func (r *endpointsReconciler) podHandler() handler.EventHandler {
	enqueue := func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request], pods ...client.Object) {
		for _, p := range pods {
			// A Service selecting the pod is indexed under each of its selector's pairs, all of
			// which the pod carries: look it up under the pod's labels and check the rest.
			for k, v := range p.GetLabels() {
				svcs := &corev1.ServiceList{}
				if err := r.rt.client.List(ctx, svcs, client.InNamespace(p.GetNamespace()),
					client.MatchingFields{serviceSelectorIndex: k + "=" + v}, client.UnsafeDisableDeepCopy); err != nil { // read-only
					return
				}
				for i := range svcs.Items {
					if s := &svcs.Items[i]; selects(s.Spec.Selector, p.GetLabels()) {
						q.Add(reconcile.Request{NamespacedName: client.ObjectKeyFromObject(s)})
					}
				}
			}
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, q, e.Object)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			o, okO := e.ObjectOld.(*corev1.Pod)
			n, okN := e.ObjectNew.(*corev1.Pod)
			if okO && okN && !podEndpointsChanged(o, n) {
				return
			}
			enqueue(ctx, q, e.ObjectOld, e.ObjectNew)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, q, e.Object)
		},
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, q, e.Object)
		},
	}
}

// selects reports whether a Service selector matches labels, as labels.SelectorFromSet would,
// without building a selector: this runs for every Service of a namespace on every pod change.
func selects(selector, lbls map[string]string) bool {
	for k, v := range selector {
		if have, ok := lbls[k]; !ok || have != v {
			return false
		}
	}
	return true
}

// podEndpointsChanged reports a pod change that can change its endpoints.
func podEndpointsChanged(o, n *corev1.Pod) bool {
	return !labels.Equals(o.Labels, n.Labels) || o.Status.PodIP != n.Status.PodIP ||
		isPodReady(o) != isPodReady(n) || (o.DeletionTimestamp == nil) != (n.DeletionTimestamp == nil) ||
		podTerminal(o) != podTerminal(n) || o.Spec.NodeName != n.Spec.NodeName ||
		o.Spec.Hostname != n.Spec.Hostname || o.Spec.Subdomain != n.Spec.Subdomain
}

func podTerminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// shouldBeInEndpoints is endpointslice util.ShouldPodBeInEndpoints.
func shouldBeInEndpoints(p *corev1.Pod, includeTerminating bool) bool {
	if podTerminal(p) || p.Status.PodIP == "" {
		return false
	}
	return includeTerminating || p.DeletionTimestamp == nil
}

func headless(s *corev1.Service) bool { return s.Spec.ClusterIP == corev1.ClusterIPNone }

func setHostname(p *corev1.Pod, s *corev1.Service) bool {
	return p.Spec.Hostname != "" && p.Spec.Subdomain == s.Name && p.Namespace == s.Namespace
}

// findPort is endpointslice FindPort: a named targetPort is looked up among the pod's container
// ports (and restartable init containers), a number is used as is.
func findPort(p *corev1.Pod, sp *corev1.ServicePort) (int32, bool) {
	switch sp.TargetPort.Type {
	case intstr.String:
		name := sp.TargetPort.StrVal
		for _, c := range p.Spec.Containers {
			for _, port := range c.Ports {
				if port.Name == name && port.Protocol == sp.Protocol {
					return port.ContainerPort, true
				}
			}
		}
		for _, c := range p.Spec.InitContainers {
			if c.RestartPolicy == nil || *c.RestartPolicy != corev1.ContainerRestartPolicyAlways {
				continue
			}
			for _, port := range c.Ports {
				if port.Name == name && port.Protocol == sp.Protocol {
					return port.ContainerPort, true
				}
			}
		}
	case intstr.Int:
		v := sp.TargetPort.IntVal
		if v == 0 {
			v = sp.Port
		}
		return v, true
	}
	return 0, false
}

// Reconcile implements reconcile.Reconciler.
func (r *endpointsReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if req.Namespace == metav1.NamespaceDefault && req.Name == "kubernetes" {
		return ctrl.Result{}, nil
	}
	svc := &corev1.Service{}
	if err := r.rt.client.Get(ctx, req.NamespacedName, svc); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, err
		}
		// Gone: drop what we wrote (only ours: a selector-less Service's Endpoints belong to
		// whoever wrote them, and the cache may not show a just-created Service yet).
		ep := &corev1.Endpoints{}
		if err := r.rt.client.Get(ctx, req.NamespacedName, ep); err == nil && ep.Labels[EndpointsManagedByLabel] == EndpointsControllerName {
			if err := r.rt.client.Delete(ctx, ep); err != nil && !apierrors.IsNotFound(err) {
				return ctrl.Result{}, err
			}
		}
		return ctrl.Result{}, r.syncSlices(ctx, req.Namespace, req.Name, nil, nil)
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName || svc.Spec.Selector == nil {
		return ctrl.Result{}, r.syncSlices(ctx, svc.Namespace, svc.Name, nil, nil)
	}
	pods := &corev1.PodList{}
	if err := r.rt.client.List(ctx, pods, client.InNamespace(svc.Namespace), client.MatchingLabels(svc.Spec.Selector)); err != nil {
		return ctrl.Result{}, err
	}
	// The two controllers are independent in Kubernetes: write Endpoints and EndpointSlices at
	// once, so a pod change behind this reconcile waits for one round trip, not two.
	var wg sync.WaitGroup
	var epErr error
	wg.Go(func() { epErr = r.syncEndpoints(ctx, svc, pods.Items) })
	sliceErr := r.syncSlices(ctx, svc.Namespace, svc.Name, svc, desiredSlices(svc, pods.Items))
	wg.Wait()
	return ctrl.Result{}, errors.Join(epErr, sliceErr)
}

// endpointAddress is a pod's address entry.
func endpointAddress(p *corev1.Pod, s *corev1.Service) corev1.EndpointAddress {
	a := corev1.EndpointAddress{IP: EndpointIP(p.Status.PodIP),
		TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID}}
	if p.Spec.NodeName != "" {
		a.NodeName = ptr.To(p.Spec.NodeName)
	}
	if setHostname(p, s) {
		a.Hostname = p.Spec.Hostname
	}
	return a
}

// desiredSubsets is the endpoints controller's subsets, repacked: pods grouped by the ports they
// offer, ready ones in addresses and the rest in notReadyAddresses; terminating pods left out.
func desiredSubsets(s *corev1.Service, pods []corev1.Pod) []corev1.EndpointSubset {
	type group struct {
		ports           []corev1.EndpointPort
		ready, notReady []corev1.EndpointAddress
	}
	groups := map[string]*group{}
	for i := range pods {
		p := &pods[i]
		if !shouldBeInEndpoints(p, s.Spec.PublishNotReadyAddresses) {
			continue
		}
		var ports []corev1.EndpointPort
		if len(s.Spec.Ports) == 0 {
			if !headless(s) {
				continue
			}
		} else {
			for j := range s.Spec.Ports {
				sp := &s.Spec.Ports[j]
				if n, ok := findPort(p, sp); ok {
					ports = append(ports, corev1.EndpointPort{Name: sp.Name, Port: n, Protocol: sp.Protocol, AppProtocol: sp.AppProtocol})
				}
			}
			if len(ports) == 0 {
				continue
			}
		}
		slices.SortFunc(ports, func(a, b corev1.EndpointPort) int {
			return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Protocol, b.Protocol))
		})
		key := portsKey(ports)
		g, ok := groups[key]
		if !ok {
			g = &group{ports: ports}
			groups[key] = g
		}
		if s.Spec.PublishNotReadyAddresses || isPodReady(p) {
			g.ready = append(g.ready, endpointAddress(p, s))
		} else {
			g.notReady = append(g.notReady, endpointAddress(p, s))
		}
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := []corev1.EndpointSubset{}
	for _, k := range keys {
		g := groups[k]
		sortAddresses(g.ready)
		sortAddresses(g.notReady)
		out = append(out, corev1.EndpointSubset{Addresses: g.ready, NotReadyAddresses: g.notReady, Ports: g.ports})
	}
	return out
}

func portsKey[P any](ports []P) string {
	var b strings.Builder
	for _, p := range ports {
		fmt.Fprintf(&b, "%+v;", p)
	}
	return b.String()
}

func compareIPs(a, b string) int {
	x, errX := netip.ParseAddr(a)
	y, errY := netip.ParseAddr(b)
	if errX != nil || errY != nil {
		return cmp.Compare(a, b)
	}
	return x.Compare(y)
}

func sortAddresses(as []corev1.EndpointAddress) {
	slices.SortFunc(as, func(a, b corev1.EndpointAddress) int {
		c := compareIPs(a.IP, b.IP)
		if c == 0 && a.TargetRef != nil && b.TargetRef != nil {
			c = cmp.Compare(a.TargetRef.Name, b.TargetRef.Name)
		}
		return c
	})
}

// serviceLabels are the labels the endpoint controllers copy from a Service, minus reserved ones.
func serviceLabels(s *corev1.Service, reserved ...string) map[string]string {
	out := map[string]string{}
	for k, v := range s.Labels {
		if !slices.Contains(reserved, k) {
			out[k] = v
		}
	}
	if headless(s) {
		out[corev1.IsHeadlessService] = ""
	} else {
		delete(out, corev1.IsHeadlessService)
	}
	return out
}

func (r *endpointsReconciler) syncEndpoints(ctx context.Context, s *corev1.Service, pods []corev1.Pod) error {
	subsets := desiredSubsets(s, pods)
	lbls := serviceLabels(s, EndpointsManagedByLabel, corev1.IsHeadlessService)
	lbls[EndpointsManagedByLabel] = EndpointsControllerName
	cur := &corev1.Endpoints{}
	err := r.rt.client.Get(ctx, client.ObjectKeyFromObject(s), cur)
	switch {
	case apierrors.IsNotFound(err):
		ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: s.Namespace, Labels: lbls}, Subsets: subsets}
		if err := r.rt.client.Create(ctx, ep); err != nil {
			// AlreadyExists: the cache is behind; the retry compares against fresh state.
			return fmt.Errorf("create endpoints %s/%s: %w", s.Namespace, s.Name, err)
		}
		return nil
	case err != nil:
		return err
	}
	if equality.Semantic.DeepEqual(cur.Subsets, subsets) && equality.Semantic.DeepEqual(cur.Labels, lbls) {
		return nil
	}
	up := cur.DeepCopy()
	up.Subsets, up.Labels = subsets, lbls
	if err := r.rt.client.Update(ctx, up); err != nil {
		return fmt.Errorf("update endpoints %s/%s: %w", s.Namespace, s.Name, err)
	}
	return nil
}

// sliceSpec is one desired EndpointSlice.
type sliceSpec struct {
	ports     []discoveryv1.EndpointPort
	endpoints []discoveryv1.Endpoint
}

// desiredSlices is the endpointslice controller's view: every non-terminal pod with an IP
// (terminating ones included, with ready=false, serving=readiness, terminating=true), grouped by
// port set, at most 100 per slice; one empty placeholder slice when there are none.
func desiredSlices(s *corev1.Service, pods []corev1.Pod) []sliceSpec {
	type group struct {
		ports []discoveryv1.EndpointPort
		eps   []discoveryv1.Endpoint
	}
	groups := map[string]*group{}
	for i := range pods {
		p := &pods[i]
		if !shouldBeInEndpoints(p, true) {
			continue
		}
		ports := []discoveryv1.EndpointPort{}
		if len(s.Spec.Ports) != 0 || !headless(s) {
			for j := range s.Spec.Ports {
				sp := &s.Spec.Ports[j]
				if n, ok := findPort(p, sp); ok {
					ports = append(ports, discoveryv1.EndpointPort{Name: ptr.To(sp.Name), Port: ptr.To(n),
						Protocol: ptr.To(sp.Protocol), AppProtocol: sp.AppProtocol})
				}
			}
		}
		key := portsKey(portStrings(ports))
		g, ok := groups[key]
		if !ok {
			g = &group{ports: ports}
			groups[key] = g
		}
		serving := isPodReady(p)
		terminating := p.DeletionTimestamp != nil
		ready := s.Spec.PublishNotReadyAddresses || (serving && !terminating)
		ep := discoveryv1.Endpoint{
			Addresses:  []string{EndpointIP(p.Status.PodIP)},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready), Serving: ptr.To(serving), Terminating: ptr.To(terminating)},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID},
		}
		if p.Spec.NodeName != "" {
			ep.NodeName = ptr.To(p.Spec.NodeName)
		}
		if setHostname(p, s) {
			ep.Hostname = ptr.To(p.Spec.Hostname)
		}
		g.eps = append(g.eps, ep)
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []sliceSpec
	for _, k := range keys {
		g := groups[k]
		slices.SortFunc(g.eps, func(a, b discoveryv1.Endpoint) int { return compareIPs(a.Addresses[0], b.Addresses[0]) })
		for start := 0; start < len(g.eps); start += maxEndpointsPerSlice {
			end := min(start+maxEndpointsPerSlice, len(g.eps))
			out = append(out, sliceSpec{ports: g.ports, endpoints: g.eps[start:end]})
		}
	}
	if len(out) == 0 {
		out = []sliceSpec{{ports: []discoveryv1.EndpointPort{}, endpoints: []discoveryv1.Endpoint{}}}
	}
	return out
}

func portStrings(ports []discoveryv1.EndpointPort) []string {
	out := make([]string, 0, len(ports))
	for _, p := range ports {
		out = append(out, fmt.Sprintf("%s/%d/%s/%s", ptr.Deref(p.Name, ""), ptr.Deref(p.Port, 0), ptr.Deref(p.Protocol, ""), ptr.Deref(p.AppProtocol, "")))
	}
	slices.Sort(out)
	return out
}

// syncSlices makes our EndpointSlices of service name match want (nil: delete them all): slices
// with the same ports are updated in place, the rest created or deleted. When the cache shows
// them in sync nothing is read from the API server; otherwise the slices are listed from the API
// server, not the cache, so a slice created a moment ago is never created twice.
func (r *endpointsReconciler) syncSlices(ctx context.Context, ns, name string, s *corev1.Service, want []sliceSpec) error {
	opts := []client.ListOption{client.InNamespace(ns), client.MatchingLabels{
		discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: EndpointSliceControllerName}}
	cached := &discoveryv1.EndpointSliceList{}
	if err := r.rt.client.List(ctx, cached, opts...); err != nil {
		return err
	}
	if planSlices(ns, name, s, want, cached.Items).empty() {
		return nil
	}
	list := &discoveryv1.EndpointSliceList{}
	if err := r.rt.apiReader.List(ctx, list, opts...); err != nil {
		return err
	}
	plan := planSlices(ns, name, s, want, list.Items)
	for _, up := range plan.update {
		if err := r.rt.client.Update(ctx, up); err != nil {
			return fmt.Errorf("update endpointslice %s/%s: %w", ns, up.Name, err)
		}
	}
	for _, es := range plan.create {
		if err := r.rt.client.Create(ctx, es); err != nil {
			return fmt.Errorf("create endpointslice for %s/%s: %w", ns, name, err)
		}
	}
	for _, es := range plan.delete {
		if err := r.rt.client.Delete(ctx, es); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete endpointslice %s/%s: %w", ns, es.Name, err)
		}
	}
	return nil
}

// slicePlan is the writes that bring a Service's EndpointSlices to the desired ones.
type slicePlan struct {
	update, create, delete []*discoveryv1.EndpointSlice
}

func (p slicePlan) empty() bool { return len(p.update)+len(p.create)+len(p.delete) == 0 }

// planSlices matches existing slices to want by port set: a match is updated if it differs,
// want without a match is created, and existing slices left over are deleted.
func planSlices(ns, name string, s *corev1.Service, want []sliceSpec, existing []discoveryv1.EndpointSlice) slicePlan {
	existing = slices.Clone(existing)
	slices.SortFunc(existing, func(a, b discoveryv1.EndpointSlice) int { return cmp.Compare(a.Name, b.Name) })
	used := make([]bool, len(existing))
	var lbls map[string]string
	if s != nil {
		lbls = serviceLabels(s, discoveryv1.LabelServiceName, discoveryv1.LabelManagedBy, corev1.IsHeadlessService)
		lbls[discoveryv1.LabelServiceName] = s.Name
		lbls[discoveryv1.LabelManagedBy] = EndpointSliceControllerName
	}
	var plan slicePlan
	for _, w := range want {
		wantKey := portsKey(portStrings(w.ports))
		match := -1
		for i := range existing {
			if !used[i] && existing[i].AddressType == discoveryv1.AddressTypeIPv4 && portsKey(portStrings(existing[i].Ports)) == wantKey &&
				(s == nil || metav1.IsControlledBy(&existing[i], s)) {
				match = i
				break
			}
		}
		if match >= 0 {
			used[match] = true
			cur := &existing[match]
			if equality.Semantic.DeepEqual(cur.Endpoints, w.endpoints) && equality.Semantic.DeepEqual(cur.Ports, w.ports) &&
				equality.Semantic.DeepEqual(cur.Labels, lbls) {
				continue
			}
			up := cur.DeepCopy()
			up.Endpoints, up.Ports, up.Labels = w.endpoints, w.ports, lbls
			plan.update = append(plan.update, up)
			continue
		}
		plan.create = append(plan.create, &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{GenerateName: name + "-", Namespace: ns, Labels: lbls,
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(s, corev1.SchemeGroupVersion.WithKind("Service"))}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   w.endpoints,
			Ports:       w.ports,
		})
	}
	for i := range existing {
		if !used[i] {
			plan.delete = append(plan.delete, &existing[i])
		}
	}
	// Like the endpointslice reconciler's finalize: a slice about to be deleted (typically the
	// empty placeholder) is updated into one about to be created, one write instead of two.
	for len(plan.create) > 0 {
		i := slices.IndexFunc(plan.delete, func(es *discoveryv1.EndpointSlice) bool {
			return s != nil && es.AddressType == discoveryv1.AddressTypeIPv4 && metav1.IsControlledBy(es, s)
		})
		if i < 0 {
			break
		}
		c := plan.create[len(plan.create)-1]
		up := plan.delete[i].DeepCopy()
		up.Endpoints, up.Ports, up.Labels = c.Endpoints, c.Ports, c.Labels
		plan.update = append(plan.update, up)
		plan.create = plan.create[:len(plan.create)-1]
		plan.delete = slices.Delete(plan.delete, i, i+1)
	}
	return plan
}
