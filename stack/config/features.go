package config

import "strings"

// FeaturesConfigName is the ConfigMap holding Features.
const FeaturesConfigName = "config-features"

// Flag is a feature state.
type Flag string

// Flag values.
const (
	FlagEnabled  Flag = "Enabled"
	FlagDisabled Flag = "Disabled"
	FlagAllowed  Flag = "Allowed"
)

// Features is config-features. Each known key maps to its state; unknown keys are kept so a
// newer Knative's flags are accepted.
type Features struct {
	Flags map[string]Flag
}

// Feature keys used by servingsim.
const (
	FeatureMultiContainer         = "multi-container"
	FeatureTagHeaderBasedRouting  = "tag-header-based-routing"
	FeaturePodSpecVolumesEmptyDir = "kubernetes.podspec-volumes-emptydir"
)

// PodSpecFeatureFields maps the flagged PodSpec fields to their config-features key
// (knative-semantics.md §2.2).
var PodSpecFeatureFields = map[string]string{
	"affinity":                  "kubernetes.podspec-affinity",
	"topologySpreadConstraints": "kubernetes.podspec-topologyspreadconstraints",
	"hostAliases":               "kubernetes.podspec-hostaliases",
	"nodeSelector":              "kubernetes.podspec-nodeselector",
	"runtimeClassName":          "kubernetes.podspec-runtimeclassname",
	"tolerations":               "kubernetes.podspec-tolerations",
	"securityContext":           "kubernetes.podspec-securitycontext",
	"shareProcessNamespace":     "kubernetes.podspec-shareprocessnamespace",
	"priorityClassName":         "kubernetes.podspec-priorityclassname",
	"schedulerName":             "kubernetes.podspec-schedulername",
	"initContainers":            "kubernetes.podspec-init-containers",
	"dnsPolicy":                 "kubernetes.podspec-dnspolicy",
	"dnsConfig":                 "kubernetes.podspec-dnsconfig",
	"hostIPC":                   "kubernetes.podspec-hostipc",
	"hostPID":                   "kubernetes.podspec-hostpid",
	"hostNetwork":               "kubernetes.podspec-hostnetwork",
}

// DefaultFeatures returns Knative's defaults: everything Disabled except multi-container and
// emptyDir volumes.
func DefaultFeatures() *Features {
	f := &Features{Flags: map[string]Flag{
		FeatureMultiContainer:         FlagEnabled,
		FeaturePodSpecVolumesEmptyDir: FlagEnabled,
		FeatureTagHeaderBasedRouting:  FlagDisabled,
	}}
	for _, k := range PodSpecFeatureFields {
		f.Flags[k] = FlagDisabled
	}
	return f
}

// NewFeaturesFromMap parses config-features data over the defaults.
func NewFeaturesFromMap(data map[string]string) (*Features, error) {
	c := DefaultFeatures()
	p := newParser(FeaturesConfigName, data)
	for k, v := range data {
		if strings.HasPrefix(k, "_") {
			continue
		}
		switch {
		case strings.EqualFold(strings.TrimSpace(v), string(FlagEnabled)):
			c.Flags[k] = FlagEnabled
		case strings.EqualFold(strings.TrimSpace(v), string(FlagDisabled)):
			c.Flags[k] = FlagDisabled
		case strings.EqualFold(strings.TrimSpace(v), string(FlagAllowed)):
			c.Flags[k] = FlagAllowed
		default:
			p.fail(k, v, "want Enabled, Disabled or Allowed")
		}
	}
	return c, p.err()
}

// IsOn reports whether key is Enabled or Allowed.
func (c *Features) IsOn(key string) bool {
	f := c.Flags[key]
	return f == FlagEnabled || f == FlagAllowed
}
