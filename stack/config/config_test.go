package config

import (
	"strings"
	"testing"
	"time"
)

func TestAutoscalerDefaultsMatchKnative(t *testing.T) { // knative-semantics.md §3.1
	c, err := NewAutoscalerFromMap(nil)
	if err != nil {
		t.Fatalf("NewAutoscalerFromMap(nil) error = %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"container-concurrency-target-percentage", c.ContainerConcurrencyTargetFraction, 0.7},
		{"container-concurrency-target-default", c.ContainerConcurrencyTargetDefault, 100.0},
		{"requests-per-second-target-default", c.RPSTargetDefault, 200.0},
		{"target-burst-capacity", c.TargetBurstCapacity, 211.0},
		{"stable-window", c.StableWindow, 60 * time.Second},
		{"panic-window-percentage", c.PanicWindowPercentage, 10.0},
		{"panic-threshold-percentage", c.PanicThresholdPercentage, 200.0},
		{"max-scale-up-rate", c.MaxScaleUpRate, 1000.0},
		{"max-scale-down-rate", c.MaxScaleDownRate, 2.0},
		{"enable-scale-to-zero", c.EnableScaleToZero, true},
		{"scale-to-zero-grace-period", c.ScaleToZeroGracePeriod, 30 * time.Second},
		{"activator-capacity", c.ActivatorCapacity, 100.0},
		{"initial-scale", c.InitialScale, int32(1)},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("default %s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
}

func TestAutoscalerPercentagesAboveOneAreDividedBy100(t *testing.T) {
	for in, want := range map[string]float64{"80": 0.8, "0.5": 0.5, "100": 1} {
		c, err := NewAutoscalerFromMap(map[string]string{"container-concurrency-target-percentage": in})
		if err != nil || c.ContainerConcurrencyTargetFraction != want {
			t.Errorf("target-percentage %s → %v, %v; want %v", in, c.ContainerConcurrencyTargetFraction, err, want)
		}
	}
}

func TestInvalidValuesNameKeyAndValue(t *testing.T) {
	cases := []struct {
		name string
		data map[string]string
		fn   func(map[string]string) error
		want string
	}{
		{"stable window too short", map[string]string{"stable-window": "5s"}, func(d map[string]string) error { _, err := NewAutoscalerFromMap(d); return err },
			`config-autoscaler: key "stable-window" has value "5s": want a whole-second duration in [6s, 1h]`},
		{"tbc below -1", map[string]string{"target-burst-capacity": "-2"}, func(d map[string]string) error { _, err := NewAutoscalerFromMap(d); return err },
			`key "target-burst-capacity" has value "-2": want ≥ 0 or exactly -1`},
		{"not a number", map[string]string{"max-scale-up-rate": "fast"}, func(d map[string]string) error { _, err := NewAutoscalerFromMap(d); return err },
			`key "max-scale-up-rate" has value "fast": want a number`},
		{"zero initial scale not allowed", map[string]string{"initial-scale": "0"}, func(d map[string]string) error { _, err := NewAutoscalerFromMap(d); return err },
			`key "initial-scale" has value "0"`},
		{"gc max below min", map[string]string{"min-non-active-revisions": "5", "max-non-active-revisions": "2"}, func(d map[string]string) error { _, err := NewGCFromMap(d); return err },
			`config-gc: key "max-non-active-revisions" has value "2"`},
		{"bad feature flag", map[string]string{"multi-container": "maybe"}, func(d map[string]string) error { _, err := NewFeaturesFromMap(d); return err },
			`config-features: key "multi-container" has value "maybe": want Enabled, Disabled or Allowed`},
		{"bad progress deadline", map[string]string{"progress-deadline": "1.5s"}, func(d map[string]string) error { _, err := NewDeploymentFromMap(d); return err },
			`config-deployment: key "progress-deadline" has value "1.5s"`},
	}
	for _, c := range cases {
		err := c.fn(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error = %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

func TestGCDisabled(t *testing.T) { // §1.9: "disabled" is allowed
	c, err := NewGCFromMap(map[string]string{"max-non-active-revisions": "disabled", "retain-since-create-time": "disabled"})
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxNonActiveRevisions != Disabled || c.RetainSinceCreateTime != Disabled {
		t.Errorf("disabled knobs = %d, %v; want -1, -1", c.MaxNonActiveRevisions, c.RetainSinceCreateTime)
	}
}

func TestDomainMostSpecificSelectorWins(t *testing.T) { // §1.8
	d, err := NewDomainFromMap(map[string]string{
		"example.com": "",
		"prod.com":    "selector:\n  env: prod\n",
		"prod-eu.com": "selector:\n  env: prod\n  region: eu\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]map[string]string{
		"example.com": {"app": "x"},
		"prod.com":    {"env": "prod"},
		"prod-eu.com": {"env": "prod", "region": "eu"},
	}
	for want, labels := range cases {
		if got := d.LookupDomain(labels); got != want {
			t.Errorf("LookupDomain(%v) = %q, want %q", labels, got, want)
		}
	}
	empty, _ := NewDomainFromMap(nil)
	if got := empty.LookupDomain(nil); got != DefaultDomain {
		t.Errorf("LookupDomain with no entries = %q, want %q", got, DefaultDomain)
	}
}

func TestNetworkTemplates(t *testing.T) {
	n := DefaultNetwork()
	h, err := n.Host(DomainTemplateValues{Name: "hello", Namespace: "ns", Domain: "example.com"})
	if err != nil || h != "hello.ns.example.com" {
		t.Errorf("Host = %q, %v; want hello.ns.example.com", h, err)
	}
	tag, _ := n.TagName("hello", "blue")
	if tag != "blue-hello" {
		t.Errorf("TagName(hello, blue) = %q, want blue-hello", tag)
	}
	if _, err := NewNetworkFromMap(map[string]string{"domain-template": "{{.Name"}); err == nil {
		t.Error("broken domain-template accepted")
	}
}

func TestStoreKeepsLastGoodConfig(t *testing.T) {
	s := NewStore()
	if err := s.Update(AutoscalerConfigName, map[string]string{"stable-window": "10s"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(AutoscalerConfigName, map[string]string{"stable-window": "1s"}); err == nil {
		t.Fatal("invalid stable-window accepted")
	}
	if got := s.Load().Autoscaler.StableWindow; got != 10*time.Second {
		t.Errorf("stable-window after a bad update = %v, want the last good 10s", got)
	}
	if err := s.Update(AutoscalerConfigName, nil); err != nil || s.Load().Autoscaler.StableWindow != 60*time.Second {
		t.Errorf("deleting config-autoscaler did not restore the 60s default")
	}
}

func TestPanicWindowRoundsToWholeSeconds(t *testing.T) { // §3.2
	if got := PanicWindow(60*time.Second, 10); got != 6*time.Second {
		t.Errorf("PanicWindow(60s, 10%%) = %v, want 6s", got)
	}
	if got := PanicWindow(6*time.Second, 1); got != time.Second {
		t.Errorf("PanicWindow(6s, 1%%) = %v, want the 1s minimum", got)
	}
}
