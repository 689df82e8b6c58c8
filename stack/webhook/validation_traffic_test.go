package webhook

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
)

func traffic(tts ...servingv1.TrafficTarget) func(*servingv1.Service) {
	return func(s *servingv1.Service) { s.Spec.Traffic = tts }
}

func pct(p int64) *int64 { return ptr.To(p) }

func TestValidate_ServiceTrafficRules(t *testing.T) { // §2.2 Traffic
	runSvcCases(t, []svcCase{
		{name: "sum 90", mod: traffic(servingv1.TrafficTarget{Percent: pct(90)}),
			want: "Traffic targets sum to 90, want 100: spec.traffic"},
		{name: "percent above 100", mod: traffic(servingv1.TrafficTarget{Percent: pct(101)}, servingv1.TrafficTarget{RevisionName: "hello-1", Percent: pct(-1)}),
			want: "expected 0 <= -1 <= 100: spec.traffic[1].percent\nexpected 0 <= 101 <= 100: spec.traffic[0].percent"},
		{name: "duplicate tag", mod: traffic(servingv1.TrafficTarget{Percent: pct(100), Tag: "a"}, servingv1.TrafficTarget{RevisionName: "hello-1", Tag: "a"}),
			want: `Multiple definitions for "a": spec.traffic[0].tag, spec.traffic[1].tag`},
		{name: "bad tag", mod: traffic(servingv1.TrafficTarget{Percent: pct(100), Tag: "Bad_Tag"}),
			want: "invalid value: not a DNS 1035 label: [a DNS-1035 label must consist of lower case alphanumeric characters or '-', " +
				"start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', " +
				"regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')]: spec.traffic[0].tag"},
		{name: "configurationName in a Service", mod: traffic(servingv1.TrafficTarget{ConfigurationName: "hello", Percent: pct(100)}),
			want: "must not set the field(s): spec.traffic[0].configurationName"},
		{name: "revisionName with latestRevision true", mod: traffic(servingv1.TrafficTarget{RevisionName: "hello-1", LatestRevision: ptr.To(true), Percent: pct(100)}),
			want: `may not set revisionName "hello-1" when latestRevision is true: spec.traffic[0].latestRevision`},
		{name: "latestRevision false without revisionName", mod: traffic(servingv1.TrafficTarget{LatestRevision: ptr.To(false), Percent: pct(100)}),
			want: `may not set revisionName "" when latestRevision is false: spec.traffic[0].latestRevision`},
		{name: "url in spec", mod: traffic(servingv1.TrafficTarget{Percent: pct(100), Tag: "a", URL: "http://a"}),
			want: "must not set the field(s): spec.traffic[0].url"},
		{name: "split between latest and pinned", mod: traffic(servingv1.TrafficTarget{Percent: pct(50)},
			servingv1.TrafficTarget{RevisionName: "hello-00001", Percent: pct(50), Tag: "prev"})},
	})
}

func TestValidate_RouteTrafficRules(t *testing.T) { // §2.2 Traffic, standalone Route
	cases := []struct {
		name string
		tts  []servingv1.TrafficTarget
		want string
	}{
		{"neither target", []servingv1.TrafficTarget{{Percent: pct(100)}},
			"expected exactly one, got neither: spec.traffic[0].configurationName, spec.traffic[0].revisionName"},
		{"both targets", []servingv1.TrafficTarget{{RevisionName: "a", ConfigurationName: "b", Percent: pct(100)}},
			"expected exactly one, got both: spec.traffic[0].configurationName, spec.traffic[0].revisionName\n" +
				`may not set revisionName "a" when latestRevision is true: spec.traffic[0].latestRevision`},
		{"empty", nil, "missing field(s): spec.traffic"},
		{"configuration", []servingv1.TrafficTarget{{ConfigurationName: "c", Percent: pct(100)}}, "<nil>"},
	}
	for _, c := range cases {
		r := &servingv1.Route{ObjectMeta: metav1.ObjectMeta{Name: "r"}, Spec: servingv1.RouteSpec{Traffic: c.tts}}
		// "both targets" keeps latestRevision explicit to exercise the sense check too.
		if c.name == "both targets" {
			r.Spec.Traffic[0].LatestRevision = ptr.To(true)
		}
		if got := errString(admit(t, r, Options{})); got != c.want {
			t.Errorf("Validate(route %s) = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestValidate_RolloutDuration(t *testing.T) { // §2.2 Traffic: rollout-duration
	ann := func(k, v string) func(*servingv1.Service) {
		return func(s *servingv1.Service) { s.Annotations = map[string]string{k: v} }
	}
	runSvcCases(t, []svcCase{
		{name: "not a duration", mod: ann("serving.knative.dev/rollout-duration", "soon"),
			want: "invalid value: soon: metadata.annotations[serving.knative.dev/rollout-duration]"},
		{name: "sub-second", mod: ann("serving.knative.dev/rollout-duration", "1500ms"),
			want: "rollout-duration=1500ms is not at second precision: metadata.annotations[serving.knative.dev/rollout-duration]"},
		{name: "negative legacy key", mod: ann("serving.knative.dev/rolloutDuration", "-5s"),
			want: "rollout-duration=-5s must be positive: metadata.annotations[serving.knative.dev/rolloutDuration]"},
		{name: "fine", mod: ann("serving.knative.dev/rollout-duration", "2m")},
	})
}
