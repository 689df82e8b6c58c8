package webhook

import (
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
)

// validateService checks metadata, template and traffic; on update also the user annotations
// and the BYO revision name rule (§2.2).
func validateService(c reqCtx, s *servingv1.Service, old *servingv1.Service) *FieldError {
	errs := validateObjectName(&s.ObjectMeta).
		Also(noAutoscalingAnnotations(s.Annotations).ViaField("annotations")).
		Also(validateVisibilityLabel(s.Labels).ViaField("labels")).
		Also(validateRolloutDuration(s.Annotations).ViaField("annotations")).
		ViaField("metadata")
	c.parent, c.inService = s.ObjectMeta, true
	errs = errs.Also(validateTemplate(c, &s.Spec.Template).ViaField("spec", "template"))
	errs = errs.Also(validateRouteSpec(c, &s.Spec.RouteSpec).ViaField("spec"))
	if old != nil {
		errs = errs.Also(validateUserAnnotations(old.Annotations, s.Annotations, old.Spec, s.Spec).ViaField("metadata", "annotations"))
		errs = errs.Also(verifyNameChange(&old.Spec.Template, &s.Spec.Template).ViaField("spec", "template"))
	}
	return errs
}

// validateConfiguration checks metadata (incl. the service ownership label) and the template.
func validateConfiguration(c reqCtx, cfg *servingv1.Configuration, old *servingv1.Configuration) *FieldError {
	errs := validateObjectName(&cfg.ObjectMeta).
		Also(noAutoscalingAnnotations(cfg.Annotations).ViaField("annotations")).
		Also(validateOwnerLabel(&cfg.ObjectMeta, serving.ServiceLabelKey, "Service").ViaField("labels")).
		ViaField("metadata")
	c.parent = cfg.ObjectMeta
	errs = errs.Also(validateTemplate(c, &cfg.Spec.Template).ViaField("spec", "template"))
	if old != nil {
		if len(cfg.OwnerReferences) == 0 {
			errs = errs.Also(validateUserAnnotations(old.Annotations, cfg.Annotations, old.Spec, cfg.Spec).ViaField("metadata", "annotations"))
		}
		errs = errs.Also(verifyNameChange(&old.Spec.Template, &cfg.Spec.Template).ViaField("spec", "template"))
	}
	return errs
}

// validateRevision checks metadata and annotations; the spec is validated on create and must
// not change afterwards (§2.2).
func validateRevision(c reqCtx, r *servingv1.Revision, old *servingv1.Revision) *FieldError {
	errs := validateObjectName(&r.ObjectMeta).
		Also(validateRevisionLabels(&r.ObjectMeta).ViaField("labels")).
		Also(validateRevisionAnnotations(c, r.Annotations).ViaField("annotations")).
		ViaField("metadata")
	if old == nil {
		return errs.Also(validateRevisionSpec(c, &r.Spec).ViaField("spec"))
	}
	diff, err := shortDiff(old.Spec, r.Spec)
	switch {
	case err != nil:
		errs = errs.Also(&FieldError{Message: "Failed to diff Revision", Paths: []string{"spec"}, Details: err.Error()})
	case diff != "":
		errs = errs.Also(&FieldError{Message: "Immutable fields changed (-old +new)", Paths: []string{"spec"}, Details: diff})
	}
	return errs
}

// validateRoute checks metadata (incl. the service ownership label) and the traffic.
func validateRoute(c reqCtx, r *servingv1.Route, old *servingv1.Route) *FieldError {
	errs := validateObjectName(&r.ObjectMeta).
		Also(noAutoscalingAnnotations(r.Annotations).ViaField("annotations")).
		Also(validateVisibilityLabel(r.Labels).ViaField("labels")).
		Also(validateOwnerLabel(&r.ObjectMeta, serving.ServiceLabelKey, "Service").ViaField("labels")).
		Also(validateRolloutDuration(r.Annotations).ViaField("annotations")).
		ViaField("metadata")
	errs = errs.Also(validateRouteSpec(c, &r.Spec).ViaField("spec"))
	if old != nil && len(r.OwnerReferences) == 0 {
		errs = errs.Also(validateUserAnnotations(old.Annotations, r.Annotations, old.Spec, r.Spec).ViaField("metadata", "annotations"))
	}
	return errs
}

// validateTemplate checks a revision template: its spec, annotations and BYO name.
func validateTemplate(c reqCtx, t *servingv1.RevisionTemplateSpec) *FieldError {
	return validateRevisionSpec(c, &t.Spec).ViaField("spec").
		Also(validateRevisionAnnotations(c, t.Annotations).ViaField("metadata", "annotations")).
		Also(validateTemplateName(c, t))
}

// validateRevisionSpec checks the PodSpec and Knative's per-revision knobs (§2.2).
func validateRevisionSpec(c reqCtx, rs *servingv1.RevisionSpec) *FieldError {
	errs := validatePodSpec(c, &rs.PodSpec)
	maxTimeout := c.cfg.Defaults.MaxRevisionTimeoutSeconds
	if rs.TimeoutSeconds != nil {
		if t := *rs.TimeoutSeconds; t < 0 || t > maxTimeout {
			errs = errs.Also(errOutOfBounds(t, 0, maxTimeout, "timeoutSeconds"))
		}
	}
	// The finer timeouts may not exceed the request timeout.
	upper := maxTimeout
	if rs.TimeoutSeconds != nil && *rs.TimeoutSeconds > 0 && *rs.TimeoutSeconds < upper {
		upper = *rs.TimeoutSeconds
	}
	for field, v := range map[string]*int64{"responseStartTimeoutSeconds": rs.ResponseStartTimeoutSeconds, "idleTimeoutSeconds": rs.IdleTimeoutSeconds} {
		if v != nil && (*v < 0 || *v > upper) {
			errs = errs.Also(errOutOfBounds(*v, 0, upper, field))
		}
	}
	if rs.ContainerConcurrency != nil {
		lower := int64(0)
		if !c.cfg.Defaults.AllowContainerConcurrencyZero {
			lower = 1
		}
		limit := c.cfg.Defaults.ContainerConcurrencyMaxLimit
		if cc := *rs.ContainerConcurrency; cc < lower || cc > limit {
			errs = errs.Also(errOutOfBounds(cc, lower, limit, "containerConcurrency"))
		}
	}
	return errs
}
