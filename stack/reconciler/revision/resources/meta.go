package resources

import (
	"strings"

	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/kmeta"
)

// MakeLabels returns the labels of the Revision's Deployment, pods and PA (§1.2): the
// Revision's labels without the route and routingState labels (so routing changes never roll
// the Deployment), plus revision, revisionUID and app=<rev> unless the user set app.
func MakeLabels(rev *servingv1.Revision) map[string]string {
	labels := kmeta.FilterMap(rev.Labels, func(k string) bool {
		return k == serving.RouteLabelKey || k == serving.RoutingStateLabelKey
	})
	labels[serving.RevisionLabelKey] = rev.Name
	labels[serving.RevisionUIDLabelKey] = string(rev.UID)
	if _, ok := labels[serving.AppLabelKey]; !ok {
		labels[serving.AppLabelKey] = rev.Name
	}
	return labels
}

// MakeSelector is the Deployment's selector: the revisionUID label alone (§1.2).
func MakeSelector(rev *servingv1.Revision) map[string]string {
	return map[string]string{serving.RevisionUIDLabelKey: string(rev.UID)}
}

// deploymentAnnotations are the Revision's annotations minus the autoscaling ones (§1.2) and the
// routing bookkeeping the labeler rewrites (routes, routingStateModified, lastPinned), which
// would otherwise roll the pods every time routing changes.
func deploymentAnnotations(rev *servingv1.Revision) map[string]string {
	return kmeta.FilterMap(rev.Annotations, func(k string) bool {
		return strings.HasPrefix(k, serving.AutoscalingGroup+"/") ||
			k == serving.RoutesAnnotationKey ||
			k == serving.RoutingStateModifiedAnnotationKey ||
			k == serving.RevisionLastPinnedAnnotationKey
	})
}
