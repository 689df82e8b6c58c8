package queueproxy

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestParseEnv_Section5Env(t *testing.T) {
	got, err := ParseEnv(map[string]string{
		"CONTAINER_CONCURRENCY": "10", "QUEUE_SERVING_PORT": "8013", "USER_PORT": "9000",
		"REVISION_TIMEOUT_SECONDS": "120", "REVISION_RESPONSE_START_TIMEOUT_SECONDS": "30",
		"REVISION_IDLE_TIMEOUT_SECONDS": "5",
		"SERVING_READINESS_PROBE":       `{"httpGet":{"path":"/ready","port":9000,"host":"127.0.0.1","scheme":"HTTP"},"successThreshold":1}`,
		"SERVING_NAMESPACE":             "ns", "SERVING_SERVICE": "s", "SERVING_CONFIGURATION": "c", "SERVING_REVISION": "r",
		"SERVING_POD": "p", "SERVING_POD_IP": "127.10.0.3",
	})
	if err != nil {
		t.Fatalf("ParseEnv() error = %v", err)
	}
	want := Config{ContainerConcurrency: 10, ServingPort: 8013, UserPort: 9000, RevisionTimeout: 120 * time.Second,
		ResponseStartTimeout: 30 * time.Second, IdleTimeout: 5 * time.Second,
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path: "/ready", Port: intstr.FromInt32(9000), Host: "127.0.0.1", Scheme: corev1.URISchemeHTTP}}, SuccessThreshold: 1},
		Namespace: "ns", Service: "s", Configuration: "c", Revision: "r", Pod: "p", PodIP: netip.MustParseAddr("127.10.0.3")}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("ParseEnv() (-want +got):\n%s", diff)
	}
	if !got.h2c() {
		t.Error("h2c() = false for QUEUE_SERVING_PORT 8013, want true")
	}
}

func TestParseEnv_Defaults(t *testing.T) {
	got, err := ParseEnv(map[string]string{"SERVING_POD_IP": "127.10.0.3"})
	if err != nil {
		t.Fatalf("ParseEnv() error = %v", err)
	}
	if got.ServingPort != 8012 || got.UserPort != 8080 || got.RevisionTimeout != DefaultRevisionTimeout ||
		got.ContainerConcurrency != 0 || got.ReadinessProbe == nil || got.ReadinessProbe.TCPSocket == nil ||
		got.ReadinessProbe.PeriodSeconds != 0 {
		t.Errorf("ParseEnv(defaults) = %+v, want ports 8012/8080, 300s timeout, no breaker, aggressive TCP probe", got)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Validate() = %v, want nil", err)
	}
}

func TestParseEnv_ErrorsNameTheVariable(t *testing.T) {
	_, err := ParseEnv(map[string]string{
		"CONTAINER_CONCURRENCY": "-1", "USER_PORT": "70000", "REVISION_TIMEOUT_SECONDS": "soon",
		"SERVING_READINESS_PROBE": "{", "SERVING_POD_IP": "10.0.0.3",
	})
	for _, name := range []string{"CONTAINER_CONCURRENCY", "USER_PORT", "REVISION_TIMEOUT_SECONDS", "SERVING_READINESS_PROBE", "SERVING_POD_IP"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("ParseEnv() error = %v, want it to name %s", err, name)
		}
	}
}

func TestConfigValidateWantsALoopbackPodIP(t *testing.T) {
	c, _ := ParseEnv(map[string]string{})
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("Validate() without a pod IP = %v, want a loopback error", err)
	}
}
