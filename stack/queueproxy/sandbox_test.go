package queueproxy

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/app"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/reconciler/revision/resources"
)

// revisionPod builds a pod exactly as the revision reconciler's Deployment template makes it,
// on a fresh loopback IP.
func revisionPod(cc int64, annotations map[string]string) *corev1.Pod {
	rev := &servingv1.Revision{
		ObjectMeta: metav1.ObjectMeta{Name: "hello-00001", Namespace: "ns", UID: "rev-uid", Annotations: annotations,
			Labels: map[string]string{serving.ConfigurationLabelKey: "hello", serving.ServiceLabelKey: "hello"}},
		Spec: servingv1.RevisionSpec{
			PodSpec:              corev1.PodSpec{Containers: []corev1.Container{{Name: serving.UserContainerDefaultName, Image: "app"}}},
			ContainerConcurrency: ptr.To(cc),
			TimeoutSeconds:       ptr.To[int64](60),
		},
	}
	tmpl := resources.MakeDeployment(rev, config.Default()).Spec.Template
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "hello-00001-deployment-abc-xyz12", Namespace: "ns", UID: "pod-uid",
			Labels: tmpl.Labels, Annotations: tmpl.Annotations},
		Spec:   tmpl.Spec,
		Status: corev1.PodStatus{PodIP: nextPodIP().String(), HostIP: "127.0.0.1"},
	}
}

// The live sandbox runs a revision pod end to end: ready once the queue-proxy's probe passes,
// serving through the breaker, findable in the registry, drained and stopped.
func TestSandbox_RevisionPodLifecycle(t *testing.T) {
	sb := NewSandbox(SandboxOptions{DrainQuietPeriod: 100 * time.Millisecond})
	pod := revisionPod(1, map[string]string{app.ServiceTimeKey: "20ms"})
	ready, err := sb.Start(context.Background(), pod)
	if err != nil {
		t.Fatalf("Start() error = %v", err)
	}
	defer sb.Stop(pod)
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		t.Fatal("pod not ready within 5s")
	}
	p, ok := sb.Pod("ns", pod.Name)
	if !ok || p.IP.String() != pod.Status.PodIP || len(sb.Pods()) != 1 {
		t.Fatalf("registry: Pod() = %v, %v; Pods() = %d; want the started pod", p, ok, len(sb.Pods()))
	}
	if got := p.Queue.Config(); got.ContainerConcurrency != 1 || got.RevisionTimeout != time.Minute || got.Revision != "hello-00001" {
		t.Errorf("queue-proxy config = %+v, want CC 1, 60s timeout, revision hello-00001 from the pod env", got)
	}

	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	base := "http://" + net.JoinHostPort(pod.Status.PodIP, "8012")
	replies := make(chan reply, 4)
	for range 4 {
		go func() { replies <- fetch(client, base+"/", nil) }()
	}
	for range 4 {
		var slept float64
		r := <-replies
		if _, err := fmt.Sscanf(r.body, "Slept for %f milliseconds.", &slept); err != nil || r.code != http.StatusOK || slept < 20 {
			t.Errorf("GET / = %d %q %v, want 200 after the 20ms service time", r.code, r.body, r.err)
		}
	}
	if m := p.App.MaxInFlight(); m != 1 {
		t.Errorf("app MaxInFlight() = %d, want 1 (CC=1)", m)
	}
	var e app.Echo
	r := fetch(client, base+"/?echo=1", map[string]string{"Host": "hello.ns.example.com"})
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("echo = %q: %v", r.body, err)
	}
	for k, v := range map[string]string{"PORT": "8080", "K_SERVICE": "hello", "K_CONFIGURATION": "hello", "K_REVISION": "hello-00001"} {
		if e.Env[k] != v {
			t.Errorf("app env %s = %q, want %q (§7.2)", k, e.Env[k], v)
		}
	}
	if e.Host != "hello.ns.example.com" || len(e.Headers["Forwarded"]) != 1 {
		t.Errorf("echo = host %q, Forwarded %v; want the Host and a Forwarded header", e.Host, e.Headers["Forwarded"])
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sb.Drain(ctx, pod); err != nil {
		t.Errorf("Drain() error = %v", err)
	}
	for _, port := range []string{"8012", "8080"} {
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(pod.Status.PodIP, port), time.Second); err == nil {
			_ = c.Close()
			t.Errorf("port %s open after Drain, want closed", port)
		}
	}
	sb.Stop(pod)
	if _, ok := sb.Pod("ns", pod.Name); ok || len(sb.Pods()) != 0 {
		t.Error("pod still registered after Stop")
	}
}

// An app startup delay keeps the pod not-ready until its port answers; Stop before that leaves
// nothing behind.
func TestSandbox_NotReadyUntilTheAppListens(t *testing.T) {
	sb := NewSandbox(SandboxOptions{})
	pod := revisionPod(0, map[string]string{app.StartupDelayKey: "300ms"})
	start := time.Now()
	ready, err := sb.Start(context.Background(), pod)
	if err != nil {
		t.Fatalf("Start() error = %v", err)
	}
	select {
	case <-ready:
		if took := time.Since(start); took < 300*time.Millisecond {
			t.Errorf("ready after %s, want after the 300ms startup delay", took)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("pod not ready within 5s")
	}
	sb.Stop(pod)

	never := revisionPod(0, map[string]string{app.StartupDelayKey: "1h"})
	ready, err = sb.Start(context.Background(), never)
	if err != nil {
		t.Fatalf("Start() error = %v", err)
	}
	select {
	case <-ready:
		t.Error("ready with an app that never listens")
	case <-time.After(200 * time.Millisecond):
	}
	sb.Stop(never)
}

func TestSandbox_StartErrorsNameTheProblem(t *testing.T) {
	sb := NewSandbox(SandboxOptions{})
	bad := revisionPod(0, map[string]string{app.ErrorRateKey: "2"})
	if _, err := sb.Start(context.Background(), bad); err == nil || !strings.Contains(err.Error(), app.ErrorRateKey) {
		t.Errorf("Start() with a bad app annotation = %v, want an error naming %s", err, app.ErrorRateKey)
	}
	noIP := revisionPod(0, nil)
	noIP.Status.PodIP = "10.0.0.1"
	if _, err := sb.Start(context.Background(), noIP); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("Start() with a non-loopback pod IP = %v, want a loopback error", err)
	}
	if len(sb.Pods()) != 0 {
		t.Errorf("Pods() = %d after failed starts, want 0", len(sb.Pods()))
	}
}
