package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/servingsim/servingsim/harness/cluster"
)

// TestUpServesKubectlAndCleansUpOnInterrupt runs the real binary: `simctl up` must write a
// kubeconfig kubectl can use, and Ctrl-C (SIGINT) must leave no etcd or kube-apiserver process
// and no envtest temporary directory behind.
func TestUpServesKubectlAndCleansUpOnInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real API server")
	}
	kubectl, err := cluster.Kubectl()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "simctl")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tmp := filepath.Join(dir, "tmp") // envtest puts etcd data and certs under TMPDIR
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	kc := filepath.Join(dir, "kubeconfig")
	cmd := exec.Command(bin, "up", "--kubeconfig", kc)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var out strings.Builder
	deadline := time.After(3 * time.Minute)
wait:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("simctl up exited before it was up:\n%s", out.String())
			}
			out.WriteString(l + "\n")
			if strings.HasPrefix(l, "Press Ctrl-C") {
				break wait
			}
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatalf("simctl up not up within 3m:\n%s", out.String())
		}
	}
	for _, want := range []string{"kubeconfig: " + kc, "gateway:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("simctl up output lacks %q:\n%s", want, out.String())
		}
	}
	got, err := exec.Command(kubectl, "--kubeconfig", kc, "get", "services", "-n", "knative-serving").CombinedOutput()
	if err != nil || !strings.Contains(string(got), "activator-service") {
		t.Errorf("kubectl get services -n knative-serving = %v\n%s; want activator-service listed", err, got)
	}
	requestThroughGateway(t, kubectl, kc, gatewayAddress(out.String()))
	children := childPIDs(cmd.Process.Pid)
	if len(children) < 2 {
		t.Errorf("simctl up has child processes %v; want etcd and kube-apiserver", children)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("simctl up exited with %v after Ctrl-C; want 0", err)
		}
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("simctl up did not stop within 1m of Ctrl-C")
	}
	for _, pid := range children {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("child process %d (%s) still running after Ctrl-C", pid, procName(pid))
		}
	}
	left, _ := os.ReadDir(tmp)
	for _, e := range left {
		if strings.HasPrefix(e.Name(), "k8s_test_framework_") || strings.Contains(e.Name(), "envtest") {
			t.Errorf("temporary directory %s left behind", e.Name())
		}
	}
}

// childPIDs lists the direct children of pid by scanning /proc/*/stat (a Go process forks from
// any of its threads, so /proc/pid/task/pid/children is not enough).
func childPIDs(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the parenthesised command: state, ppid, ...
		rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
		f := strings.Fields(rest)
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

func procName(pid int) string {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	return strings.TrimSpace(string(b))
}

// requestThroughGateway applies a ksvc with kubectl, waits for it to be Ready, and sends it a
// request through the gateway address simctl up printed (example.com domain).
func requestThroughGateway(t *testing.T, kubectl, kc, gateway string) {
	t.Helper()
	manifest := `apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: hello, namespace: default}
spec:
  template:
    spec:
      containers: [{image: ghcr.io/knative/helloworld-go:latest}]
`
	apply := exec.Command(kubectl, "--kubeconfig", kc, "apply", "-f", "-")
	apply.Stdin = strings.NewReader(manifest)
	if got, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, got)
	}
	if got, err := exec.Command(kubectl, "--kubeconfig", kc, "wait", "ksvc/hello", "--for=condition=Ready", "--timeout=60s").CombinedOutput(); err != nil {
		t.Fatalf("kubectl wait ksvc/hello: %v\n%s", err, got)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+gateway+"/?sleep=1", nil)
	req.Host = "hello.default.example.com"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET through the gateway: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Slept for") {
		t.Errorf("GET hello through the gateway = %d %q; want 200 from the app", resp.StatusCode, body)
	}
}

// gatewayAddress is the external gateway address in simctl up's output ("gateway:    ADDR (...").
func gatewayAddress(out string) string {
	for l := range strings.SplitSeq(out, "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "gateway:" {
			return f[1]
		}
	}
	return "gateway-address-not-printed"
}
