package service

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/servingsim/servingsim/stack/apis/duck"
	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/kmeta"
	"github.com/servingsim/servingsim/stack/reconciler/configuration"
	"github.com/servingsim/servingsim/stack/reconciler/labeler"
	"github.com/servingsim/servingsim/stack/reconciler/route"
)

// chain drives the four reconcilers by hand over one fake API server, standing in for the
// revision reconciler (Revision Ready) and the gateway (Ingress Ready).
type chain struct {
	t     *testing.T
	c     client.Client
	svc   *Reconciler
	cfg   *configuration.Reconciler
	route *route.Reconciler
	lab   *labeler.Reconciler
}

func newChain(t *testing.T, domain map[string]string) *chain {
	c := newClient(newService("hello"))
	store := config.NewStore()
	if err := store.Update(config.DomainConfigName, domain); err != nil {
		t.Fatal(err)
	}
	clk := clocktesting.NewFakeClock(t0)
	return &chain{t: t, c: c,
		svc:   &Reconciler{Client: c, Config: store, Clock: clk},
		cfg:   &configuration.Reconciler{Client: c, Config: store, Clock: clk},
		route: &route.Reconciler{Client: c, Config: store, Clock: clk},
		lab:   &labeler.Reconciler{Client: c, Config: store, Clock: clk},
	}
}

// settle runs every reconciler in dependency order a few times, as the watches would.
func (ch *chain) settle() {
	ch.t.Helper()
	ctx := context.Background()
	req := ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: "hello"}}
	for range 3 {
		for _, r := range []interface {
			Reconcile(context.Context, ctrl.Request) (ctrl.Result, error)
		}{ch.svc, ch.cfg, ch.route, ch.svc} {
			if _, err := r.Reconcile(ctx, req); err != nil {
				ch.t.Fatalf("%T.Reconcile() = %v", r, err)
			}
		}
		if _, err := ch.lab.Reconcile(ctx, labeler.NamespaceRequest(ns)); err != nil {
			ch.t.Fatalf("labeler.Reconcile() = %v", err)
		}
	}
}

func (ch *chain) setRevisionReady(name string, st corev1.ConditionStatus, msg string) {
	ch.t.Helper()
	rev := get(ch.t, ch.c, name, &servingv1.Revision{})
	rev.Status.ObservedGeneration = rev.Generation
	rev.Status.Conditions = []duck.Condition{{Type: duck.ConditionReady, Status: st, Message: msg}}
	must(ch.t, ch.c.Status().Update(context.Background(), rev))
}

func (ch *chain) gatewayProgramsIngress() {
	ch.t.Helper()
	ing := get(ch.t, ch.c, "hello", &netv1alpha1.Ingress{})
	ing.Status.ObservedGeneration = ing.Generation
	ing.Status.Conditions = []duck.Condition{{Type: duck.ConditionReady, Status: corev1.ConditionTrue}}
	must(ch.t, ch.c.Status().Update(context.Background(), ing))
}

func TestChain_KsvcBecomesReadyAndSurvivesAFailedRollout(t *testing.T) { // knative-semantics.md §1.2–§1.8
	ch := newChain(t, map[string]string{"example.com": ""})
	ch.settle()

	rev := get(t, ch.c, "hello-00001", &servingv1.Revision{})
	cfg := get(t, ch.c, "hello", &servingv1.Configuration{})
	if !kmeta.IsControlledBy(rev, cfg) || rev.Labels[serving.ServiceLabelKey] != "hello" {
		t.Errorf("hello-00001 owner/labels = %+v / %v, want controlled by Configuration hello with service label", rev.OwnerReferences, rev.Labels)
	}
	if got := rev.Labels[serving.RoutingStateLabelKey]; got != serving.RoutingStateActive {
		t.Errorf("hello-00001 routingState = %q, want active (the Service's Config is routed from the start)", got)
	}
	svc := get(t, ch.c, "hello", &servingv1.Service{})
	if c := svc.Status.GetCondition(servingv1.ServiceConditionConfigurationsReady); !c.IsUnknown() {
		t.Errorf("ConfigurationsReady before the Revision is ready = %+v, want Unknown", c)
	}
	if c := svc.Status.GetCondition(servingv1.ServiceConditionRoutesReady); !c.IsUnknown() || c.Reason != "RevisionMissing" {
		t.Errorf("RoutesReady before the Revision is ready = %+v, want Unknown/RevisionMissing", c)
	}

	ch.setRevisionReady("hello-00001", corev1.ConditionTrue, "")
	ch.settle()
	ch.gatewayProgramsIngress()
	ch.settle()
	svc = get(t, ch.c, "hello", &servingv1.Service{})
	if c := svc.Status.GetCondition(duck.ConditionReady); !c.IsTrue() {
		t.Fatalf("Service Ready = %+v (conditions %+v), want True", c, svc.Status.Conditions)
	}
	if svc.Status.URL != "http://hello.demo.example.com" || svc.Status.LatestReadyRevisionName != "hello-00001" {
		t.Errorf("Service url/latestReady = %q/%q, want http://hello.demo.example.com/hello-00001", svc.Status.URL, svc.Status.LatestReadyRevisionName)
	}

	// Roll out a broken image: generation 2 fails, traffic stays on hello-00001.
	svc.Spec.Template.Spec.Containers[0].Image = "ko.local/hello:broken"
	svc.Generation = 2
	must(t, ch.c.Update(context.Background(), svc))
	ctx := context.Background()
	if _, err := ch.svc.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: "hello"}}); err != nil {
		t.Fatal(err)
	}
	cfg = get(t, ch.c, "hello", &servingv1.Configuration{})
	cfg.Generation = 2 // the API server bumps it on the spec change
	must(t, ch.c.Update(ctx, cfg))
	ch.settle()
	ch.setRevisionReady("hello-00002", corev1.ConditionFalse, "Back-off pulling image")
	ch.settle()

	cfg = get(t, ch.c, "hello", &servingv1.Configuration{})
	if cfg.Status.LatestReadyRevisionName != "hello-00001" || cfg.Status.LatestCreatedRevisionName != "hello-00002" {
		t.Errorf("Configuration latestReady/latestCreated = %q/%q, want hello-00001/hello-00002",
			cfg.Status.LatestReadyRevisionName, cfg.Status.LatestCreatedRevisionName)
	}
	svc = get(t, ch.c, "hello", &servingv1.Service{})
	c := svc.Status.GetCondition(servingv1.ServiceConditionConfigurationsReady)
	if !c.IsFalse() || c.Reason != "RevisionFailed" || c.Message != `Revision "hello-00002" failed with message: Back-off pulling image.` {
		t.Errorf("ConfigurationsReady = %+v, want False/RevisionFailed", c)
	}
	if tr := svc.Status.Traffic; len(tr) != 1 || tr[0].RevisionName != "hello-00001" {
		t.Errorf("Service traffic = %+v, want still 100%% hello-00001", tr)
	}
	if got := get(t, ch.c, "hello-00002", &servingv1.Revision{}).Labels[serving.RoutingStateLabelKey]; got != serving.RoutingStateActive {
		t.Errorf("hello-00002 routingState = %q, want active (latest created of a routed Config)", got)
	}
}
