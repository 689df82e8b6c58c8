package route

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"k8s.io/utils/ptr"

	"github.com/servingsim/servingsim/stack/apis/duck"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
)

// DefaultTarget is the key of the targets map that holds every target: the Route's own host.
const DefaultTarget = ""

// Protocol is how a Revision's public Service is spoken to.
type Protocol string

// Protocols of a Revision: h2c when its serving container port is named h2c (§1.5 PA spec).
const (
	ProtocolHTTP1 Protocol = "http1"
	ProtocolH2C   Protocol = "h2c"
)

// Traffic reasons of AllTrafficAssigned (§1.6).
const (
	ReasonRevisionMissing      = "RevisionMissing"
	ReasonConfigurationMissing = "ConfigurationMissing"
	ReasonRevisionNotOwned     = "RevisionNotOwned"
	ReasonUnknown              = "Unknown"
)

// RevisionTarget is a traffic target flattened to a concrete Revision.
type RevisionTarget struct {
	servingv1.TrafficTarget
	Protocol Protocol
}

// Traffic is a Route's spec.traffic flattened to Revisions.
type Traffic struct {
	// Targets holds under DefaultTarget every target and under each tag that tag's targets,
	// each list consolidated by Revision; a list with a single Revision carries 100%.
	Targets map[string][]RevisionTarget
	// Flattened is spec.traffic in order, resolved to Revisions, with targets of equal tag,
	// revision and latestRevision merged by summing their percents. It becomes status.traffic.
	Flattened []RevisionTarget
}

// Names returns the keys of Targets, sorted (DefaultTarget first).
func (t *Traffic) Names() []string { return slices.Sorted(maps.Keys(t.Targets)) }

// TargetError is a traffic target that cannot be routed (yet): it sets AllTrafficAssigned
// False when Failure, else Unknown.
type TargetError struct {
	Reason, Message string
	Failure         bool
}

func (e *TargetError) Error() string { return e.Message }

// Mark records the error on AllTrafficAssigned.
func (e *TargetError) Mark(m duck.ConditionManager) {
	if e.Failure {
		m.MarkFalse(servingv1.RouteConditionAllTrafficAssigned, e.Reason, e.Message)
		return
	}
	m.MarkUnknown(servingv1.RouteConditionAllTrafficAssigned, e.Reason, e.Message)
}

func errMissing(kind, name string) *TargetError {
	return &TargetError{Reason: kind + "Missing", Failure: true,
		Message: fmt.Sprintf("%s %q referenced in traffic not found.", kind, name)}
}

func errUnreadyConfiguration(cfg *servingv1.Configuration) *TargetError {
	if cfg.Status.GetCondition(duck.ConditionReady).IsFalse() {
		return &TargetError{Reason: ReasonRevisionMissing, Failure: true,
			Message: fmt.Sprintf("Configuration %q does not have any ready Revision.", cfg.Name)}
	}
	return &TargetError{Reason: ReasonRevisionMissing,
		Message: fmt.Sprintf("Configuration %q is waiting for a Revision to become ready.", cfg.Name)}
}

func errUnreadyRevision(rev *servingv1.Revision) *TargetError {
	if rev.Status.GetCondition(duck.ConditionReady).IsFalse() {
		return &TargetError{Reason: ReasonRevisionMissing, Failure: true,
			Message: fmt.Sprintf("Revision %q failed to become ready.", rev.Name)}
	}
	return &TargetError{Reason: ReasonRevisionMissing,
		Message: fmt.Sprintf("Revision %q is not yet ready.", rev.Name)}
}

func errNotOwned(rev, svc string) *TargetError {
	return &TargetError{Reason: ReasonRevisionNotOwned, Failure: true,
		Message: fmt.Sprintf("Revision %q referenced in traffic is not owned by Service %q.", rev, svc)}
}

// Lookup finds the Configurations and Revisions a Route references; a missing object is
// (nil, nil), any other failure an error.
type Lookup interface {
	Configuration(name string) (*servingv1.Configuration, error)
	Revision(name string) (*servingv1.Revision, error)
}

// MapLookup is a Lookup over in-memory objects.
type MapLookup struct {
	Configurations map[string]*servingv1.Configuration
	Revisions      map[string]*servingv1.Revision
}

// Configuration implements Lookup.
func (l MapLookup) Configuration(name string) (*servingv1.Configuration, error) {
	return l.Configurations[name], nil
}

// Revision implements Lookup.
func (l MapLookup) Revision(name string) (*servingv1.Revision, error) { return l.Revisions[name], nil }

// Flatten resolves route.spec.traffic to Revisions (§1.6): a configurationName target goes to
// the Configuration's latestReadyRevisionName, which must exist; a revisionName target must
// exist, be Ready, and (for a Service's Route) belong to that Service, and its Configuration
// must exist. Every target is visited; a TargetError is returned for the first bad target, or
// the first failing one if any fails. Other lookup errors are returned at once.
func Flatten(route *servingv1.Route, look Lookup) (*Traffic, error) {
	var deferred *TargetError
	var flat []RevisionTarget
	targets := map[string][]RevisionTarget{}
	for i := range route.Spec.Traffic {
		rt, err := resolve(route, &route.Spec.Traffic[i], look)
		if err != nil {
			var te *TargetError
			if !errors.As(err, &te) {
				return nil, err
			}
			if deferred == nil || (te.Failure && !deferred.Failure) {
				deferred = te
			}
			continue
		}
		flat = merge(flat, rt)
		targets[DefaultTarget] = append(targets[DefaultTarget], rt)
		if rt.Tag != "" {
			targets[rt.Tag] = append(targets[rt.Tag], rt)
		}
	}
	if deferred != nil {
		return nil, deferred
	}
	for name, ts := range targets {
		targets[name] = consolidate(ts)
	}
	return &Traffic{Targets: targets, Flattened: flat}, nil
}

func resolve(route *servingv1.Route, tt *servingv1.TrafficTarget, look Lookup) (RevisionTarget, error) {
	out := RevisionTarget{TrafficTarget: *tt.DeepCopy()}
	if out.LatestRevision == nil {
		out.LatestRevision = ptr.To(tt.RevisionName == "")
	}
	out.URL = ""
	switch {
	case tt.RevisionName != "":
		rev, err := look.Revision(tt.RevisionName)
		if err != nil {
			return out, err
		}
		if rev == nil {
			return out, errMissing("Revision", tt.RevisionName)
		}
		if svc := route.Labels[serving.ServiceLabelKey]; svc != "" && rev.Labels[serving.ServiceLabelKey] != svc {
			return out, errNotOwned(rev.Name, svc)
		}
		if !rev.Status.GetCondition(duck.ConditionReady).IsTrue() {
			return out, errUnreadyRevision(rev)
		}
		if cfgName, ok := rev.Labels[serving.ConfigurationLabelKey]; ok {
			out.ConfigurationName = cfgName
			cfg, err := look.Configuration(cfgName)
			if err != nil {
				return out, err
			}
			if cfg == nil {
				return out, errMissing("Configuration", cfgName)
			}
		}
		out.Protocol = RevisionProtocol(rev)
	case tt.ConfigurationName != "":
		cfg, err := look.Configuration(tt.ConfigurationName)
		if err != nil {
			return out, err
		}
		if cfg == nil {
			return out, errMissing("Configuration", tt.ConfigurationName)
		}
		if cfg.Status.LatestReadyRevisionName == "" {
			return out, errUnreadyConfiguration(cfg)
		}
		rev, err := look.Revision(cfg.Status.LatestReadyRevisionName)
		if err != nil {
			return out, err
		}
		if rev == nil {
			return out, errMissing("Revision", cfg.Status.LatestReadyRevisionName)
		}
		out.RevisionName = rev.Name
		out.Protocol = RevisionProtocol(rev)
	default:
		// Validation rejects a target naming neither; route nothing for it.
		return out, &TargetError{Reason: ReasonUnknown, Failure: true,
			Message: "traffic target names neither a revision nor a configuration"}
	}
	return out, nil
}

// merge adds rt to flat, summing percents into an earlier target of the same tag, revision and
// latestRevision.
func merge(flat []RevisionTarget, rt RevisionTarget) []RevisionTarget {
	for i := range flat {
		if flat[i].Tag == rt.Tag && flat[i].RevisionName == rt.RevisionName &&
			*flat[i].LatestRevision == *rt.LatestRevision {
			flat[i].Percent = addPercent(flat[i].Percent, rt.Percent)
			return flat
		}
	}
	return append(flat, rt)
}

// consolidate merges targets by Revision (first appearance order); a single Revision gets 100%.
func consolidate(ts []RevisionTarget) []RevisionTarget {
	var out []RevisionTarget
	idx := map[string]int{}
	for _, t := range ts {
		if i, ok := idx[t.RevisionName]; ok {
			out[i].Percent = addPercent(out[i].Percent, t.Percent)
			continue
		}
		idx[t.RevisionName] = len(out)
		t.Percent = ptr.To(ptr.Deref(t.Percent, 0))
		out = append(out, t)
	}
	if len(out) == 1 {
		out[0].Percent = ptr.To[int64](100)
	}
	return out
}

func addPercent(a, b *int64) *int64 {
	if a == nil && b == nil {
		return nil
	}
	return ptr.To(ptr.Deref(a, 0) + ptr.Deref(b, 0))
}

// RevisionProtocol is h2c when the Revision's serving container (the one declaring ports, else
// the first) names its first port h2c, else http1.
func RevisionProtocol(rev *servingv1.Revision) Protocol {
	cs := rev.Spec.Containers
	for i := range cs {
		if len(cs[i].Ports) > 0 {
			if cs[i].Ports[0].Name == serving.H2CPortName {
				return ProtocolH2C
			}
			return ProtocolHTTP1
		}
	}
	return ProtocolHTTP1
}

// StatusTraffic renders Flattened as status.traffic: concrete revisionName, percent, tag,
// latestRevision, and for tagged targets the tag's URL.
func (t *Traffic) StatusTraffic(tagURL func(tag string) string) []servingv1.TrafficTarget {
	out := make([]servingv1.TrafficTarget, 0, len(t.Flattened))
	for _, rt := range t.Flattened {
		tt := servingv1.TrafficTarget{
			Tag:            rt.Tag,
			RevisionName:   rt.RevisionName,
			LatestRevision: ptr.To(*rt.LatestRevision),
		}
		if rt.Percent != nil {
			tt.Percent = ptr.To(*rt.Percent)
		}
		if rt.Tag != "" {
			tt.URL = tagURL(rt.Tag)
		}
		out = append(out, tt)
	}
	return out
}
