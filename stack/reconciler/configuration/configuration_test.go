package configuration

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/servingsim/servingsim/stack/apis"
	"github.com/servingsim/servingsim/stack/apis/duck"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
)

type fixture struct {
	t   *testing.T
	c   client.Client
	r   *Reconciler
	rec *record.FakeRecorder
}

func newFixture(t *testing.T, objs ...client.Object) *fixture {
	c := fake.NewClientBuilder().WithScheme(apis.NewScheme()).
		WithStatusSubresource(&servingv1.Configuration{}, &servingv1.Revision{}).
		WithObjects(objs...).Build()
	rec := record.NewFakeRecorder(100)
	return &fixture{t: t, c: c, rec: rec,
		r: &Reconciler{Client: c, Config: config.NewStore(), Clock: clocktesting.NewFakeClock(t0), Recorder: rec}}
}

func (f *fixture) reconcile(name string) error {
	f.t.Helper()
	_, err := f.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: name}})
	return err
}

func (f *fixture) config(name string) *servingv1.Configuration {
	f.t.Helper()
	cfg := &servingv1.Configuration{}
	if err := f.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, cfg); err != nil {
		f.t.Fatal(err)
	}
	return cfg
}

// setRevisionReady sets the Revision's Ready condition as the revision reconciler would.
func (f *fixture) setRevisionReady(name string, status corev1.ConditionStatus, msg string) {
	f.t.Helper()
	rev := &servingv1.Revision{}
	ctx := context.Background()
	if err := f.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, rev); err != nil {
		f.t.Fatal(err)
	}
	rev.Status.Conditions = []duck.Condition{{Type: duck.ConditionReady, Status: status, Message: msg}}
	if err := f.c.Status().Update(ctx, rev); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) events() []string {
	var out []string
	for {
		select {
		case e := <-f.rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func readyOf(s *duck.Status) *duck.Condition { return s.GetCondition(duck.ConditionReady) }

func TestReconcile_FirstRevisionThenReady(t *testing.T) { // knative-semantics.md §1.4
	f := newFixture(t, newConfig("hello", 1))
	if err := f.reconcile("hello"); err != nil {
		t.Fatalf("Reconcile() = %v", err)
	}
	rev := &servingv1.Revision{}
	if err := f.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "hello-00001"}, rev); err != nil {
		t.Fatalf("Revision hello-00001 after first reconcile: %v", err)
	}
	if got := rev.Labels[serving.ConfigurationGenerationLabelKey]; got != "1" {
		t.Errorf("hello-00001 configurationGeneration = %q, want 1", got)
	}
	cfg := f.config("hello")
	if cfg.Status.LatestCreatedRevisionName != "hello-00001" || cfg.Status.LatestReadyRevisionName != "" {
		t.Errorf("status latestCreated/latestReady = %q/%q, want hello-00001/\"\"",
			cfg.Status.LatestCreatedRevisionName, cfg.Status.LatestReadyRevisionName)
	}
	if c := readyOf(&cfg.Status.Status); !c.IsUnknown() {
		t.Errorf("Ready = %+v, want Unknown while the Revision is not ready", c)
	}
	if cfg.Status.ObservedGeneration != 1 {
		t.Errorf("observedGeneration = %d, want 1", cfg.Status.ObservedGeneration)
	}
	if ev := f.events(); len(ev) != 1 || ev[0] != `Normal Created Created Revision "hello-00001"` {
		t.Errorf("events = %q, want one Created event", ev)
	}

	// A second reconcile finds the Revision by labels and does not create another.
	if err := f.reconcile("hello"); err != nil {
		t.Fatalf("Reconcile() = %v", err)
	}
	revs := &servingv1.RevisionList{}
	if err := f.c.List(context.Background(), revs); err != nil || len(revs.Items) != 1 {
		t.Fatalf("revisions after second reconcile = %d (err %v), want 1", len(revs.Items), err)
	}

	f.setRevisionReady("hello-00001", corev1.ConditionTrue, "")
	if err := f.reconcile("hello"); err != nil {
		t.Fatalf("Reconcile() = %v", err)
	}
	cfg = f.config("hello")
	if cfg.Status.LatestReadyRevisionName != "hello-00001" {
		t.Errorf("latestReady = %q, want hello-00001", cfg.Status.LatestReadyRevisionName)
	}
	if c := readyOf(&cfg.Status.Status); !c.IsTrue() {
		t.Errorf("Ready = %+v, want True once latestReady == latestCreated", c)
	}
	ev := f.events()
	want := []string{`Normal ConfigurationReady Configuration becomes ready`,
		`Normal LatestReadyUpdate LatestReadyRevisionName updated to "hello-00001"`}
	if strings.Join(ev, "|") != strings.Join(want, "|") {
		t.Errorf("events = %q, want %q", ev, want)
	}
}

func TestReconcile_FailedRevisionKeepsLatestReady(t *testing.T) { // §1.4 Revision Ready=False
	f := newFixture(t, newConfig("hello", 1))
	must(t, f.reconcile("hello"))
	f.setRevisionReady("hello-00001", corev1.ConditionTrue, "")
	must(t, f.reconcile("hello"))

	// A new generation: a new image that will crash.
	cfg := f.config("hello")
	cfg.Spec.Template.Spec.Containers[0].Image = "ko.local/hello:broken"
	cfg.Generation = 2 // the fake client does not bump generations
	must(t, f.c.Update(context.Background(), cfg))
	must(t, f.reconcile("hello"))
	cfg = f.config("hello")
	if cfg.Status.LatestCreatedRevisionName != "hello-00002" || cfg.Status.LatestReadyRevisionName != "hello-00001" {
		t.Errorf("latestCreated/latestReady = %q/%q, want hello-00002/hello-00001",
			cfg.Status.LatestCreatedRevisionName, cfg.Status.LatestReadyRevisionName)
	}
	if c := readyOf(&cfg.Status.Status); !c.IsUnknown() {
		t.Errorf("Ready while hello-00002 deploys = %+v, want Unknown", c)
	}

	f.setRevisionReady("hello-00002", corev1.ConditionFalse, "Container failed with: exit 1")
	f.events()
	must(t, f.reconcile("hello"))
	cfg = f.config("hello")
	c := readyOf(&cfg.Status.Status)
	wantMsg := `Revision "hello-00002" failed with message: Container failed with: exit 1.`
	if !c.IsFalse() || c.Reason != ReasonRevisionFailed || c.Message != wantMsg {
		t.Errorf("Ready = %+v, want False/RevisionFailed/%q", c, wantMsg)
	}
	if cfg.Status.LatestReadyRevisionName != "hello-00001" {
		t.Errorf("latestReady = %q, want it to stay on hello-00001", cfg.Status.LatestReadyRevisionName)
	}
	if ev := f.events(); len(ev) != 1 || ev[0] != `Warning LatestCreatedFailed Latest created revision "hello-00002" has failed` {
		t.Errorf("events = %q, want one LatestCreatedFailed", ev)
	}
}

func TestReconcile_LatestReadyDeleted(t *testing.T) { // §1.4 RevisionDeleted
	f := newFixture(t, newConfig("hello", 1))
	must(t, f.reconcile("hello"))
	f.setRevisionReady("hello-00001", corev1.ConditionTrue, "")
	must(t, f.reconcile("hello"))
	cfg := f.config("hello")
	cfg.Spec.Template.Spec.Containers[0].Image = "ko.local/hello:v2"
	cfg.Generation = 2
	must(t, f.c.Update(context.Background(), cfg))
	must(t, f.reconcile("hello"))
	must(t, f.c.Delete(context.Background(), &servingv1.Revision{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hello-00001"}}))
	must(t, f.reconcile("hello"))
	c := readyOf(&f.config("hello").Status.Status)
	if !c.IsFalse() || c.Reason != ReasonRevisionDeleted || c.Message != `Revision "hello-00001" was deleted.` {
		t.Errorf("Ready = %+v, want False/RevisionDeleted", c)
	}
}

func TestReconcile_BYONameTaken(t *testing.T) { // §1.4 BYO name held by another owner
	cfg := newConfig("hello", 1)
	cfg.Spec.Template.Name = "hello-blue"
	other := newConfig("other", 1)
	other.Spec.Template.Name = "hello-blue"
	foreign := MakeRevision(other, t0)
	f := newFixture(t, cfg, foreign)
	must(t, f.reconcile("hello"))
	c := readyOf(&f.config("hello").Status.Status)
	if !c.IsFalse() || c.Reason != ReasonRevisionFailed ||
		!strings.HasPrefix(c.Message, "Revision creation failed with message: ") || !strings.Contains(c.Message, `"hello-blue" already exists`) {
		t.Errorf("Ready = %+v, want False/RevisionFailed naming the taken name", c)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
