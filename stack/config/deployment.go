package config

import (
	"strings"
	"time"
)

// DeploymentConfigName is the ConfigMap holding Deployment.
const DeploymentConfigName = "config-deployment"

// Deployment is config-deployment (knative-semantics.md §1.5).
type Deployment struct {
	ProgressDeadline               time.Duration       // progress-deadline
	RegistriesSkippingTagResolving map[string]struct{} // registries-skipping-tag-resolving
	DigestResolutionTimeout        time.Duration       // digest-resolution-timeout
	QueueSidecarImage              string              // queue-sidecar-image
	PodIsAlwaysSchedulable         bool                // pod-is-always-schedulable
}

// DefaultDeployment returns Knative's defaults.
func DefaultDeployment() *Deployment {
	return &Deployment{
		ProgressDeadline:               600 * time.Second,
		RegistriesSkippingTagResolving: map[string]struct{}{"kind.local": {}, "ko.local": {}, "dev.local": {}},
		DigestResolutionTimeout:        10 * time.Second,
		QueueSidecarImage:              "gcr.io/knative-releases/knative.dev/serving/cmd/queue",
	}
}

// NewDeploymentFromMap parses config-deployment data over the defaults.
func NewDeploymentFromMap(data map[string]string) (*Deployment, error) {
	c := DefaultDeployment()
	p := newParser(DeploymentConfigName, data)
	p.duration("progress-deadline", &c.ProgressDeadline)
	p.duration("digest-resolution-timeout", &c.DigestResolutionTimeout)
	p.str("queue-sidecar-image", &c.QueueSidecarImage)
	p.boolean("pod-is-always-schedulable", &c.PodIsAlwaysSchedulable)
	if v, ok := p.get("registries-skipping-tag-resolving"); ok {
		c.RegistriesSkippingTagResolving = map[string]struct{}{}
		for r := range strings.SplitSeq(v, ",") {
			if r = strings.TrimSpace(r); r != "" {
				c.RegistriesSkippingTagResolving[r] = struct{}{}
			}
		}
	}
	p.check(c.ProgressDeadline > 0 && c.ProgressDeadline.Truncate(time.Second) == c.ProgressDeadline,
		"progress-deadline", "want a whole-second duration > 0")
	p.check(c.DigestResolutionTimeout > 0, "digest-resolution-timeout", "want a duration > 0")
	return c, p.err()
}
