//nolint:staticcheck // kube-controller-manager still writes core/v1 Endpoints, and Knative reads them (§3.6).
package podruntime

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/servingsim/servingsim/stack/apis/serving"
)

// privateService is shaped like Knative's private SKS Service: numeric and named targetPorts.
func privateService() *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "hello-00001-private", UID: "s1", Labels: map[string]string{"app": "hello"}},
		Spec: corev1.ServiceSpec{
			Selector:  map[string]string{"app": "hello"},
			ClusterIP: "10.0.0.10",
			Ports: []corev1.ServicePort{
				{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString(serving.QueuePortName)},
				{Name: "http-autometric", Port: 9090, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(9090)},
			},
		},
	}
}

func endpointPod(name, ip string, ready, terminating bool) corev1.Pod {
	p := knativePod()
	p.Name, p.UID = name, types.UID("uid-"+name)
	p.Labels = map[string]string{"app": "hello"}
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip}
	if ready {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	}
	if terminating {
		now := metav1.NewTime(t0)
		p.DeletionTimestamp = &now
	}
	return *p
}

func TestDesiredSubsets_ReadyVsNotReadyTerminatingOmitted(t *testing.T) {
	pods := []corev1.Pod{
		endpointPod("b", "127.10.0.2", true, false),
		endpointPod("a", "127.10.0.1", true, false),
		endpointPod("c", "127.10.0.3", false, false),
		endpointPod("d", "127.10.0.4", true, true), // terminating: not in v1 Endpoints
		endpointPod("e", "", false, false),         // no IP yet
	}
	subsets := desiredSubsets(privateService(), pods)
	if len(subsets) != 1 {
		t.Fatalf("subsets = %+v, want one (all pods offer the same ports)", subsets)
	}
	s := subsets[0]
	if len(s.Addresses) != 2 || s.Addresses[0].IP != "10.10.0.1" || s.Addresses[1].IP != "10.10.0.2" ||
		s.Addresses[0].TargetRef.Name != "a" || *s.Addresses[0].NodeName != DefaultNodeName {
		t.Errorf("addresses = %+v, want a, b at their published 10.x addresses", s.Addresses)
	}
	if len(s.NotReadyAddresses) != 1 || s.NotReadyAddresses[0].IP != "10.10.0.3" {
		t.Errorf("notReadyAddresses = %+v, want c", s.NotReadyAddresses)
	}
	got := map[string]int32{}
	for _, p := range s.Ports {
		got[p.Name] = p.Port
	}
	if got["http"] != serving.QueueHTTPPort || got["http-autometric"] != 9090 || len(got) != 2 {
		t.Errorf("ports = %+v, want http→8012 (by name) and http-autometric→9090", s.Ports)
	}
}

func TestDesiredSubsets_UnresolvedNamedPortDropsThatPortOnly(t *testing.T) {
	svc := privateService()
	svc.Spec.Ports[0].TargetPort = intstr.FromString("no-such-port")
	subsets := desiredSubsets(svc, []corev1.Pod{endpointPod("a", "127.10.0.1", true, false)})
	if len(subsets) != 1 || len(subsets[0].Ports) != 1 || subsets[0].Ports[0].Name != "http-autometric" {
		t.Errorf("subsets = %+v, want only the resolvable port", subsets)
	}
}

func TestDesiredSlices_ConditionsAndPlaceholder(t *testing.T) {
	pods := []corev1.Pod{
		endpointPod("a", "127.10.0.1", true, false),
		endpointPod("c", "127.10.0.3", false, false),
		endpointPod("d", "127.10.0.4", true, true),
	}
	slices := desiredSlices(privateService(), pods)
	if len(slices) != 1 || len(slices[0].endpoints) != 3 || len(slices[0].ports) != 2 {
		t.Fatalf("slices = %+v, want one slice with 3 endpoints and 2 ports", slices)
	}
	want := map[string][3]bool{ // ready, serving, terminating
		"a": {true, true, false},
		"c": {false, false, false},
		"d": {false, true, true},
	}
	for _, ep := range slices[0].endpoints {
		w := want[ep.TargetRef.Name]
		got := [3]bool{*ep.Conditions.Ready, *ep.Conditions.Serving, *ep.Conditions.Terminating}
		if got != w {
			t.Errorf("endpoint %s conditions (ready, serving, terminating) = %v, want %v", ep.TargetRef.Name, got, w)
		}
	}
	empty := desiredSlices(privateService(), nil)
	if len(empty) != 1 || len(empty[0].endpoints) != 0 {
		t.Errorf("no pods: %+v, want one empty placeholder slice", empty)
	}
}

func TestDesiredSlices_ChunksOf100(t *testing.T) {
	var pods []corev1.Pod
	for i := range 250 {
		pods = append(pods, endpointPod("p"+string(rune('a'+i%26))+string(rune('a'+i/26)), fromU32(toU32(FirstPodIP)+uint32(i)).String(), true, false))
	}
	slices := desiredSlices(privateService(), pods)
	if len(slices) != 3 || len(slices[0].endpoints) != 100 || len(slices[2].endpoints) != 50 {
		t.Errorf("250 endpoints in %d slices, want 100+100+50", len(slices))
	}
}

// sliceOf is the stored form of a desired slice, owned by svc.
func sliceOf(svc *corev1.Service, name string, w sliceSpec) discoveryv1.EndpointSlice {
	plan := planSlices(svc.Namespace, svc.Name, svc, []sliceSpec{w}, nil)
	es := *plan.create[0]
	es.Name = name
	return es
}

func TestPlanSlices_PlaceholderIsUpdatedIntoTheFirstSlice(t *testing.T) {
	svc := privateService()
	placeholder := sliceOf(svc, "hello-00001-private-abcde", desiredSlices(svc, nil)[0])
	want := desiredSlices(svc, []corev1.Pod{endpointPod("a", "127.10.0.1", true, false)})
	plan := planSlices(svc.Namespace, svc.Name, svc, want, []discoveryv1.EndpointSlice{placeholder})
	if len(plan.create) != 0 || len(plan.delete) != 0 || len(plan.update) != 1 {
		t.Fatalf("plan = %d creates, %d updates, %d deletes; want the placeholder updated in place",
			len(plan.create), len(plan.update), len(plan.delete))
	}
	if up := plan.update[0]; up.Name != placeholder.Name || len(up.Endpoints) != 1 || len(up.Ports) != 2 {
		t.Errorf("update = %s with %d endpoints and %d ports, want %s with the pod and both ports",
			up.Name, len(up.Endpoints), len(up.Ports), placeholder.Name)
	}
}

func TestPlanSlices_InSyncNeedsNoWrite(t *testing.T) {
	svc := privateService()
	want := desiredSlices(svc, []corev1.Pod{endpointPod("a", "127.10.0.1", true, false)})
	stored := sliceOf(svc, "hello-00001-private-abcde", want[0])
	if plan := planSlices(svc.Namespace, svc.Name, svc, want, []discoveryv1.EndpointSlice{stored}); !plan.empty() {
		t.Errorf("plan = %+v, want nothing to write", plan)
	}
	// A slice of another owner (an earlier Service of the same name) is deleted, not reused.
	other := stored.DeepCopy()
	other.OwnerReferences[0].UID = "old"
	plan := planSlices(svc.Namespace, svc.Name, svc, want, []discoveryv1.EndpointSlice{*other})
	if len(plan.create) != 1 || len(plan.delete) != 1 || len(plan.update) != 0 {
		t.Errorf("plan = %d creates, %d updates, %d deletes; want 1 create and 1 delete",
			len(plan.create), len(plan.update), len(plan.delete))
	}
}
