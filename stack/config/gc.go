package config

import "time"

// GCConfigName is the ConfigMap holding GC.
const GCConfigName = "config-gc"

// GC is config-gc (knative-semantics.md §1.9). Disabled (-1) turns a knob off.
type GC struct {
	RetainSinceCreateTime     time.Duration // retain-since-create-time
	RetainSinceLastActiveTime time.Duration // retain-since-last-active-time
	MinNonActiveRevisions     int64         // min-non-active-revisions
	MaxNonActiveRevisions     int64         // max-non-active-revisions
}

// DefaultGC returns Knative's defaults.
func DefaultGC() *GC {
	return &GC{
		RetainSinceCreateTime:     48 * time.Hour,
		RetainSinceLastActiveTime: 15 * time.Hour,
		MinNonActiveRevisions:     20,
		MaxNonActiveRevisions:     1000,
	}
}

// NewGCFromMap parses config-gc data over the defaults.
func NewGCFromMap(data map[string]string) (*GC, error) {
	c := DefaultGC()
	p := newParser(GCConfigName, data)
	p.durationOrDisabled("retain-since-create-time", &c.RetainSinceCreateTime)
	p.durationOrDisabled("retain-since-last-active-time", &c.RetainSinceLastActiveTime)
	p.int64("min-non-active-revisions", &c.MinNonActiveRevisions)
	p.intOrDisabled("max-non-active-revisions", &c.MaxNonActiveRevisions)
	p.check(c.RetainSinceCreateTime >= 0 || c.RetainSinceCreateTime == Disabled, "retain-since-create-time", "want a duration ≥ 0 or \"disabled\"")
	p.check(c.RetainSinceLastActiveTime >= 0 || c.RetainSinceLastActiveTime == Disabled, "retain-since-last-active-time", "want a duration ≥ 0 or \"disabled\"")
	p.check(c.MinNonActiveRevisions >= 0, "min-non-active-revisions", "want ≥ 0")
	p.check(c.MaxNonActiveRevisions == Disabled || c.MaxNonActiveRevisions >= c.MinNonActiveRevisions,
		"max-non-active-revisions", "want ≥ min-non-active-revisions or \"disabled\"")
	return c, p.err()
}
