package config

import (
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// DomainConfigName is the ConfigMap holding Domain.
const DomainConfigName = "config-domain"

// DefaultDomain is used when config-domain has no entries (knative-semantics.md §1.8).
const DefaultDomain = "svc.cluster.local"

// DomainEntry is one domain with the label selector Routes must match to use it.
type DomainEntry struct {
	Domain   string
	Selector map[string]string
}

// Domain is config-domain: keys are domains, values are label selectors (YAML `selector:` maps;
// an empty value matches every Route).
type Domain struct {
	Entries []DomainEntry
}

// NewDomainFromMap parses config-domain data.
func NewDomainFromMap(data map[string]string) (*Domain, error) {
	c := &Domain{}
	p := newParser(DomainConfigName, data)
	keys := make([]string, 0, len(data))
	for k := range data {
		if !strings.HasPrefix(k, "_") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		var v struct {
			Selector map[string]string `json:"selector"`
		}
		if err := yaml.Unmarshal([]byte(data[k]), &v); err != nil {
			p.fail(k, data[k], "want empty or a YAML map with a 'selector:' of labels")
			continue
		}
		c.Entries = append(c.Entries, DomainEntry{Domain: k, Selector: v.Selector})
	}
	return c, p.err()
}

// LookupDomain returns the domain for a Route with these labels: the entry with the most specific
// matching selector wins, ties broken lexically; with no match, svc.cluster.local.
func (c *Domain) LookupDomain(routeLabels map[string]string) string {
	best, bestSpec := "", -1
	for _, e := range c.Entries { // sorted by domain, so the first of equal specificity wins
		if !labels.SelectorFromSet(e.Selector).Matches(labels.Set(routeLabels)) {
			continue
		}
		if len(e.Selector) > bestSpec {
			best, bestSpec = e.Domain, len(e.Selector)
		}
	}
	if best == "" {
		return DefaultDomain
	}
	return best
}
