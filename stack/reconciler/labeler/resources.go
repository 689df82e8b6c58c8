package labeler

import (
	"slices"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
)

// RoutingStateModified formats t as the routingStateModified annotation value (RFC 3339, UTC).
func RoutingStateModified(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// SetRoutingState sets the routingState label of obj to state and stamps routingStateModified
// with now. The timestamp is kept when the state is unchanged and already stamped (§1.2). It
// reports whether obj changed.
func SetRoutingState(obj metav1.Object, state string, now time.Time) bool {
	labels, anns := obj.GetLabels(), obj.GetAnnotations()
	if labels[serving.RoutingStateLabelKey] == state && anns[serving.RoutingStateModifiedAnnotationKey] != "" {
		return false
	}
	if labels == nil {
		labels = map[string]string{}
	}
	if anns == nil {
		anns = map[string]string{}
	}
	labels[serving.RoutingStateLabelKey] = state
	anns[serving.RoutingStateModifiedAnnotationKey] = RoutingStateModified(now)
	obj.SetLabels(labels)
	obj.SetAnnotations(anns)
	return true
}

// ParseRoutes returns the route names of a routes annotation value ("a,b").
func ParseRoutes(v string) sets.Set[string] {
	s := sets.New[string]()
	for n := range strings.SplitSeq(v, ",") {
		if n = strings.TrimSpace(n); n != "" {
			s.Insert(n)
		}
	}
	return s
}

// JoinRoutes renders route names as the routes annotation value: sorted, comma-separated.
func JoinRoutes(s sets.Set[string]) string { return strings.Join(sets.List(s), ",") }

// Desired maps each Configuration and Revision name to the Routes that reference it.
type Desired struct {
	Configurations map[string]sets.Set[string]
	Revisions      map[string]sets.Set[string]
}

// ComputeDesired derives, from every Route of one namespace, which Routes reference each
// Configuration and Revision of that namespace (§1.2 Labeler). For each target of a Route's
// status and spec traffic:
//   - a revisionName target references that Revision and the Configuration controlling it;
//   - a configurationName target references that Configuration;
//   - a target that follows the latest revision also references the Configuration's latest
//     created Revision (and any Revision already stamped for the Configuration's current
//     generation), so a new Revision is active before it is ready.
//
// A Service's Configuration is always referenced by the Service's Route (see below). Routes
// being deleted and targets that do not exist are skipped.
func ComputeDesired(routes []servingv1.Route, configs []servingv1.Configuration, revs []servingv1.Revision) Desired {
	d := Desired{Configurations: map[string]sets.Set[string]{}, Revisions: map[string]sets.Set[string]{}}
	cfgByName := make(map[string]*servingv1.Configuration, len(configs))
	for i := range configs {
		cfgByName[configs[i].Name] = &configs[i]
	}
	revByName := make(map[string]*servingv1.Revision, len(revs))
	current := map[string][]string{} // config name -> revisions of its current generation
	for i := range revs {
		rev := &revs[i]
		revByName[rev.Name] = rev
		ref := metav1.GetControllerOf(rev)
		if ref == nil || ref.Kind != "Configuration" {
			continue
		}
		if cfg, ok := cfgByName[ref.Name]; ok && cfg.UID == ref.UID &&
			rev.Labels[serving.ConfigurationGenerationLabelKey] == strconv.FormatInt(cfg.Generation, 10) {
			current[cfg.Name] = append(current[cfg.Name], rev.Name)
		}
	}
	add := func(m map[string]sets.Set[string], name, route string) {
		if m[name] == nil {
			m[name] = sets.New[string]()
		}
		m[name].Insert(route)
	}

	for i := range routes {
		rt := &routes[i]
		if !rt.DeletionTimestamp.IsZero() {
			continue
		}
		for _, tt := range slices.Concat(rt.Status.Traffic, rt.Spec.Traffic) {
			cfgName := tt.ConfigurationName
			if tt.RevisionName != "" {
				rev, ok := revByName[tt.RevisionName]
				if !ok {
					continue
				}
				add(d.Revisions, rev.Name, rt.Name)
				if ref := metav1.GetControllerOf(rev); ref != nil && ref.Kind == "Configuration" {
					cfgName = ref.Name
				}
			}
			if cfgName == "" {
				continue
			}
			cfg, ok := cfgByName[cfgName]
			if !ok {
				continue
			}
			add(d.Configurations, cfg.Name, rt.Name)
			if !followsLatest(tt) {
				continue
			}
			if n := cfg.Status.LatestCreatedRevisionName; n != "" {
				if _, ok := revByName[n]; ok {
					add(d.Revisions, n, rt.Name)
				}
			}
			for _, n := range current[cfg.Name] {
				add(d.Revisions, n, rt.Name)
			}
		}
	}
	// A Service's Configuration is always routed by the Service's Route, which the Service
	// reconciler writes into its routes annotation; until that Route exists (it is created right
	// after the Configuration) it is taken to send all traffic to the latest Revision, so the
	// first Revision is not briefly moved to reserve.
	routed := map[string]bool{}
	for i := range routes {
		if routes[i].DeletionTimestamp.IsZero() {
			routed[routes[i].Name] = true
		}
	}
	for i := range configs {
		cfg := &configs[i]
		svc := cfg.Labels[serving.ServiceLabelKey]
		if ref := metav1.GetControllerOf(cfg); svc == "" || ref == nil || ref.Kind != "Service" || ref.Name != svc {
			continue
		}
		add(d.Configurations, cfg.Name, svc)
		if routed[svc] {
			continue
		}
		if n := cfg.Status.LatestCreatedRevisionName; n != "" {
			if _, ok := revByName[n]; ok {
				add(d.Revisions, n, svc)
			}
		}
		for _, n := range current[cfg.Name] {
			add(d.Revisions, n, svc)
		}
	}
	return d
}

// followsLatest reports whether a traffic target tracks its Configuration's latest Revision;
// an unset latestRevision defaults as the webhook does (true for configuration targets).
func followsLatest(tt servingv1.TrafficTarget) bool {
	if tt.LatestRevision != nil {
		return *tt.LatestRevision
	}
	return tt.RevisionName == ""
}

// ApplyToConfiguration writes the routes annotation for want onto cfg, removing it when want
// is empty. It reports whether cfg changed.
func ApplyToConfiguration(cfg *servingv1.Configuration, want sets.Set[string]) bool {
	return applyRoutes(&cfg.ObjectMeta, want)
}

// ApplyToRevision writes the routes annotation and routing state for want onto rev: routed
// Revisions become active; a Revision that was routed (annotated or active) and no longer is
// becomes reserve and loses the annotation; a never-routed pending Revision is left alone. It
// reports whether rev changed.
func ApplyToRevision(rev *servingv1.Revision, want sets.Set[string], now time.Time) bool {
	if want.Len() > 0 {
		changed := applyRoutes(&rev.ObjectMeta, want)
		return SetRoutingState(rev, serving.RoutingStateActive, now) || changed
	}
	_, annotated := rev.Annotations[serving.RoutesAnnotationKey]
	if !annotated && rev.Labels[serving.RoutingStateLabelKey] != serving.RoutingStateActive {
		return false
	}
	changed := applyRoutes(&rev.ObjectMeta, want)
	return SetRoutingState(rev, serving.RoutingStateReserve, now) || changed
}

func applyRoutes(meta *metav1.ObjectMeta, want sets.Set[string]) bool {
	cur, has := meta.Annotations[serving.RoutesAnnotationKey]
	if want.Len() == 0 {
		if !has {
			return false
		}
		delete(meta.Annotations, serving.RoutesAnnotationKey)
		return true
	}
	v := JoinRoutes(want)
	if has && cur == v {
		return false
	}
	if meta.Annotations == nil {
		meta.Annotations = map[string]string{}
	}
	meta.Annotations[serving.RoutesAnnotationKey] = v
	return true
}
