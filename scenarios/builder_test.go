package scenarios

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
)

const builderYAML = `apiVersion: servingsim.dev/v1alpha1
kind: Scenario
metadata:
  name: hello-load
  labels: {suite: example}
spec:
  stack:
    configOverrides:
      config-autoscaler: {stable-window: 6s}
  services:
    - apiVersion: serving.knative.dev/v1
      kind: Service
      metadata: {name: hello}
      spec:
        template:
          spec:
            containers:
              - image: ghcr.io/knative/helloworld-go:latest
  workload:
    - target: {service: hello}
      phases:
        - ramp: {from: 0, to: 50, duration: 10s}
        - constant: {rate: 50, duration: 30s}
        - idle: {duration: 20s}
  actions:
    - at: 20s
      killPod: {service: hello}
  expect:
    - reaches: {service: hello, pods: 1, within: 10s}
    - errorRate: {service: hello, max: 0}
`

// TestBuilder_SameValueAsYAML: the Go constructors and the YAML file give the same Scenario.
func TestBuilder_SameValueAsYAML(t *testing.T) {
	ksvc := &servingv1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "serving.knative.dev/v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: "hello"},
	}
	ksvc.Spec.Template.Spec.Containers = []corev1.Container{{Image: "ghcr.io/knative/helloworld-go:latest"}}
	built, err := New("hello-load").
		Label("suite", "example").
		Config("config-autoscaler", "stable-window", "6s").
		WithService(map[string]any{
			"apiVersion": "serving.knative.dev/v1", "kind": "Service", "metadata": map[string]any{"name": "hello"},
			"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
				"containers": []any{map[string]any{"image": "ghcr.io/knative/helloworld-go:latest"}}}}},
		}).
		Ramp("hello", 0, 50, 10*time.Second).
		Constant("hello", 50, 30*time.Second).
		Idle("hello", 20*time.Second).
		At(20*time.Second, &KillPod{Service: "hello"}).
		Expect(&ReachesExpect{Service: "hello", Pods: 1, Within: Duration(10 * time.Second)}).
		Expect(&ErrorRateExpect{Scope: Scope{Service: "hello"}}).
		Build()
	if err != nil {
		t.Fatalf("Build() = %v", err)
	}
	loaded, err := Parse([]byte(builderYAML), "hello-load.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(loaded, built, cmpopts.IgnoreUnexported(Scenario{}, Service{})); diff != "" {
		t.Errorf("built scenario differs from the YAML one (-yaml +built):\n%s", diff)
	}
	if got, want := built.Duration(), 60*time.Second; got != want {
		t.Errorf("Duration() = %s, want %s", got, want)
	}

	// A typed object works too, and gives the same object once marshalled.
	typed, err := New("typed").WithService(ksvc).Constant("hello", 1, time.Second).Build()
	if err != nil {
		t.Fatalf("Build(typed ksvc) = %v", err)
	}
	if got := typed.Objects()[0]; got.GetName() != "hello" || got.GetKind() != "Service" {
		t.Errorf("Objects()[0] = %v, want the Service hello", got)
	}
}

func TestBuilder_BuildValidates(t *testing.T) {
	_, err := New("Bad Name").Constant("nowhere", -1, 0).Build()
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Build() = %v, want an ErrorList", err)
	}
	want := []string{
		`metadata.name: "Bad Name" is not a valid name: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
		`spec.services: required; want at least one Knative Service, Configuration or Route (inline, or {file: PATH})`,
		`spec.workload[0].phases[0].constant.duration: required; want a duration > 0 like "30s"`,
		`spec.workload[0].phases[0].constant.rate: -1/s; want a rate > 0 like 50 or "50/s"`,
		`spec.workload[0].target.service: "nowhere" is not a Knative Service or Route in spec.services (none defined)`,
	}
	if diff := cmp.Diff(want, strings.Split(list.Error(), "\n")); diff != "" {
		t.Errorf("Build() errors (-want +got):\n%s", diff)
	}
	if _, err := New("x").WithService(func() {}).Build(); err == nil || !strings.HasPrefix(err.Error(), "WithService: json: unsupported type") {
		t.Errorf("Build() after WithService(func) = %v, want the marshal error", err)
	}
}
