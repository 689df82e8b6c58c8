package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const validScenario = `apiVersion: servingsim.dev/v1alpha1
kind: Scenario
metadata:
  name: mine
spec:
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
        - constant: {rate: 50/s, duration: 30s}
`

func TestValidate_ValidFilesAndCatalogNames(t *testing.T) {
	file := writeTemp(t, "mine.yaml", validScenario)
	var out, errOut bytes.Buffer
	if err := runValidate([]string{file, "cold-start"}, &out, &errOut); err != nil {
		t.Fatalf("runValidate() = %v; stderr %q", err, errOut.String())
	}
	want := "ok  " + file + "  (mine: 1 Knative object, 1 stream, 0 actions, 0 expectations, runs 30s)\n" +
		"ok  cold-start  (cold-start: 1 Knative object, 1 stream, 0 actions, 3 expectations, runs 8s)\n"
	if out.String() != want {
		t.Errorf("runValidate() printed:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestValidate_InvalidNamesLineAndExits2: every problem of every file on stderr, each with its
// file, line and column, and exit code 2.
func TestValidate_InvalidNamesLineAndExits2(t *testing.T) {
	good := writeTemp(t, "good.yaml", validScenario)
	bad := writeTemp(t, "bad.yaml", strings.Replace(strings.Replace(validScenario, "rate: 50/s", "rate: fast", 1),
		"name: mine", "name: mine\n  labelz: {}", 1))
	var out, errOut bytes.Buffer
	err := runValidate([]string{good, bad, "no-such-scenario"}, &out, &errOut)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitBadInput || err.Error() != "2 of 3 scenarios are not valid" {
		t.Fatalf("runValidate() = %v, want exit %d: 2 of 3 scenarios are not valid", err, exitBadInput)
	}
	got := strings.ReplaceAll(errOut.String(), filepath.Dir(bad)+string(filepath.Separator), "")
	want := `bad.yaml:5:3: metadata.labelz: unknown field "labelz"; did you mean "labels"? (valid: name, labels, description)
bad.yaml:19:28: spec.workload[0].phases[0].constant.rate: "fast" is not a rate; use a number per second like 50 or "50/s" (also "3000/m", "1/ms")
no-such-scenario: no such file, and no catalog scenario of that name (simctl list shows them)
`
	if got != want {
		t.Errorf("runValidate() stderr:\n%s\nwant:\n%s", got, want)
	}
	if !strings.HasPrefix(out.String(), "ok  "+good) {
		t.Errorf("runValidate() stdout = %q, want the valid file reported ok", out.String())
	}
}

// TestValidate_ProcessExitCodes runs simctl's main in a child process.
func TestValidate_ProcessExitCodes(t *testing.T) {
	if args := os.Getenv("SIMCTL_VALIDATE_ARGS"); args != "" {
		os.Args = append([]string{"simctl"}, strings.Split(args, "\x1f")...)
		main()
		return
	}
	run := func(args ...string) (string, int) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestValidate_ProcessExitCodes$")
		cmd.Env = append(os.Environ(), "SIMCTL_VALIDATE_ARGS="+strings.Join(args, "\x1f"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var xe *exec.ExitError
		if errors.As(err, &xe) {
			return stderr.String(), xe.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return stderr.String(), exitOK
	}
	bad := writeTemp(t, "bad.yaml", strings.Replace(validScenario, "duration: 30s", "duration: 30", 1))
	stderr, code := run("validate", bad)
	want := bad + `:18:44: spec.workload[0].phases[0].constant.duration: 30 is not a duration; use a Go duration like "30s", "1m30s" or "250ms"`
	if code != exitBadInput || !strings.Contains(stderr, want) || !strings.Contains(stderr, "simctl: "+bad+" is not a valid scenario") {
		t.Errorf("simctl validate bad.yaml: exit %d, stderr %q; want exit 2 and %q", code, stderr, want)
	}
	if stderr, code := run("validate", writeTemp(t, "good.yaml", validScenario), "hello"); code != exitOK {
		t.Errorf("simctl validate good.yaml hello: exit %d, stderr %q; want 0", code, stderr)
	}
	if _, code := run("validate"); code != exitBadInput {
		t.Errorf("simctl validate with no file: exit %d, want 2", code)
	}
}

func TestValidateAndList_HelpHasExamples(t *testing.T) {
	for cmd, wants := range map[string][]string{
		"validate": {"Examples:", "simctl validate my-scenario.yaml", "simctl validate cold-start", "FILE:LINE:COLUMN", "Exit code 0"},
		"list":     {"Examples:", "simctl list --labels suite=benchmark", "label-selector"},
	} {
		root := newRootCommand()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs([]string{cmd, "--help"})
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		for _, want := range wants {
			if !strings.Contains(out.String(), want) {
				t.Errorf("simctl %s --help lacks %q:\n%s", cmd, want, out.String())
			}
		}
	}
}
