package scenarios

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/servingsim/servingsim/harness"
	"github.com/servingsim/servingsim/harness/load"
	"github.com/servingsim/servingsim/reports"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/app"
	"github.com/servingsim/servingsim/stack/config"
)

// TestRun_RefusesWhatItCannotRun: problems found before any stack starts end in an Error
// verdict that says what is wrong, with the run still returned for the report.
func TestRun_RefusesWhatItCannotRun(t *testing.T) {
	valid := parseEval(t, "    - errorRate: {max: 0}\n")
	invalid := parseEval(t, "    - errorRate: {max: 0}\n")
	invalid.Spec.Workload[0].Target.Service = "nope"
	saved := runVirtual
	defer func() { runVirtual = saved }()
	runVirtual = nil
	for _, tc := range []struct {
		name string
		s    *Scenario
		opts RunOptions
		want string
	}{
		{"nil", nil, RunOptions{}, "no scenario"},
		{"unknown mode", valid, RunOptions{Mode: "replay"}, `unknown mode "replay"; want live or virtual`},
		{"no virtual driver", valid, RunOptions{Mode: ModeVirtual}, "virtual mode not available"},
		{"invalid", invalid, RunOptions{}, `spec.workload[0].target.service: "nope" is not a Knative Service or Route`},
	} {
		run, err := Run(context.Background(), tc.s, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) || run == nil || run.Verdict != reports.Error || run.Error != err.Error() {
			t.Errorf("%s: Run() = %+v, %v; want an Error verdict saying %q", tc.name, run, err, tc.want)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

// TestLoadPhases: every phase kind maps onto harness/load's phase of the same meaning.
func TestLoadPhases(t *testing.T) {
	s := time.Second
	st := Stream{Phases: []Phase{
		{Constant: &ConstantPhase{Rate: 10, Duration: Duration(s)}},
		{Ramp: &RampPhase{From: 1, To: 5, Duration: Duration(2 * s)}},
		{Step: &StepPhase{From: 10, To: 30, Steps: 3, Duration: Duration(6 * s)}},
		{Sine: &SinePhase{Mean: 10, Amplitude: 5, Period: Duration(s), Duration: Duration(3 * s)}},
		{Burst: &BurstPhase{Requests: 5}},
		{Idle: &IdlePhase{Duration: Duration(s)}},
		{Concurrent: &ConcurrentPhase{Clients: 3, Duration: Duration(s)}},
		{Trace: &TracePhase{Arrivals: []Duration{0, Duration(s)}}},
	}}
	got, err := loadPhases(st)
	if err != nil {
		t.Fatal(err)
	}
	want := []load.Phase{
		load.Constant{Rate: 10, Duration: s}, load.Ramp{From: 1, To: 5, Duration: 2 * s},
		load.Step{From: 10, To: 30, Steps: 3, StepDuration: 2 * s}, load.Sine{Mean: 10, Amp: 5, Period: s, Duration: 3 * s},
		load.Burst{Requests: 5}, load.Idle{Duration: s}, load.Concurrent{Clients: 3, Duration: s},
		load.Trace{Arrivals: []time.Duration{0, s}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("loadPhases() mismatch (-want +got):\n%s", diff)
	}
	var total time.Duration
	for _, p := range got {
		total += p.Length()
	}
	if total != st.End() {
		t.Errorf("load phases last %s, the stream %s", total, st.End())
	}
}

// TestStackOptions: the scenario's stack settings become the harness's, and the app model
// becomes every pod's default annotations (the pod's own win).
func TestStackOptions(t *testing.T) {
	s := parseEval(t, "    - errorRate: {max: 0}\n")
	s.Spec.Stack = Stack{Activators: 3, ConfigOverrides: map[string]map[string]string{"config-autoscaler": {"stable-window": "6s"}},
		PodStartup: PodStartup{Startup: "500ms"}, DrainQuietPeriod: Duration(2 * time.Second),
		App: AppModel{ServiceTime: "100ms", ErrorRate: 0.01, Concurrency: 2}}
	opts, sb, err := StackOptions(s, 7, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	so := opts.System
	if so.Seed != 7 || len(so.Addresses.Activators) != 3 || so.DrainQuietPeriod != 2*time.Second ||
		so.ConfigOverrides["config-autoscaler"]["stable-window"] != "6s" || so.PodRuntime.Sandbox != sb {
		t.Errorf("StackOptions() = %+v", so)
	}
	if want, _ := Distribution("500ms").Dist(); !cmp.Equal(so.PodRuntime.Startup.Startup, want) {
		t.Errorf("startup model = %+v, want 500ms", so.PodRuntime.Startup)
	}
	want := map[string]string{app.ServiceTimeKey: "100ms", app.ErrorRateKey: "0.01", app.ConcurrencyKey: "2"}
	if diff := cmp.Diff(want, sb.defaults); diff != "" {
		t.Errorf("app defaults (-want +got):\n%s", diff)
	}
	if got := OwnStackSettings(s); strings.Join(got, ",") != "spec.stack.activators,spec.stack.podStartup,spec.stack.app,spec.stack.drainQuietPeriod" {
		t.Errorf("OwnStackSettings() = %v", got)
	}
}

// TestRun_ReusedStack runs a scenario on a stack the caller owns: its config overrides and
// setConfig actions are undone afterwards and its objects deleted, while the run itself sees
// them (§3.1 config-autoscaler keys).
func TestRun_ReusedStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real API server")
	}
	ctx := context.Background()
	st, err := harness.Start(ctx, harness.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := st.Stop(); err != nil {
			t.Error(err)
		}
	}()
	s, err := New("reuse").
		Config("config-autoscaler", "stable-window", "7s").
		WithService(map[string]any{"apiVersion": "serving.knative.dev/v1", "kind": "Service", "metadata": map[string]any{"name": "hello"},
			"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"image": "ghcr.io/knative/helloworld-go:latest"}}}}}}).
		Constant("hello", 20, 2*time.Second).
		At(time.Second, &SetConfig{ConfigMap: "config-autoscaler", Data: map[string]string{"max-scale-down-rate": "4"}}).
		Expect(&StatusCodesExpect{Scope: Scope{Service: "hello"}, Codes: map[string]Count{"200": Exactly(40)}}).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	var seen map[string]string
	var ns string
	run, err := Run(ctx, s, RunOptions{Stack: st, Inspect: func(ctx context.Context, st *harness.Stack, namespace string) {
		ns = namespace
		seen = configData(ctx, t, st)
	}})
	if err != nil || run.Verdict != reports.Pass {
		t.Fatalf("Run() = %v, verdict %s: %+v", err, run.Verdict, run.Expectations)
	}
	if seen["stable-window"] != "7s" || seen["max-scale-down-rate"] != "4" {
		t.Errorf("during the run config-autoscaler had %v, want stable-window 7s and max-scale-down-rate 4", seen)
	}
	after := configData(ctx, t, st)
	if _, ok := after["stable-window"]; ok {
		t.Errorf("after the run config-autoscaler still has stable-window %q", after["stable-window"])
	}
	if _, ok := after["max-scale-down-rate"]; ok {
		t.Errorf("after the run config-autoscaler still has max-scale-down-rate %q", after["max-scale-down-rate"])
	}
	var svcs servingv1.ServiceList
	var deps appsv1.DeploymentList
	if err := st.Client.List(ctx, &svcs, client.InNamespace(ns)); err != nil || len(svcs.Items) != 0 {
		t.Errorf("after the run %s has %d Services (%v), want none", ns, len(svcs.Items), err)
	}
	if err := st.Client.List(ctx, &deps, client.InNamespace(ns)); err != nil || len(deps.Items) != 0 {
		t.Errorf("after the run %s has %d Deployments (%v), want none", ns, len(deps.Items), err)
	}
	if run.Seed != st.System.Random.Seed() {
		t.Errorf("run seed %d, want the stack's %d", run.Seed, st.System.Random.Seed())
	}
	// A scenario that needs stack settings of its own is refused on a shared stack.
	s.Spec.Stack.Activators = 2
	if _, err := Run(ctx, s, RunOptions{Stack: st}); err == nil || !strings.Contains(err.Error(), "spec.stack.activators need a stack of their own") {
		t.Errorf("Run(activators: 2) on a shared stack = %v, want a refusal", err)
	}
}

func configData(ctx context.Context, t *testing.T, st *harness.Stack) map[string]string {
	cm := &corev1.ConfigMap{}
	if err := st.Client.Get(ctx, types.NamespacedName{Namespace: config.SystemNamespace, Name: "config-autoscaler"}, cm); err != nil {
		t.Fatal(err)
	}
	return cm.Data
}
