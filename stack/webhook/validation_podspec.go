package webhook

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/config"
)

// config-features keys gating fields beyond config.PodSpecFeatureFields (all Disabled by default).
const (
	featureFieldRef              = "kubernetes.podspec-fieldref"
	featurePVC                   = "kubernetes.podspec-persistent-volume-claim"
	featureHostPath              = "kubernetes.podspec-volumes-hostpath"
	featureCSI                   = "kubernetes.podspec-volumes-csi"
	featureMultiContainerProbing = "multi-container-probing"
	featureSecurityContext       = "kubernetes.podspec-securitycontext"
)

// podSpecFields are the PodSpec fields always allowed (§2.2 PodSpec allowed fields); the
// securityContext is checked field by field below.
var podSpecFields = []string{"serviceAccountName", "containers", "volumes", "imagePullSecrets",
	"enableServiceLinks", "automountServiceAccountToken", "securityContext"}

// podSecurityContextFields are allowed in the pod securityContext without
// kubernetes.podspec-securitycontext.
var podSecurityContextFields = []string{"runAsUser", "runAsGroup", "runAsNonRoot", "fsGroup",
	"supplementalGroups", "seccompProfile"}

// reservedMountPaths may not be mounted over (§2.2 Reserved names).
var reservedMountPaths = []string{"/", "/dev", "/dev/log"}

// validatePodSpec checks the PodSpec of a revision (§2.2).
func validatePodSpec(c reqCtx, ps *corev1.PodSpec) *FieldError {
	features := c.cfg.Features
	allowed := slices.Clone(podSpecFields)
	for _, field := range slices.Sorted(maps.Keys(config.PodSpecFeatureFields)) {
		if features.IsOn(config.PodSpecFeatureFields[field]) {
			allowed = append(allowed, field)
		}
	}
	errs := checkAllowed(*ps, allowed...)
	if sc := ps.SecurityContext; sc != nil && !features.IsOn(featureSecurityContext) {
		errs = errs.Also(checkAllowed(*sc, podSecurityContextFields...).ViaField("securityContext"))
	}
	if t := ps.AutomountServiceAccountToken; t != nil && *t {
		errs = errs.Also(errInvalidValue(true, "automountServiceAccountToken", "only false is allowed"))
	}
	if ps.ServiceAccountName != "" {
		if msgs := validation.IsDNS1123Subdomain(ps.ServiceAccountName); len(msgs) > 0 {
			errs = errs.Also(errInvalidValue(ps.ServiceAccountName, "serviceAccountName", msgs...))
		}
	}

	mounted := map[string]bool{}
	for _, ctr := range slices.Concat(ps.InitContainers, ps.Containers) {
		for _, m := range ctr.VolumeMounts {
			mounted[m.Name] = true
		}
	}
	volumes, verrs := validateVolumes(c, ps.Volumes, mounted)
	errs = errs.Also(verrs.ViaField("volumes"))

	errs = errs.Also(validateContainerNames(ps))
	n := len(ps.Containers)
	switch {
	case n == 0:
		errs = errs.Also(errMissingField("containers"))
	case n > 1 && !features.IsOn(config.FeatureMultiContainer):
		errs = errs.Also(errGeneric(fmt.Sprintf("multi-container is off, but found %d containers", n), "containers"))
	}
	port, perr := servingPort(ps.Containers)
	errs = errs.Also(perr)
	for i := range ps.Containers {
		ctr := &ps.Containers[i]
		var e *FieldError
		if n == 1 || len(ctr.Ports) > 0 {
			e = validateServingContainer(ctr, port)
		} else {
			e = validateSidecarContainer(c, ctr)
		}
		e = e.Also(validateContainer(c, ctr, volumes, containerFields))
		errs = errs.Also(e.ViaFieldIndex("containers", i))
	}
	for i := range ps.InitContainers {
		errs = errs.Also(validateContainer(c, &ps.InitContainers[i], volumes, initContainerFields).ViaFieldIndex("initContainers", i))
	}
	return errs
}

// validateContainerNames requires unique DNS-1123 container names across all containers.
func validateContainerNames(ps *corev1.PodSpec) *FieldError {
	var errs *FieldError
	seen := map[string]bool{}
	check := func(field string, ctrs []corev1.Container) {
		for i, ctr := range ctrs {
			if ctr.Name == "" {
				continue
			}
			if msgs := validation.IsDNS1123Label(ctr.Name); len(msgs) > 0 {
				errs = errs.Also(errInvalidValue(ctr.Name, "name", msgs...).ViaFieldIndex(field, i))
			} else if seen[ctr.Name] {
				errs = errs.Also(errGeneric(fmt.Sprintf("duplicate container name %q", ctr.Name), "name").ViaFieldIndex(field, i))
			}
			seen[ctr.Name] = true
		}
	}
	check("initContainers", ps.InitContainers)
	check("containers", ps.Containers)
	return errs
}

// volumeSources are the volume types allowed, each with the feature flag it needs ("" = none).
var volumeSources = []struct{ field, feature string }{
	{"secret", ""}, {"configMap", ""}, {"projected", ""},
	{"emptyDir", config.FeaturePodSpecVolumesEmptyDir}, {"persistentVolumeClaim", featurePVC},
	{"hostPath", featureHostPath}, {"csi", featureCSI},
}

// validateVolumes checks names (unique, mounted) and that each volume has exactly one allowed
// source. It returns the volumes by name for the mount checks.
func validateVolumes(c reqCtx, vols []corev1.Volume, mounted map[string]bool) (map[string]corev1.Volume, *FieldError) {
	var allowed []string
	for _, s := range volumeSources {
		if s.feature == "" || c.cfg.Features.IsOn(s.feature) {
			allowed = append(allowed, s.field)
		}
	}
	byName := map[string]corev1.Volume{}
	var errs *FieldError
	for i, v := range vols {
		var e *FieldError
		switch _, dup := byName[v.Name]; {
		case v.Name == "":
			e = e.Also(errMissingField("name"))
		case len(validation.IsDNS1123Label(v.Name)) > 0:
			e = e.Also(errInvalidValue(v.Name, "name", validation.IsDNS1123Label(v.Name)...))
		case dup:
			e = e.Also(errGeneric(fmt.Sprintf("duplicate volume name %q", v.Name), "name"))
		case !mounted[v.Name]:
			e = e.Also(errGeneric(fmt.Sprintf("volume with name %q not mounted", v.Name), "name"))
		}
		byName[v.Name] = v
		set := setFields(v.VolumeSource)
		e = e.Also(checkAllowed(v.VolumeSource, allowed...))
		switch len(set) {
		case 0:
			e = e.Also(errMissingOneOf(allowed...))
		case 1:
		default:
			e = e.Also(errMultipleOneOf(set...))
		}
		errs = errs.Also(e.ViaIndex(i))
	}
	return byName, errs
}

// validateVolumeMounts checks that each mount names a volume, has a unique, absolute,
// unreserved path, and is read-only unless it mounts writable storage.
func validateVolumeMounts(mounts []corev1.VolumeMount, volumes map[string]corev1.Volume) *FieldError {
	var errs *FieldError
	paths := map[string]bool{}
	for i, m := range mounts {
		e := checkAllowed(m, "name", "readOnly", "mountPath", "subPath")
		v, ok := volumes[m.Name]
		if !ok {
			e = e.Also(errGeneric("volumeMount has no matching volume", "name"))
		}
		clean := filepath.Clean(m.MountPath)
		switch {
		case m.MountPath == "":
			e = e.Also(errMissingField("mountPath"))
		case slices.Contains(reservedMountPaths, clean):
			e = e.Also(errGeneric(fmt.Sprintf("mountPath %q is a reserved path", clean), "mountPath"))
		case !filepath.IsAbs(m.MountPath):
			e = e.Also(errInvalidValue(m.MountPath, "mountPath"))
		case paths[clean]:
			e = e.Also(errInvalidValue(fmt.Sprintf("%q must be unique", m.MountPath), "mountPath"))
		}
		paths[clean] = true
		if ok && v.EmptyDir == nil && v.PersistentVolumeClaim == nil && v.Ephemeral == nil && !m.ReadOnly {
			e = e.Also(errMissingField("readOnly"))
		}
		errs = errs.Also(e.ViaIndex(i))
	}
	return errs
}

// isReservedPort reports the queue-proxy and profiling ports (§2.2 Reserved names).
func isReservedPort(p int32) bool {
	switch p {
	case serving.QueueHTTPPort, serving.QueueH2CPort, serving.QueueAdminPort,
		serving.AutoscalingQueueMetricsPort, serving.UserQueueMetricsPort, serving.ProfilingPort:
		return true
	}
	return false
}
