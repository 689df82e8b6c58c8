package gc

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/servingsim/servingsim/stack/apis"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
)

var now = time.Date(2026, 8, 10, 12, 0, 0, 0, time.UTC)

// rev is a Revision of config "hello" created `age` ago, last active `idle` ago (0: never
// re-labelled), in routing state `state`.
func rev(n int, age, idle time.Duration, state string) *servingv1.Revision {
	r := &servingv1.Revision{ObjectMeta: metav1.ObjectMeta{
		Name: fmt.Sprintf("hello-%05d", n), Namespace: "ns",
		CreationTimestamp: metav1.NewTime(now.Add(-age)),
		Labels:            map[string]string{serving.ConfigurationLabelKey: "hello", serving.RoutingStateLabelKey: state},
		Annotations:       map[string]string{},
	}}
	if idle > 0 {
		r.Annotations[serving.RoutingStateModifiedAnnotationKey] = now.Add(-idle).Format(time.RFC3339)
	}
	return r
}

func gcConfig(create, active time.Duration, minKeep, maxKeep int64) *config.GC {
	return &config.GC{RetainSinceCreateTime: create, RetainSinceLastActiveTime: active, MinNonActiveRevisions: minKeep, MaxNonActiveRevisions: maxKeep}
}

func names(revs []*servingv1.Revision) []string {
	out := []string{}
	for _, r := range revs {
		out = append(out, r.Name)
	}
	return out
}

const (
	day     = 24 * time.Hour
	reserve = serving.RoutingStateReserve
	active  = serving.RoutingStateActive
)

func TestSelect_Section1_9(t *testing.T) {
	old := func(n int, idle time.Duration) *servingv1.Revision { return rev(n, 10*day, idle, reserve) }
	noGC := old(9, 5*day)
	noGC.Annotations[serving.NoGCAnnotationKey] = "true"
	cases := []struct {
		name        string
		revs        []*servingv1.Revision
		latestReady string
		cfg         *config.GC
		want        []string
		recheck     time.Duration
	}{
		{
			name: "stale ones go, oldest last-active first, down to min",
			revs: []*servingv1.Revision{old(1, 3*day), old(2, 5*day), old(3, 4*day), old(4, 2*day), old(5, day)},
			cfg:  gcConfig(48*time.Hour, 15*time.Hour, 2, 1000),
			want: []string{"hello-00002", "hello-00003", "hello-00001"},
		},
		{
			name:        "latest ready, no-gc and non-reserve revisions are never collected",
			revs:        []*servingv1.Revision{old(1, 5*day), rev(2, 10*day, 5*day, active), rev(3, 10*day, 0, serving.RoutingStatePending), noGC, old(4, 4*day)},
			latestReady: "hello-00004",
			cfg:         gcConfig(48*time.Hour, 15*time.Hour, 0, 1000),
			want:        []string{"hello-00001"},
		},
		{
			name:    "recently created or recently active revisions are kept, with a recheck when the next turns stale",
			revs:    []*servingv1.Revision{rev(1, 47*time.Hour, 0, reserve), old(2, 10*time.Hour), old(3, 3*day)},
			cfg:     gcConfig(48*time.Hour, 15*time.Hour, 0, 1000),
			want:    []string{"hello-00003"},
			recheck: time.Hour, // hello-00001 turns 48h old in an hour (its last-active is its creation, 47h ago)
		},
		{
			name: "no more than min revisions in total: nothing",
			revs: []*servingv1.Revision{old(1, 5*day), old(2, 5*day)},
			cfg:  gcConfig(48*time.Hour, 15*time.Hour, 2, 1000),
			want: []string{},
		},
		{
			name: "max caps the non-active revisions even when none is stale",
			revs: []*servingv1.Revision{rev(1, time.Hour, 0, reserve), rev(2, 2*time.Hour, 0, reserve), rev(3, 3*time.Hour, 0, reserve), rev(4, 4*time.Hour, 0, reserve)},
			cfg:  gcConfig(48*time.Hour, 15*time.Hour, 0, 2),
			want: []string{"hello-00004", "hello-00003"},
			// the two kept turn stale at 48h after creation; the older (2h) first.
			recheck: 46 * time.Hour,
		},
		{
			name: "everything disabled: nothing",
			revs: []*servingv1.Revision{old(1, 5*day), old(2, 5*day), old(3, 5*day)},
			cfg:  gcConfig(config.Disabled, config.Disabled, 0, config.Disabled),
			want: []string{},
		},
		{
			name: "time windows disabled, max still applies",
			revs: []*servingv1.Revision{old(1, 5*day), old(2, 3*day), old(3, 4*day)},
			cfg:  gcConfig(config.Disabled, config.Disabled, 0, 1),
			want: []string{"hello-00001", "hello-00003"},
		},
		{
			name: "retain-since-create-time disabled: only last-active counts",
			revs: []*servingv1.Revision{rev(1, time.Hour, 0, reserve), rev(2, 20*time.Hour, 0, reserve)},
			cfg:  gcConfig(config.Disabled, 15*time.Hour, 0, config.Disabled),
			want: []string{"hello-00002"},
			// hello-00001 was created (= last active) an hour ago: stale in 14h.
			recheck: 14 * time.Hour,
		},
		{
			name: "max disabled: stale ones still go",
			revs: []*servingv1.Revision{old(1, 5*day), old(2, 4*day)},
			cfg:  gcConfig(48*time.Hour, 15*time.Hour, 1, config.Disabled),
			want: []string{"hello-00001"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Select(c.revs, c.latestReady, c.cfg, now)
			if fmt.Sprint(names(got.Delete)) != fmt.Sprint(c.want) {
				t.Errorf("Select deletes %v, want %v", names(got.Delete), c.want)
			}
			if got.RecheckAfter != c.recheck {
				t.Errorf("Select RecheckAfter = %v, want %v", got.RecheckAfter, c.recheck)
			}
		})
	}
}

func TestGCDeletesStaleBeyondMin_Section1_9(t *testing.T) {
	cfg := &servingv1.Configuration{ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: "ns"}}
	cfg.Status.LatestReadyRevisionName = "hello-00004"
	objs := []client.Object{cfg,
		rev(1, 10*day, 5*day, reserve), rev(2, 10*day, 4*day, reserve), rev(3, 10*day, 3*day, reserve),
		rev(4, 10*day, 0, active),
		&servingv1.Revision{ObjectMeta: metav1.ObjectMeta{Name: "other-00001", Namespace: "ns", CreationTimestamp: metav1.NewTime(now.Add(-10 * day)),
			Labels: map[string]string{serving.ConfigurationLabelKey: "other", serving.RoutingStateLabelKey: reserve}}},
	}
	c := fake.NewClientBuilder().WithScheme(apis.NewScheme()).WithObjects(objs...).Build()
	store := config.NewStore()
	if err := store.Update(config.GCConfigName, map[string]string{"min-non-active-revisions": "1"}); err != nil {
		t.Fatal(err)
	}
	r := &Reconciler{Client: c, Config: store, Clock: clocktesting.NewFakeClock(now)}
	if _, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "hello"}}); err != nil {
		t.Fatalf("Reconcile = %v", err)
	}
	var list servingv1.RevisionList
	if err := c.List(context.Background(), &list); err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, r := range list.Items {
		left = append(left, r.Name)
	}
	sort.Strings(left)
	if want := "[hello-00003 hello-00004 other-00001]"; fmt.Sprint(left) != want {
		t.Errorf("revisions left = %v, want %s (two oldest stale deleted, min 1 non-active kept, other config untouched)", left, want)
	}
}
