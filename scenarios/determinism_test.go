package scenarios

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/servingsim/servingsim/reports"
)

// determinismScenario splits a route 70/30 across two Configurations under two concurrent
// open-model streams (many requests in flight at once, so arrival order at the gateway varies
// from run to run).
const determinismScenario = `apiVersion: servingsim.dev/v1alpha1
kind: Scenario
metadata:
  name: determinism
spec:
  services:
    - apiVersion: serving.knative.dev/v1
      kind: Configuration
      metadata: {name: blue}
      spec:
        template:
          spec:
            containers:
              - image: ghcr.io/knative/helloworld-go:latest
    - apiVersion: serving.knative.dev/v1
      kind: Configuration
      metadata: {name: green}
      spec:
        template:
          spec:
            containers:
              - image: ghcr.io/knative/helloworld-go:latest
    - apiVersion: serving.knative.dev/v1
      kind: Route
      metadata: {name: split}
      spec:
        traffic:
          - {configurationName: blue, latestRevision: true, percent: 70}
          - {configurationName: green, latestRevision: true, percent: 30}
  workload:
    - name: external
      target: {service: split}
      phases:
        - constant: {rate: 150/s, duration: 3s}
    - name: local
      target: {service: split, clusterLocal: true}
      phases:
        - burst: {requests: 100}
  expect:
    - trafficSplit:
        service: split
        shares:
          - {revision: blue-00001, percent: 70}
          - {revision: green-00001, percent: 30}
    - errorRate: {max: 0}
`

// assignment keys each request by its stream, phase and sequence number.
func assignments(run *reports.Run) map[string]string {
	out := make(map[string]string, len(run.Requests))
	for _, q := range run.Requests {
		out[fmt.Sprintf("%s/%s/%d", q.Stream, q.Result.Attack, q.Result.Seq)] = q.Revision
	}
	return out
}

// TestRun_SameSeedSameAssignments is issue 5's acceptance: same seed, same scenario, identical
// request-to-revision assignments and identical split results; another seed assigns otherwise.
// (The gateway draws each split from the seed, the route and the request's id, §6 weighted split.)
func TestRun_SameSeedSameAssignments(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three stacks")
	}
	ctrllog.SetLogger(logr.Discard()) // the stacks log through their own loggers
	s, err := Parse([]byte(determinismScenario), "determinism.yaml")
	if err != nil {
		t.Fatal(err)
	}
	runWith := func(seed int64) *reports.Run {
		t.Helper()
		start := time.Now()
		run, err := Run(context.Background(), s, RunOptions{Seed: seed})
		t.Logf("seed %d: %d requests, run took %s", seed, len(run.Requests), time.Since(start).Round(100*time.Millisecond))
		if err != nil || run.Verdict != reports.Pass {
			t.Fatalf("seed %d: Run() = %v, verdict %s: %+v", seed, err, run.Verdict, run.Expectations)
		}
		return run
	}
	first, second, other := runWith(11), runWith(11), runWith(12)

	a, b, c := assignments(first), assignments(second), assignments(other)
	if len(a) != first.Accounting.Sent || len(a) < 500 {
		t.Fatalf("seed 11: %d distinct request keys for %d requests sent, want one each (≥ 500)", len(a), first.Accounting.Sent)
	}
	if len(a) != len(b) {
		t.Fatalf("seed 11 twice: %d and %d requests", len(a), len(b))
	}
	var differ, differOther []string
	for k, rev := range a {
		if rev == "" {
			t.Errorf("seed 11: request %s has no revision", k)
		}
		if b[k] != rev {
			differ = append(differ, fmt.Sprintf("%s: %s then %s", k, rev, b[k]))
		}
		if c[k] != rev {
			differOther = append(differOther, k)
		}
	}
	if len(differ) > 0 {
		t.Errorf("seed 11 twice: %d of %d requests went to another revision, e.g. %v", len(differ), len(a), differ[:min(5, len(differ))])
	}
	for i := range first.Expectations {
		x, y := first.Expectations[i], second.Expectations[i]
		px, py := fmt.Sprint(deref(x.PValue), deref(x.Interval)), fmt.Sprint(deref(y.PValue), deref(y.Interval))
		if x.Observed != y.Observed || px != py || x.Detail != y.Detail {
			t.Errorf("seed 11 twice: %s observed %q (p, interval %s) then %q (%s)", x.Description, x.Observed, px, y.Observed, py)
		}
	}
	// Independent 70/30 draws disagree on 2·0.7·0.3 = 42% of requests.
	if len(differOther) < len(a)/5 {
		t.Errorf("seed 11 vs 12: only %d of %d requests went to another revision, want about 42%%", len(differOther), len(a))
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
