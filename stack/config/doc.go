// Package config parses Knative's config-* ConfigMaps (autoscaler, defaults, deployment, domain,
// features, gc, network) into typed, validated structs with Knative's keys and defaults
// (knative-semantics.md §1.8, §1.9, §2, §3.1), and keeps the last good set live in a Store.
package config
