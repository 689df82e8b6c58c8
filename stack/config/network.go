package config

import (
	"bytes"
	"fmt"
	"text/template"
	"time"
)

// NetworkConfigName is the ConfigMap holding Network.
const NetworkConfigName = "config-network"

// Network is config-network (knative-semantics.md §1.6, §1.8).
type Network struct {
	DomainTemplate        string        // domain-template
	TagTemplate           string        // tag-template
	DefaultExternalScheme string        // default-external-scheme
	IngressClass          string        // ingress-class
	ExternalDomainTLS     bool          // external-domain-tls ("Enabled"/"Disabled")
	RolloutDuration       time.Duration // rollout-duration

	domainTmpl, tagTmpl *template.Template
}

// DefaultNetwork returns Knative's defaults.
func DefaultNetwork() *Network {
	n, _ := NewNetworkFromMap(nil)
	return n
}

// NewNetworkFromMap parses config-network data over the defaults.
func NewNetworkFromMap(data map[string]string) (*Network, error) {
	c := &Network{
		DomainTemplate:        "{{.Name}}.{{.Namespace}}.{{.Domain}}",
		TagTemplate:           "{{.Tag}}-{{.Name}}",
		DefaultExternalScheme: "http",
		IngressClass:          "istio.ingress.networking.knative.dev",
	}
	p := newParser(NetworkConfigName, data)
	p.str("domain-template", &c.DomainTemplate)
	p.str("domain-name-template", &c.DomainTemplate) // older key
	p.str("tag-template", &c.TagTemplate)
	p.str("default-external-scheme", &c.DefaultExternalScheme)
	p.str("ingress-class", &c.IngressClass)
	p.str("ingress.class", &c.IngressClass) // older key
	if v, ok := p.get("external-domain-tls"); ok {
		c.ExternalDomainTLS = v == "Enabled" || v == "enabled"
	}
	p.duration("rollout-duration", &c.RolloutDuration)
	p.check(c.RolloutDuration >= 0, "rollout-duration", "want a duration ≥ 0")
	p.check(c.DefaultExternalScheme == "http" || c.DefaultExternalScheme == "https", "default-external-scheme", "want http or https")
	var err error
	if c.domainTmpl, err = template.New("domain").Option("missingkey=error").Parse(c.DomainTemplate); err != nil {
		p.fail("domain-template", c.DomainTemplate, "want a Go template such as {{.Name}}.{{.Namespace}}.{{.Domain}}")
	}
	if c.tagTmpl, err = template.New("tag").Option("missingkey=error").Parse(c.TagTemplate); err != nil {
		p.fail("tag-template", c.TagTemplate, "want a Go template such as {{.Tag}}-{{.Name}}")
	}
	return c, p.err()
}

// DomainTemplateValues are the fields domain-template may use.
type DomainTemplateValues struct {
	Name, Namespace, Domain string
	Annotations, Labels     map[string]string
}

// TagTemplateValues are the fields tag-template may use.
type TagTemplateValues struct{ Name, Tag string }

// Host renders domain-template.
func (c *Network) Host(v DomainTemplateValues) (string, error) {
	return render(c.domainTmpl, v)
}

// DefaultHost renders the default domain template, used for cluster-local routes.
func DefaultHost(name, namespace, domain string) string {
	return fmt.Sprintf("%s.%s.%s", name, namespace, domain)
}

// TagName renders tag-template: the name a tag's host is built from.
func (c *Network) TagName(name, tag string) (string, error) {
	return render(c.tagTmpl, TagTemplateValues{Name: name, Tag: tag})
}

func render(t *template.Template, v any) (string, error) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		return "", err
	}
	return buf.String(), nil
}
