package podruntime

import (
	"context"
	"fmt"
	"runtime"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// KubeletVersion is what the simulated node reports.
const KubeletVersion = "v1.36.3"

// desiredNode is the simulated node: Ready, addressed at NodeIP, with room for any number of
// pods (the scheduler ignores resources).
func (r *Runtime) desiredNode() *corev1.Node {
	name := r.opts.NodeName
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			corev1.LabelHostname: name, corev1.LabelOSStable: runtime.GOOS, corev1.LabelArchStable: runtime.GOARCH,
			"node.kubernetes.io/instance-type": "servingsim",
		}},
	}
}

func (r *Runtime) nodeStatus(now metav1.Time) corev1.NodeStatus {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("1000"),
		corev1.ResourceMemory:           resource.MustParse("4Ti"),
		corev1.ResourcePods:             resource.MustParse("100000"),
		corev1.ResourceEphemeralStorage: resource.MustParse("10Ti"),
	}
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
	}
	return corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Phase:       corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{
			cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
			cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
			cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
			cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status"),
		},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: NodeIP.String()},
			{Type: corev1.NodeHostName, Address: r.opts.NodeName},
		},
		NodeInfo: corev1.NodeSystemInfo{
			KubeletVersion: KubeletVersion, ContainerRuntimeVersion: "servingsim://1", OperatingSystem: runtime.GOOS,
			Architecture: runtime.GOARCH, OSImage: "servingsim", KernelVersion: "servingsim",
		},
	}
}

// ensureNode creates the node once, marks it Ready and removes the not-ready taint the
// TaintNodesByCondition admission plugin puts on new nodes (the node lifecycle controller's job).
func (r *Runtime) ensureNode(ctx context.Context) error {
	want := r.desiredNode()
	node := &corev1.Node{}
	err := r.client.Get(ctx, client.ObjectKey{Name: want.Name}, node)
	switch {
	case apierrors.IsNotFound(err):
		node = want.DeepCopy()
		if err := r.client.Create(ctx, node); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create node %s: %w", want.Name, err)
		}
		if err := r.client.Get(ctx, client.ObjectKey{Name: want.Name}, node); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	var ready bool
	for _, c := range node.Status.Conditions {
		ready = ready || (c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue)
	}
	if !ready {
		node.Status = r.nodeStatus(mtime(r.opts.Clock.Now()))
		if err := r.client.Status().Update(ctx, node); err != nil {
			return fmt.Errorf("mark node %s ready: %w", want.Name, err)
		}
	}
	var taints []corev1.Taint
	for _, t := range node.Spec.Taints {
		if t.Key != corev1.TaintNodeNotReady && t.Key != corev1.TaintNodeUnreachable {
			taints = append(taints, t)
		}
	}
	if len(taints) != len(node.Spec.Taints) {
		node.Spec.Taints = taints
		if err := r.client.Update(ctx, node); err != nil {
			return fmt.Errorf("untaint node %s: %w", want.Name, err)
		}
	}
	return nil
}
