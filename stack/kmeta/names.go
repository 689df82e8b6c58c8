package kmeta

import (
	"crypto/md5" //nolint:gosec // Knative's ChildName uses MD5 for naming, not security.
	"fmt"
	"strings"
)

// MaxNameLength is the Kubernetes limit on a DNS-1035 label.
const MaxNameLength = 63

// ChildName joins parent and suffix, capped at 63 characters: if too long, the parent is cut to
// 63-32-len(suffix) characters followed by the hex MD5 of the parent, then the suffix.
func ChildName(parent, suffix string) string {
	n := parent + suffix
	if len(n) <= MaxNameLength {
		return n
	}
	sum := fmt.Sprintf("%x", md5.Sum([]byte(parent))) //nolint:gosec // naming only
	keep := max(MaxNameLength-len(sum)-len(suffix), 0)
	// Knative trims a trailing '-' left by the cut so the name stays a valid label.
	head := strings.TrimRight(parent[:min(keep, len(parent))], "-")
	return head + sum + suffix
}

// RevisionName is the generated Revision name for a Configuration generation: <config>-00001.
func RevisionName(config string, generation int64) string {
	return ChildName(config, fmt.Sprintf("-%05d", generation))
}

// DeploymentName is the Deployment of a Revision.
func DeploymentName(rev string) string { return ChildName(rev, "-deployment") }

// PodAutoscalerName is the PodAutoscaler of a Revision (the same name).
func PodAutoscalerName(rev string) string { return rev }

// ServerlessServiceName is the SKS of a PodAutoscaler (the same name).
func ServerlessServiceName(pa string) string { return pa }

// MetricName is the Metric of a PodAutoscaler (the same name).
func MetricName(pa string) string { return pa }

// PublicServiceName is the selector-less K8s Service an SKS owns: the revision name.
func PublicServiceName(sks string) string { return sks }

// PrivateServiceName is the K8s Service selecting a revision's pods.
func PrivateServiceName(sks string) string { return ChildName(sks, "-private") }

// ImageCacheName is the image cache of a Revision's container.
func ImageCacheName(rev, container string) string { return ChildName(rev, "-cache-"+container) }

// IngressName is the KIngress of a Route (the same name).
func IngressName(route string) string { return route }

// PlaceholderServiceName is the K8s Service a Route creates for itself ("" tag) or a tag.
func PlaceholderServiceName(route, tag string) string {
	if tag == "" {
		return route
	}
	return tag + "-" + route
}
