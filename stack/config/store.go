package config

import (
	"fmt"
	"sync"
)

// Config is one consistent snapshot of every config-* ConfigMap.
type Config struct {
	Autoscaler *Autoscaler
	Defaults   *Defaults
	Deployment *Deployment
	Domain     *Domain
	Features   *Features
	GC         *GC
	Network    *Network
}

// Default returns the snapshot a fresh Knative install has.
func Default() *Config {
	dom, _ := NewDomainFromMap(nil)
	return &Config{
		Autoscaler: DefaultAutoscaler(),
		Defaults:   DefaultDefaults(),
		Deployment: DefaultDeployment(),
		Domain:     dom,
		Features:   DefaultFeatures(),
		GC:         DefaultGC(),
		Network:    DefaultNetwork(),
	}
}

// Names lists every ConfigMap the Store understands, in namespace knative-serving.
var Names = []string{AutoscalerConfigName, DefaultsConfigName, DeploymentConfigName, DomainConfigName,
	FeaturesConfigName, GCConfigName, NetworkConfigName}

// Store holds the last good Config. Update parses one ConfigMap; on error the previous value of
// that part stays in force and the error (naming key and value) is returned for the caller to
// report.
type Store struct {
	mu  sync.RWMutex
	cur *Config
}

// NewStore returns a store starting from Knative's defaults.
func NewStore() *Store { return &Store{cur: Default()} }

// Load returns the current snapshot. Callers must not modify it.
func (s *Store) Load() *Config {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cur
}

// Update parses the data of ConfigMap name and swaps it in if valid. A deleted ConfigMap is
// passed as nil data and restores the defaults.
func (s *Store) Update(name string, data map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := *s.cur
	var err error
	switch name {
	case AutoscalerConfigName:
		var v *Autoscaler
		if v, err = NewAutoscalerFromMap(data); err == nil {
			next.Autoscaler = v
		}
	case DefaultsConfigName:
		var v *Defaults
		if v, err = NewDefaultsFromMap(data); err == nil {
			next.Defaults = v
		}
	case DeploymentConfigName:
		var v *Deployment
		if v, err = NewDeploymentFromMap(data); err == nil {
			next.Deployment = v
		}
	case DomainConfigName:
		var v *Domain
		if v, err = NewDomainFromMap(data); err == nil {
			next.Domain = v
		}
	case FeaturesConfigName:
		var v *Features
		if v, err = NewFeaturesFromMap(data); err == nil {
			next.Features = v
		}
	case GCConfigName:
		var v *GC
		if v, err = NewGCFromMap(data); err == nil {
			next.GC = v
		}
	case NetworkConfigName:
		var v *Network
		if v, err = NewNetworkFromMap(data); err == nil {
			next.Network = v
		}
	default:
		return fmt.Errorf("unknown ConfigMap %q (known: %v)", name, Names)
	}
	if err != nil {
		return err
	}
	s.cur = &next
	return nil
}
