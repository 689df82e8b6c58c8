package configuration

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/kmeta"
	"github.com/servingsim/servingsim/stack/reconciler/labeler"
)

// ConfigurationGVK is the kind a Revision's controller reference names.
var ConfigurationGVK = servingv1.SchemeGroupVersion.WithKind("Configuration")

var revisionsResource = servingv1.SchemeGroupVersion.WithResource("revisions").GroupResource()

// RevisionNameFor is the name of the Revision for cfg's current generation: the template's
// BYO name if set, else <config>-<generation as %05d> (§1.1).
func RevisionNameFor(cfg *servingv1.Configuration) string {
	if n := cfg.Spec.Template.Name; n != "" {
		return n
	}
	return kmeta.RevisionName(cfg.Name, cfg.Generation)
}

// MakeRevision builds the Revision for cfg's current generation (§1.1, §1.2): the template's
// metadata and spec, the configuration/service/generation/UID labels, the creator annotation
// from the Config's lastModifier, a controller reference to cfg, and routingState pending — or
// active at once, with the routes annotation copied, when cfg is already routed.
func MakeRevision(cfg *servingv1.Configuration, now time.Time) *servingv1.Revision {
	tmpl := cfg.Spec.Template.DeepCopy()
	rev := &servingv1.Revision{
		ObjectMeta: metav1.ObjectMeta{
			Name:        RevisionNameFor(cfg),
			Namespace:   cfg.Namespace,
			Labels:      tmpl.Labels,
			Annotations: tmpl.Annotations,
		},
		Spec: tmpl.Spec,
	}
	if rev.Labels == nil {
		rev.Labels = map[string]string{}
	}
	if rev.Annotations == nil {
		rev.Annotations = map[string]string{}
	}
	labeler.SetRoutingState(rev, serving.RoutingStatePending, now)
	for k, v := range map[string]string{
		serving.ConfigurationLabelKey:           cfg.Name,
		serving.ServiceLabelKey:                 cfg.Labels[serving.ServiceLabelKey],
		serving.ConfigurationGenerationLabelKey: strconv.FormatInt(cfg.Generation, 10),
		serving.ConfigurationUIDLabelKey:        string(cfg.UID),
		serving.ServiceUIDLabelKey:              cfg.Labels[serving.ServiceUIDLabelKey],
	} {
		if v != "" {
			rev.Labels[k] = v
		}
	}
	if c, ok := cfg.Annotations[serving.UpdaterAnnotation]; ok {
		rev.Annotations[serving.CreatorAnnotation] = c
	}
	if routes, ok := cfg.Annotations[serving.RoutesAnnotationKey]; ok {
		rev.Annotations[serving.RoutesAnnotationKey] = routes
		labeler.SetRoutingState(rev, serving.RoutingStateActive, now)
	}
	rev.OwnerReferences = []metav1.OwnerReference{kmeta.NewControllerRef(cfg, ConfigurationGVK)}
	return rev
}

// CheckBYORevision decides whether rev, which holds cfg's BYO revision name, may serve as the
// Revision of cfg's current generation (§1.4): it must be controlled by cfg and either carry
// cfg's generation label or have exactly the template's spec. Otherwise the name is taken and
// an AlreadyExists error is returned.
func CheckBYORevision(cfg *servingv1.Configuration, rev *servingv1.Revision) error {
	conflict := apierrors.NewAlreadyExists(revisionsResource, rev.Name)
	if !kmeta.IsControlledBy(rev, cfg) {
		return conflict
	}
	if rev.Labels[serving.ConfigurationGenerationLabelKey] == strconv.FormatInt(cfg.Generation, 10) {
		return nil
	}
	if !equality.Semantic.DeepEqual(cfg.Spec.Template.Spec, rev.Spec) {
		return conflict
	}
	return nil
}

// configGeneration is the configurationGeneration label of rev, or -1 when absent or malformed.
func configGeneration(rev *servingv1.Revision) int64 {
	g, err := strconv.ParseInt(rev.Labels[serving.ConfigurationGenerationLabelKey], 10, 64)
	if err != nil {
		return -1
	}
	return g
}

// LatestReady picks the latest ready Revision among revs, the Revisions labelled with cfg
// (§1.4): candidates are those whose configurationGeneration lies between the generation of
// cfg's current latestReady (when it still exists; byo generation also included) and cfg's
// generation, scanned with cfg's BYO-named Revision first, then by descending generation. It
// returns "" when none is Ready.
func LatestReady(cfg *servingv1.Configuration, revs []servingv1.Revision) string {
	from := int64(-1)
	byo := cfg.Spec.Template.Name
	byoGen := int64(-2)
	for i := range revs {
		switch revs[i].Name {
		case cfg.Status.LatestReadyRevisionName:
			if g := configGeneration(&revs[i]); g >= 0 {
				from = g
			} else {
				from = cfg.Generation
			}
		case byo:
			byoGen = configGeneration(&revs[i])
		}
	}
	cands := make([]*servingv1.Revision, 0, len(revs))
	for i := range revs {
		g := configGeneration(&revs[i])
		if from < 0 || (g >= from && g <= cfg.Generation) || (byo != "" && g == byoGen) {
			cands = append(cands, &revs[i])
		}
	}
	slices.SortFunc(cands, func(a, b *servingv1.Revision) int {
		switch {
		case byo != "" && a.Name == byo:
			return -1
		case byo != "" && b.Name == byo:
			return 1
		}
		if c := cmp.Compare(configGeneration(b), configGeneration(a)); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	for _, rev := range cands {
		if rev.Status.GetCondition(servingv1.RevisionConditionReady).IsTrue() {
			return rev.Name
		}
	}
	return ""
}
