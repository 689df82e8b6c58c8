package webhook

import (
	"bytes"
	"strconv"
	"strings"
	"text/template"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/kmeta"
)

// defaultRevisionSpec applies config-defaults to a revision spec (§2.1). Ports are not
// defaulted: 8080 is implied downstream, never written into the spec.
func defaultRevisionSpec(c reqCtx, rs *servingv1.RevisionSpec) {
	d := c.cfg.Defaults
	if rs.TimeoutSeconds == nil || *rs.TimeoutSeconds == 0 {
		rs.TimeoutSeconds = ptr.To(d.RevisionTimeoutSeconds)
	}
	// The two finer timeouts are set only when their default is non-zero and below the timeout.
	if rs.ResponseStartTimeoutSeconds == nil && d.RevisionResponseStartTimeoutSeconds != 0 &&
		d.RevisionResponseStartTimeoutSeconds < *rs.TimeoutSeconds {
		rs.ResponseStartTimeoutSeconds = ptr.To(d.RevisionResponseStartTimeoutSeconds)
	}
	if rs.IdleTimeoutSeconds == nil && d.RevisionIdleTimeoutSeconds != 0 && d.RevisionIdleTimeoutSeconds < *rs.TimeoutSeconds {
		rs.IdleTimeoutSeconds = ptr.To(d.RevisionIdleTimeoutSeconds)
	}
	if rs.ContainerConcurrency == nil {
		rs.ContainerConcurrency = ptr.To(d.ContainerConcurrency)
	}

	taken := map[string]bool{}
	for _, ctr := range rs.InitContainers {
		taken[ctr.Name] = true
	}
	for _, ctr := range rs.Containers {
		taken[ctr.Name] = true
	}
	nameContainers(rs.Containers, taken, expandNameTemplate(d.UserContainerNameTemplate, c.parent, "user-container"))
	nameContainers(rs.InitContainers, taken, expandNameTemplate(d.InitContainerNameTemplate, c.parent, "init-container"))

	if rs.EnableServiceLinks == nil && !c.update && d.EnableServiceLinks != nil {
		rs.EnableServiceLinks = ptr.To(*d.EnableServiceLinks)
	}

	// Mounts of anything but scratch or claimed storage are read-only.
	writable := map[string]bool{}
	for _, v := range rs.Volumes {
		if v.EmptyDir != nil || v.PersistentVolumeClaim != nil || v.Ephemeral != nil {
			writable[v.Name] = true
		}
	}
	for i := range rs.Containers {
		ctr := &rs.Containers[i]
		defaultResources(ctr, d)
		// The serving container is the only one, or the one with a port.
		if len(rs.Containers) == 1 || len(ctr.Ports) > 0 {
			if ctr.ReadinessProbe == nil {
				ctr.ReadinessProbe = &corev1.Probe{}
			}
			if h := ctr.ReadinessProbe.ProbeHandler; h.HTTPGet == nil && h.TCPSocket == nil && h.Exec == nil && h.GRPC == nil {
				ctr.ReadinessProbe.TCPSocket = &corev1.TCPSocketAction{}
			}
		}
		if p := ctr.ReadinessProbe; p != nil {
			if p.SuccessThreshold == 0 {
				p.SuccessThreshold = 1
			}
			if p.PeriodSeconds != 0 {
				if p.FailureThreshold == 0 {
					p.FailureThreshold = 3
				}
				if p.TimeoutSeconds == 0 {
					p.TimeoutSeconds = 1
				}
			}
		}
		for _, p := range []*corev1.Probe{ctr.ReadinessProbe, ctr.LivenessProbe} {
			if p != nil && p.GRPC != nil && p.GRPC.Service == nil {
				p.GRPC.Service = ptr.To("")
			}
		}
		for j := range ctr.VolumeMounts {
			if !writable[ctr.VolumeMounts[j].Name] {
				ctr.VolumeMounts[j].ReadOnly = true
			}
		}
	}
}

// nameContainers names the unnamed containers: a lone one gets base, otherwise base-<index>,
// moving on to the next free number on a clash.
func nameContainers(ctrs []corev1.Container, taken map[string]bool, base string) {
	if len(ctrs) == 1 && ctrs[0].Name == "" && !taken[base] {
		ctrs[0].Name = base
		taken[base] = true
		return
	}
	for i := range ctrs {
		if ctrs[i].Name != "" {
			continue
		}
		n := i
		name := kmeta.ChildName(base, "-"+strconv.Itoa(n))
		for taken[name] {
			n++
			name = kmeta.ChildName(base, "-"+strconv.Itoa(n))
		}
		ctrs[i].Name = name
		taken[name] = true
	}
}

// expandNameTemplate evaluates a container-name template such as "{{.Name}}" against the
// parent's metadata; a plain name is used as is.
func expandNameTemplate(tmpl string, parent metav1.ObjectMeta, fallback string) string {
	if tmpl == "" {
		return fallback
	}
	if !strings.Contains(tmpl, "{{") {
		return tmpl
	}
	t, err := template.New("container-name").Parse(tmpl)
	if err != nil {
		return fallback
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, parent); err != nil || buf.Len() == 0 {
		return fallback
	}
	return buf.String()
}

// defaultResources adds the revision-* resource defaults of config-defaults that are set and
// not already chosen by the user.
func defaultResources(ctr *corev1.Container, d *config.Defaults) {
	add := func(list *corev1.ResourceList, name corev1.ResourceName, q *resource.Quantity) {
		if q == nil {
			return
		}
		if _, ok := (*list)[name]; ok {
			return
		}
		if *list == nil {
			*list = corev1.ResourceList{}
		}
		(*list)[name] = q.DeepCopy()
	}
	add(&ctr.Resources.Requests, corev1.ResourceCPU, d.RevisionCPURequest)
	add(&ctr.Resources.Requests, corev1.ResourceMemory, d.RevisionMemoryRequest)
	add(&ctr.Resources.Requests, corev1.ResourceEphemeralStorage, d.RevisionEphemeralStorageRequest)
	add(&ctr.Resources.Limits, corev1.ResourceCPU, d.RevisionCPULimit)
	add(&ctr.Resources.Limits, corev1.ResourceMemory, d.RevisionMemoryLimit)
	add(&ctr.Resources.Limits, corev1.ResourceEphemeralStorage, d.RevisionEphemeralStorageLimit)
}
