package config

import (
	"k8s.io/apimachinery/pkg/api/resource"
)

// DefaultsConfigName is the ConfigMap holding Defaults.
const DefaultsConfigName = "config-defaults"

// Defaults is config-defaults (knative-semantics.md §2.1–2.2).
type Defaults struct {
	RevisionTimeoutSeconds              int64  // revision-timeout-seconds
	MaxRevisionTimeoutSeconds           int64  // max-revision-timeout-seconds
	RevisionResponseStartTimeoutSeconds int64  // revision-response-start-timeout-seconds
	RevisionIdleTimeoutSeconds          int64  // revision-idle-timeout-seconds
	ContainerConcurrency                int64  // container-concurrency
	ContainerConcurrencyMaxLimit        int64  // container-concurrency-max-limit
	AllowContainerConcurrencyZero       bool   // allow-container-concurrency-zero
	UserContainerNameTemplate           string // container-name-template
	InitContainerNameTemplate           string // init-container-name-template
	EnableServiceLinks                  *bool  // enable-service-links ("default" leaves it unset)

	// Resource defaults, nil unless set (revision-cpu-request, ...-memory-limit and so on).
	RevisionCPURequest              *resource.Quantity
	RevisionCPULimit                *resource.Quantity
	RevisionMemoryRequest           *resource.Quantity
	RevisionMemoryLimit             *resource.Quantity
	RevisionEphemeralStorageRequest *resource.Quantity
	RevisionEphemeralStorageLimit   *resource.Quantity
}

// DefaultDefaults returns Knative's defaults.
func DefaultDefaults() *Defaults {
	f := false
	return &Defaults{
		RevisionTimeoutSeconds:              300,
		MaxRevisionTimeoutSeconds:           600,
		RevisionResponseStartTimeoutSeconds: 300,
		RevisionIdleTimeoutSeconds:          0,
		ContainerConcurrency:                0,
		ContainerConcurrencyMaxLimit:        1000,
		AllowContainerConcurrencyZero:       true,
		UserContainerNameTemplate:           "user-container",
		InitContainerNameTemplate:           "init-container",
		EnableServiceLinks:                  &f,
	}
}

// NewDefaultsFromMap parses config-defaults data over the defaults.
func NewDefaultsFromMap(data map[string]string) (*Defaults, error) {
	c := DefaultDefaults()
	p := newParser(DefaultsConfigName, data)
	p.int64("revision-timeout-seconds", &c.RevisionTimeoutSeconds)
	p.int64("max-revision-timeout-seconds", &c.MaxRevisionTimeoutSeconds)
	p.int64("revision-response-start-timeout-seconds", &c.RevisionResponseStartTimeoutSeconds)
	p.int64("revision-idle-timeout-seconds", &c.RevisionIdleTimeoutSeconds)
	p.int64("container-concurrency", &c.ContainerConcurrency)
	p.int64("container-concurrency-max-limit", &c.ContainerConcurrencyMaxLimit)
	p.boolean("allow-container-concurrency-zero", &c.AllowContainerConcurrencyZero)
	p.str("container-name-template", &c.UserContainerNameTemplate)
	p.str("init-container-name-template", &c.InitContainerNameTemplate)
	if v, ok := p.get("enable-service-links"); ok {
		switch v {
		case "default":
			c.EnableServiceLinks = nil
		default:
			var b bool
			p.boolean("enable-service-links", &b)
			c.EnableServiceLinks = &b
		}
	}
	for key, dst := range map[string]**resource.Quantity{
		"revision-cpu-request": &c.RevisionCPURequest, "revision-cpu-limit": &c.RevisionCPULimit,
		"revision-memory-request": &c.RevisionMemoryRequest, "revision-memory-limit": &c.RevisionMemoryLimit,
		"revision-ephemeral-storage-request": &c.RevisionEphemeralStorageRequest,
		"revision-ephemeral-storage-limit":   &c.RevisionEphemeralStorageLimit,
	} {
		if v, ok := p.get(key); ok && v != "" {
			q, err := resource.ParseQuantity(v)
			if err != nil {
				p.fail(key, v, "want a resource quantity such as 100m or 128Mi")
				continue
			}
			*dst = &q
		}
	}
	p.check(c.RevisionTimeoutSeconds >= 1, "revision-timeout-seconds", "want ≥ 1")
	p.check(c.MaxRevisionTimeoutSeconds >= c.RevisionTimeoutSeconds, "max-revision-timeout-seconds", "want ≥ revision-timeout-seconds")
	p.check(c.RevisionResponseStartTimeoutSeconds >= 0 && c.RevisionResponseStartTimeoutSeconds <= c.MaxRevisionTimeoutSeconds,
		"revision-response-start-timeout-seconds", "want a value in [0, max-revision-timeout-seconds]")
	p.check(c.RevisionIdleTimeoutSeconds >= 0 && c.RevisionIdleTimeoutSeconds <= c.MaxRevisionTimeoutSeconds,
		"revision-idle-timeout-seconds", "want a value in [0, max-revision-timeout-seconds]")
	p.check(c.ContainerConcurrencyMaxLimit >= 1, "container-concurrency-max-limit", "want ≥ 1")
	minCC := int64(0)
	if !c.AllowContainerConcurrencyZero {
		minCC = 1
	}
	p.check(c.ContainerConcurrency >= minCC && c.ContainerConcurrency <= c.ContainerConcurrencyMaxLimit,
		"container-concurrency", "want a value in [0 (1 if allow-container-concurrency-zero is false), container-concurrency-max-limit]")
	return c, p.err()
}
