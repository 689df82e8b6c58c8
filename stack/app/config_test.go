package app

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/servingsim/servingsim/stack/podruntime"
)

func TestEnvName(t *testing.T) {
	if got, want := EnvName(ServiceTimeKey), "SIM_APP_SERVICE_TIME"; got != want {
		t.Errorf("EnvName(%q) = %q, want %q", ServiceTimeKey, got, want)
	}
}

func TestParseConfig(t *testing.T) {
	cases := []struct {
		name     string
		ann, env map[string]string
		want     Config
		wantErrs []string // substrings, each naming the key
	}{{
		name: "defaults",
		want: Config{Overflow: OverflowQueue, Port: 8080},
	}, {
		name: "every annotation",
		ann: map[string]string{
			ServiceTimeKey: "exponential(20ms)", ErrorRateKey: "0.25", ConcurrencyKey: "1", OverflowKey: "Reject",
			StartupDelayKey: "2s", ResponseBytesKey: "1024",
		},
		env: map[string]string{"PORT": "9000", "K_REVISION": "r-1"},
		want: Config{ServiceTime: podruntime.ExpDist(20 * time.Millisecond), ErrorRate: 0.25, Concurrency: 1,
			Overflow: OverflowReject, StartupDelay: podruntime.Const(2 * time.Second), ResponseBytes: 1024, Port: 9000,
			Env: map[string]string{"PORT": "9000", "K_REVISION": "r-1"}},
	}, {
		name: "env overrides the annotation",
		ann:  map[string]string{ConcurrencyKey: "4"},
		env:  map[string]string{"SIM_APP_CONCURRENCY": "2"},
		want: Config{Concurrency: 2, Overflow: OverflowQueue, Port: 8080, Env: map[string]string{"SIM_APP_CONCURRENCY": "2"}},
	}, {
		name: "errors name their keys",
		ann: map[string]string{ErrorRateKey: "1.5", ConcurrencyKey: "two", OverflowKey: "drop",
			ServiceTimeKey: "soon", ResponseBytesKey: "-1"},
		env: map[string]string{"PORT": "http", "SIM_APP_STARTUP_DELAY": "empirical(1s)"},
		wantErrs: []string{
			"annotation sim.servingsim.dev/app-error-rate", "annotation sim.servingsim.dev/app-concurrency",
			"annotation sim.servingsim.dev/app-overflow", "annotation sim.servingsim.dev/app-service-time",
			"env PORT", "env SIM_APP_STARTUP_DELAY",
		},
	}, {
		name:     "validation names the key",
		ann:      map[string]string{ResponseBytesKey: "-1"},
		wantErrs: []string{"sim.servingsim.dev/app-response-bytes"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseConfig(tc.ann, tc.env)
			if len(tc.wantErrs) > 0 {
				if err == nil {
					t.Fatalf("ParseConfig() error = nil, want errors naming %v", tc.wantErrs)
				}
				for _, w := range tc.wantErrs {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("ParseConfig() error = %v, want it to name %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseConfig() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseConfig() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigFromPodReadsTheUserContainer(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", Annotations: map[string]string{ConcurrencyKey: "3"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "user-container", Env: []corev1.EnvVar{
				{Name: "PORT", Value: "8081"}, {Name: "K_SERVICE", Value: "svc"},
				{Name: "MY_POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
				{Name: "MY_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			}},
			{Name: "queue-proxy", Env: []corev1.EnvVar{{Name: "PORT", Value: "1"}}},
		}},
		Status: corev1.PodStatus{PodIP: "127.10.0.7"},
	}
	got, err := ConfigFromPod(pod)
	if err != nil {
		t.Fatalf("ConfigFromPod() error = %v", err)
	}
	want := Config{Concurrency: 3, Overflow: OverflowQueue, Port: 8081,
		Env: map[string]string{"PORT": "8081", "K_SERVICE": "svc", "MY_POD": "p", "MY_IP": "127.10.0.7"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ConfigFromPod() (-want +got):\n%s", diff)
	}
}

func TestLoopbackAddrRefusesOtherAddresses(t *testing.T) {
	for _, h := range []string{"10.0.0.1", "0.0.0.0", "", "example.com"} {
		if _, err := LoopbackAddr(h); err == nil {
			t.Errorf("LoopbackAddr(%q) error = nil, want a refusal", h)
		}
	}
	if _, err := LoopbackAddr("127.10.0.1"); err != nil {
		t.Errorf("LoopbackAddr(127.10.0.1) error = %v, want nil", err)
	}
}
