package webhook

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
)

// keyPath is the path element of a map key: "[serving.knative.dev/creator]".
func keyPath(key string) string { return "[" + key + "]" }

// validateObjectName requires a DNS-1035 name or generateName (§2.2 Names).
func validateObjectName(m *metav1.ObjectMeta) *FieldError {
	if m.GenerateName != "" {
		if msgs := apivalidation.NameIsDNS1035Label(m.GenerateName, true); len(msgs) > 0 {
			return errGeneric(fmt.Sprint("not a DNS 1035 label prefix: ", msgs), "generateName")
		}
	}
	if m.Name != "" {
		if msgs := apivalidation.NameIsDNS1035Label(m.Name, false); len(msgs) > 0 {
			return errGeneric(fmt.Sprint("not a DNS 1035 label: ", msgs), "name")
		}
	}
	if m.Name == "" && m.GenerateName == "" {
		return errGeneric("name or generateName is required", "name")
	}
	return nil
}

// noAutoscalingAnnotations rejects autoscaling annotations on a Service, Configuration or Route:
// they only take effect on the revision template (§2.2).
func noAutoscalingAnnotations(anns map[string]string) *FieldError {
	var errs *FieldError
	for k := range anns {
		if strings.HasPrefix(k, serving.AutoscalingGroup+"/") {
			errs = errs.Also(errGeneric(`autoscaling annotations must be put under "spec.template.metadata.annotations" to work`, keyPath(k)))
		}
	}
	return errs
}

// validateVisibilityLabel accepts only cluster-local as networking.knative.dev/visibility.
func validateVisibilityLabel(labels map[string]string) *FieldError {
	if v, ok := labels[serving.VisibilityLabelKey]; ok && v != serving.VisibilityClusterLocal {
		return errInvalidValue(v, keyPath(serving.VisibilityLabelKey))
	}
	return nil
}

// validateRolloutDuration checks serving.knative.dev/rollout-duration (or its legacy alias): a
// non-negative duration of whole seconds (§2.2 Traffic).
func validateRolloutDuration(anns map[string]string) *FieldError {
	k, v, ok := lookup(anns, serving.RolloutDurationKey, serving.RolloutDurationLegacyKey)
	if !ok {
		return nil
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		return errInvalidValue(v, keyPath(k))
	case d.Truncate(time.Second) != d:
		return errGeneric(fmt.Sprintf("rollout-duration=%s is not at second precision", v), keyPath(k))
	case d < 0:
		return errGeneric(fmt.Sprintf("rollout-duration=%s must be positive", v), keyPath(k))
	}
	return nil
}

// validateOwnerLabel requires that an ownership label (e.g. serving.knative.dev/service) names
// an owner reference of the given kind (§2.2 Ownership labels).
func validateOwnerLabel(m *metav1.ObjectMeta, label, kind string) *FieldError {
	v, ok := m.Labels[label]
	if !ok {
		return nil
	}
	for _, ref := range m.OwnerReferences {
		if ref.Kind == kind && ref.Name == v {
			return nil
		}
	}
	return errMissingField(keyPath(label))
}

// revisionLabels are the serving.knative.dev labels a Revision may carry.
var revisionLabels = []string{
	serving.RoutingStateLabelKey, serving.RouteLabelKey, serving.ServiceLabelKey, serving.ServiceUIDLabelKey,
	serving.ConfigurationGenerationLabelKey, serving.ConfigurationUIDLabelKey, serving.ConfigurationLabelKey,
}

// validateRevisionLabels requires the configuration label to match a Configuration owner and
// rejects unknown serving.knative.dev labels.
func validateRevisionLabels(m *metav1.ObjectMeta) *FieldError {
	errs := validateOwnerLabel(m, serving.ConfigurationLabelKey, "Configuration")
	for k := range m.Labels {
		if strings.HasPrefix(k, serving.GroupName+"/") && !slices.Contains(revisionLabels, k) {
			errs = errs.Also(errInvalidKeyName(k, ""))
		}
	}
	return errs
}

// validateUserAnnotations keeps the creator annotation immutable, and lastModifier unchanged
// while the spec is unchanged. Skipped when either side has no annotations.
func validateUserAnnotations(oldAnns, newAnns map[string]string, oldSpec, newSpec any) *FieldError {
	if oldAnns == nil || newAnns == nil {
		return nil
	}
	var errs *FieldError
	if oldAnns[serving.CreatorAnnotation] != newAnns[serving.CreatorAnnotation] {
		errs = errs.Also(errGeneric("annotation value is immutable", keyPath(serving.CreatorAnnotation)))
	}
	if equality.Semantic.DeepEqual(oldSpec, newSpec) && oldAnns[serving.UpdaterAnnotation] != newAnns[serving.UpdaterAnnotation] {
		errs = errs.Also(errGeneric("annotation value is immutable", keyPath(serving.UpdaterAnnotation)))
	}
	return errs
}

// validateTemplateName applies the BYO revision name rules: a DNS-1035 label prefixed by
// "<parent>-", and not allowed while the parent has only a generateName (§2.2 Names).
func validateTemplateName(c reqCtx, t *servingv1.RevisionTemplateSpec) *FieldError {
	if t.Name == "" {
		return nil
	}
	if msgs := apivalidation.NameIsDNS1035Label(t.Name, false); len(msgs) > 0 {
		return errGeneric(fmt.Sprint("not a DNS 1035 label: ", msgs), "metadata.name")
	}
	if c.parent.Name == "" && c.parent.GenerateName != "" {
		return errDisallowedFields("metadata.name")
	}
	if prefix := c.parent.Name + "-"; !strings.HasPrefix(t.Name, prefix) {
		return errInvalidValue(fmt.Sprintf("%q must have prefix %q", t.Name, prefix), "metadata.name")
	}
	return nil
}

// verifyNameChange rejects template changes that keep the same BYO revision name (§2.2).
func verifyNameChange(old, cur *servingv1.RevisionTemplateSpec) *FieldError {
	if cur.Name == "" || cur.Name != old.Name {
		return nil
	}
	diff, err := shortDiff(old, cur)
	switch {
	case err != nil:
		return &FieldError{Message: "Failed to diff RevisionTemplate", Details: err.Error()}
	case diff != "":
		return &FieldError{Message: "Saw the following changes without a name change (-old +new)",
			Paths: []string{"metadata.name"}, Details: diff}
	}
	return nil
}

// lookup returns the first of keys present in m, with its value.
func lookup(m map[string]string, keys ...string) (key, value string, ok bool) {
	for _, k := range keys {
		if v, found := m[k]; found {
			return k, v, true
		}
	}
	return "", "", false
}
