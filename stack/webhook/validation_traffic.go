package webhook

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation"

	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
)

// validateRouteSpec checks a traffic list (§2.2 Traffic): percents in [0,100] summing to 100,
// unique DNS-1035 tags, one target kind per entry, latestRevision consistent with revisionName,
// no url in spec. In a Service (c.inService) configurationName is implied and disallowed.
func validateRouteSpec(c reqCtx, rs *servingv1.RouteSpec) *FieldError {
	if len(rs.Traffic) == 0 {
		return errMissingField("traffic")
	}
	var errs *FieldError
	tags := map[string]int{}
	var sum int64
	for i := range rs.Traffic {
		tt := &rs.Traffic[i]
		errs = errs.Also(validateTrafficTarget(c, tt).ViaFieldIndex("traffic", i))
		if tt.Percent != nil {
			sum += *tt.Percent
		}
		if tt.Tag == "" {
			continue
		}
		if first, dup := tags[tt.Tag]; dup {
			errs = errs.Also(errGeneric(fmt.Sprintf("Multiple definitions for %q", tt.Tag),
				fmt.Sprintf("traffic[%d].tag", i), fmt.Sprintf("traffic[%d].tag", first)))
		} else {
			tags[tt.Tag] = i
		}
	}
	if sum != 100 {
		errs = errs.Also(errGeneric(fmt.Sprintf("Traffic targets sum to %d, want 100", sum), "traffic"))
	}
	return errs
}

func validateTrafficTarget(c reqCtx, tt *servingv1.TrafficTarget) *FieldError {
	var errs *FieldError
	if tt.LatestRevision != nil && *tt.LatestRevision == (tt.RevisionName != "") {
		errs = errs.Also(errGeneric(fmt.Sprintf("may not set revisionName %q when latestRevision is %t",
			tt.RevisionName, *tt.LatestRevision), "latestRevision"))
	}
	switch {
	case c.inService && tt.ConfigurationName != "":
		errs = errs.Also(errDisallowedFields("configurationName"))
	case tt.RevisionName != "" && tt.ConfigurationName != "":
		errs = errs.Also(errMultipleOneOf("revisionName", "configurationName"))
	case tt.RevisionName != "":
		if msgs := validation.IsQualifiedName(tt.RevisionName); len(msgs) > 0 {
			errs = errs.Also(errInvalidKeyName(tt.RevisionName, "revisionName", msgs...))
		}
	case tt.ConfigurationName != "":
		if msgs := validation.IsQualifiedName(tt.ConfigurationName); len(msgs) > 0 {
			errs = errs.Also(errInvalidKeyName(tt.ConfigurationName, "configurationName", msgs...))
		}
	case c.inService:
		// The Service's own Configuration is implied.
	default:
		errs = errs.Also(errMissingOneOf("revisionName", "configurationName"))
	}
	if tt.Percent != nil && (*tt.Percent < 0 || *tt.Percent > 100) {
		errs = errs.Also(errOutOfBounds(*tt.Percent, 0, 100, "percent"))
	}
	if tt.URL != "" {
		errs = errs.Also(errDisallowedFields("url"))
	}
	if tt.Tag != "" {
		if msgs := validation.IsDNS1035Label(tt.Tag); len(msgs) > 0 {
			errs = errs.Also(errInvalidValue(fmt.Sprintf("not a DNS 1035 label: %v", msgs), "tag"))
		}
	}
	return errs
}
