package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestList_PrintsTheCatalog(t *testing.T) {
	var out bytes.Buffer
	if err := runList("", &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if !strings.HasPrefix(lines[0], "NAME") || !strings.Contains(lines[0], "LABELS") || !strings.Contains(lines[0], "DESCRIPTION") {
		t.Errorf("header = %q, want NAME LABELS DESCRIPTION", lines[0])
	}
	for _, want := range []string{
		"cold-start area=dataplane,suite=acceptance One request to a revision at zero is buffered by the activator until a pod is ready.",
		"sks-flapping area=autoscaler,issue=11926,suite=regression Knative #11926:",
		"hello ", "quickstart ", "dataplane-probe ", "load-test ", "rollout-probe ", "scale-from-zero ",
	} {
		// Columns are padded to the longest name; compare with single spaces.
		if !strings.Contains(squeezeSpaces(out.String()), "\n"+want) {
			t.Errorf("simctl list lacks a line starting %q:\n%s", want, out.String())
		}
	}
}

func squeezeSpaces(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

func TestList_LabelSelector(t *testing.T) {
	var out bytes.Buffer
	if err := runList("suite=benchmark,area=autoscaler", &out); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n")[1:] {
		names = append(names, strings.Fields(l)[0])
	}
	if got, want := strings.Join(names, " "), "load-test scale-from-zero"; got != want {
		t.Errorf("simctl list -l suite=benchmark,area=autoscaler = %s, want %s", got, want)
	}
	err := runList("suite in (", &bytes.Buffer{})
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitBadInput {
		t.Errorf("runList(malformed selector) = %v, want exit %d", err, exitBadInput)
	}
}
