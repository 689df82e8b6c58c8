package route

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/servingsim/servingsim/stack/apis/duck"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
)

const ns = "demo"

func rev(name, cfg string, ready corev1.ConditionStatus) *servingv1.Revision {
	r := &servingv1.Revision{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{
		serving.ConfigurationLabelKey: cfg, serving.ServiceLabelKey: cfg}}}
	r.Spec.Containers = []corev1.Container{{Image: "img"}}
	if ready != "" {
		r.Status.Conditions = []duck.Condition{{Type: duck.ConditionReady, Status: ready}}
	}
	return r
}

func cfgWith(name, latestReady string, ready corev1.ConditionStatus) *servingv1.Configuration {
	c := &servingv1.Configuration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	c.Status.LatestReadyRevisionName = latestReady
	if ready != "" {
		c.Status.Conditions = []duck.Condition{{Type: duck.ConditionReady, Status: ready}}
	}
	return c
}

func lookup(objs ...any) MapLookup {
	l := MapLookup{Configurations: map[string]*servingv1.Configuration{}, Revisions: map[string]*servingv1.Revision{}}
	for _, o := range objs {
		switch o := o.(type) {
		case *servingv1.Configuration:
			l.Configurations[o.Name] = o
		case *servingv1.Revision:
			l.Revisions[o.Name] = o
		}
	}
	return l
}

func newRoute(svc string, traffic ...servingv1.TrafficTarget) *servingv1.Route {
	r := &servingv1.Route{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hello", UID: "route-uid", Labels: map[string]string{}}}
	if svc != "" {
		r.Labels[serving.ServiceLabelKey] = svc
	}
	r.Spec.Traffic = traffic
	return r
}

func pct(p int64) *int64 { return ptr.To(p) }

// render shows a target list as "rev:percent[tag]" for compact comparisons.
func render(ts []RevisionTarget) string {
	var parts []string
	for _, t := range ts {
		p := "nil"
		if t.Percent != nil {
			p = fmt.Sprint(*t.Percent)
		}
		s := t.RevisionName + ":" + p
		if t.Tag != "" {
			s += "[" + t.Tag + "]"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestFlatten_KnativeTrafficRules(t *testing.T) { // knative-semantics.md §1.6 traffic flattening, targets map
	world := lookup(
		cfgWith("hello", "hello-00002", corev1.ConditionTrue),
		rev("hello-00001", "hello", corev1.ConditionTrue),
		rev("hello-00002", "hello", corev1.ConditionTrue),
	)
	cases := []struct {
		name      string
		traffic   []servingv1.TrafficTarget
		targets   map[string]string
		flattened string
	}{{
		name:      "configuration target resolves to latestReadyRevisionName",
		traffic:   []servingv1.TrafficTarget{{ConfigurationName: "hello", Percent: pct(100)}},
		targets:   map[string]string{"": "hello-00002:100"},
		flattened: "hello-00002:100",
	}, {
		name: "80/20 split plus a 0% tag on the new revision",
		traffic: []servingv1.TrafficTarget{
			{RevisionName: "hello-00001", Percent: pct(80)},
			{ConfigurationName: "hello", LatestRevision: ptr.To(true), Percent: pct(20)},
			{RevisionName: "hello-00002", Tag: "candidate", Percent: pct(0)},
		},
		targets:   map[string]string{"": "hello-00001:80 hello-00002:20", "candidate": "hello-00002:100[candidate]"},
		flattened: "hello-00001:80 hello-00002:20 hello-00002:0[candidate]",
	}, {
		name: "tagged 50/50: each tag URL gets 100% of its revision",
		traffic: []servingv1.TrafficTarget{
			{RevisionName: "hello-00001", Tag: "blue", Percent: pct(50)},
			{RevisionName: "hello-00002", Tag: "green", Percent: pct(50)},
		},
		targets: map[string]string{"": "hello-00001:50[blue] hello-00002:50[green]",
			"blue": "hello-00001:100[blue]", "green": "hello-00002:100[green]"},
		flattened: "hello-00001:50[blue] hello-00002:50[green]",
	}, {
		name: "same tag, revision and latestRevision are merged by summing",
		traffic: []servingv1.TrafficTarget{
			{RevisionName: "hello-00001", Percent: pct(30)},
			{RevisionName: "hello-00002", Percent: pct(40)},
			{RevisionName: "hello-00001", Percent: pct(30)},
		},
		targets:   map[string]string{"": "hello-00001:60 hello-00002:40"},
		flattened: "hello-00001:60 hello-00002:40",
	}, {
		name: "latest and pinned targets on one revision stay apart in status but share a split",
		traffic: []servingv1.TrafficTarget{
			{ConfigurationName: "hello", Percent: pct(50)},
			{RevisionName: "hello-00002", Percent: pct(50)},
		},
		targets:   map[string]string{"": "hello-00002:100"},
		flattened: "hello-00002:50 hello-00002:50",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Flatten(newRoute("hello", c.traffic...), world)
			if err != nil {
				t.Fatalf("Flatten() error = %v", err)
			}
			if len(got.Targets) != len(c.targets) {
				t.Errorf("Flatten() target names = %v, want %d names", got.Names(), len(c.targets))
			}
			for name, want := range c.targets {
				if r := render(got.Targets[name]); r != want {
					t.Errorf("Flatten().Targets[%q] = %s, want %s", name, r, want)
				}
			}
			if r := render(got.Flattened); r != c.flattened {
				t.Errorf("Flatten().Flattened = %s, want %s", r, c.flattened)
			}
		})
	}
}

func TestFlatten_StatusTraffic(t *testing.T) { // §1.6 status.traffic
	world := lookup(cfgWith("hello", "hello-00002", corev1.ConditionTrue),
		rev("hello-00001", "hello", corev1.ConditionTrue), rev("hello-00002", "hello", corev1.ConditionTrue))
	tr, err := Flatten(newRoute("hello",
		servingv1.TrafficTarget{ConfigurationName: "hello", Percent: pct(80)},
		servingv1.TrafficTarget{RevisionName: "hello-00001", Tag: "old", Percent: pct(20)}), world)
	if err != nil {
		t.Fatal(err)
	}
	st := tr.StatusTraffic(func(tag string) string { return "http://" + tag + "-hello.demo.example.com" })
	want := []servingv1.TrafficTarget{
		{RevisionName: "hello-00002", LatestRevision: ptr.To(true), Percent: pct(80)},
		{RevisionName: "hello-00001", Tag: "old", LatestRevision: ptr.To(false), Percent: pct(20), URL: "http://old-hello.demo.example.com"},
	}
	if len(st) != len(want) {
		t.Fatalf("StatusTraffic() = %+v, want %+v", st, want)
	}
	for i := range want {
		g, w := st[i], want[i]
		if g.RevisionName != w.RevisionName || g.Tag != w.Tag || *g.LatestRevision != *w.LatestRevision ||
			*g.Percent != *w.Percent || g.URL != w.URL || g.ConfigurationName != "" {
			t.Errorf("StatusTraffic()[%d] = %+v, want %+v", i, g, w)
		}
	}
}

func TestFlatten_TargetErrors(t *testing.T) { // §1.6 RevisionMissing / ConfigurationMissing / RevisionNotOwned
	type want struct {
		reason, msg string
		failure     bool
	}
	cases := []struct {
		name    string
		svc     string
		world   MapLookup
		traffic []servingv1.TrafficTarget
		want    want
	}{{
		name:    "configuration missing",
		world:   lookup(),
		traffic: []servingv1.TrafficTarget{{ConfigurationName: "hello", Percent: pct(100)}},
		want:    want{"ConfigurationMissing", `Configuration "hello" referenced in traffic not found.`, true},
	}, {
		name:    "revision missing",
		world:   lookup(),
		traffic: []servingv1.TrafficTarget{{RevisionName: "hello-00009", Percent: pct(100)}},
		want:    want{"RevisionMissing", `Revision "hello-00009" referenced in traffic not found.`, true},
	}, {
		name:    "configuration still waiting for its first ready revision",
		world:   lookup(cfgWith("hello", "", corev1.ConditionUnknown)),
		traffic: []servingv1.TrafficTarget{{ConfigurationName: "hello", Percent: pct(100)}},
		want:    want{"RevisionMissing", `Configuration "hello" is waiting for a Revision to become ready.`, false},
	}, {
		name:    "configuration failed without any ready revision",
		world:   lookup(cfgWith("hello", "", corev1.ConditionFalse)),
		traffic: []servingv1.TrafficTarget{{ConfigurationName: "hello", Percent: pct(100)}},
		want:    want{"RevisionMissing", `Configuration "hello" does not have any ready Revision.`, true},
	}, {
		name:    "revision not yet ready",
		world:   lookup(cfgWith("hello", "", ""), rev("hello-00001", "hello", corev1.ConditionUnknown)),
		traffic: []servingv1.TrafficTarget{{RevisionName: "hello-00001", Percent: pct(100)}},
		want:    want{"RevisionMissing", `Revision "hello-00001" is not yet ready.`, false},
	}, {
		name:    "revision failed",
		world:   lookup(cfgWith("hello", "", ""), rev("hello-00001", "hello", corev1.ConditionFalse)),
		traffic: []servingv1.TrafficTarget{{RevisionName: "hello-00001", Percent: pct(100)}},
		want:    want{"RevisionMissing", `Revision "hello-00001" failed to become ready.`, true},
	}, {
		name:    "a failure outranks an earlier not-ready target",
		world:   lookup(cfgWith("hello", "", ""), rev("hello-00001", "hello", corev1.ConditionUnknown)),
		traffic: []servingv1.TrafficTarget{{RevisionName: "hello-00001", Percent: pct(50)}, {RevisionName: "gone", Percent: pct(50)}},
		want:    want{"RevisionMissing", `Revision "gone" referenced in traffic not found.`, true},
	}, {
		name:    "a Service's route may not use another Service's revision",
		svc:     "hello",
		world:   lookup(cfgWith("other", "", ""), rev("other-00001", "other", corev1.ConditionTrue)),
		traffic: []servingv1.TrafficTarget{{RevisionName: "other-00001", Percent: pct(100)}},
		want:    want{"RevisionNotOwned", `Revision "other-00001" referenced in traffic is not owned by Service "hello".`, true},
	}, {
		name:    "a ready revision whose configuration is gone",
		world:   lookup(rev("hello-00001", "hello", corev1.ConditionTrue)),
		traffic: []servingv1.TrafficTarget{{RevisionName: "hello-00001", Percent: pct(100)}},
		want:    want{"ConfigurationMissing", `Configuration "hello" referenced in traffic not found.`, true},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr, err := Flatten(newRoute(c.svc, c.traffic...), c.world)
			var te *TargetError
			if !errors.As(err, &te) || tr != nil {
				t.Fatalf("Flatten() = %v, %v; want a *TargetError", tr, err)
			}
			if got := (want{te.Reason, te.Message, te.Failure}); got != c.want {
				t.Errorf("Flatten() error = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestRevisionProtocol_H2CPortName(t *testing.T) { // §1.5 PA spec protocolType, §6 port 81
	r := rev("r", "c", "")
	if got := RevisionProtocol(r); got != ProtocolHTTP1 {
		t.Errorf("RevisionProtocol(no ports) = %s, want http1", got)
	}
	r.Spec.Containers = []corev1.Container{{Name: "sidecar"}, {Name: "app", Ports: []corev1.ContainerPort{{Name: "h2c", ContainerPort: 8080}}}}
	if got := RevisionProtocol(r); got != ProtocolH2C {
		t.Errorf("RevisionProtocol(port h2c on the serving container) = %s, want h2c", got)
	}
}
