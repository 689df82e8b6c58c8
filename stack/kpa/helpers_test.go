package kpa

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/servingsim/servingsim/stack/apis"
	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/queueproxy"
	"github.com/servingsim/servingsim/stack/rng"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// t0 is a whole Unix second, so the KPA's one-second buckets line up with test steps.
var t0 = time.Unix(1_700_000_000, 0).UTC()

var key = types.NamespacedName{Namespace: "ns", Name: "hello-00001"}

// revLabels are the labels the revision reconciler puts on a PA (and the PA on its Metric).
var revLabels = map[string]string{
	serving.ServiceLabelKey:       "hello",
	serving.ConfigurationLabelKey: "hello",
	serving.RevisionLabelKey:      key.Name,
}

func paObject(annos map[string]string) *autoscalingv1alpha1.PodAutoscaler {
	return &autoscalingv1alpha1.PodAutoscaler{ObjectMeta: metav1.ObjectMeta{
		Name: key.Name, Namespace: key.Namespace, Labels: revLabels, Annotations: annos,
	}}
}

func metricObject(scrapeTarget string, annos map[string]string) *autoscalingv1alpha1.Metric {
	return &autoscalingv1alpha1.Metric{
		ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace, Labels: revLabels, Annotations: annos},
		Spec: autoscalingv1alpha1.MetricSpec{
			StableWindow: metav1.Duration{Duration: 60 * time.Second},
			PanicWindow:  metav1.Duration{Duration: 6 * time.Second},
			ScrapeTarget: scrapeTarget,
		},
	}
}

// podState is how a test pod looks to the KPA.
type podState int

const (
	podReady podState = iota
	podNotReady
	podTerminating
	podPending
)

// testPod is pod i of revision rev at status IP 10.0.0.i, started at start.
func testPod(rev string, i int, st podState, start time.Time) *corev1.Pod {
	cond := corev1.ConditionTrue
	phase := corev1.PodRunning
	switch st {
	case podNotReady:
		cond = corev1.ConditionFalse
	case podPending:
		phase, cond = corev1.PodPending, corev1.ConditionFalse
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", rev, i), Namespace: key.Namespace,
			Labels: map[string]string{serving.RevisionLabelKey: rev}},
		Status: corev1.PodStatus{
			Phase:      phase,
			PodIP:      podIP(i),
			StartTime:  &metav1.Time{Time: start},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: cond}},
		},
	}
	if st == podTerminating {
		now := metav1.NewTime(start)
		p.DeletionTimestamp = &now
		p.Finalizers = []string{"test/keep"} // the fake client refuses deletionTimestamp without one
	}
	return p
}

func podIP(i int) string { return fmt.Sprintf("10.0.0.%d", i) }

// readyPods are n ready pods of the test revision, 0..n-1, all started at start.
func readyPods(n int, start time.Time) []client.Object {
	out := make([]client.Object, n)
	for i := range out {
		out[i] = testPod(key.Name, i, podReady, start)
	}
	return out
}

// stats is a loopback queue-proxy stand-in for many pods: the scrape URL carries the pod's
// status IP, the handler answers that pod's PodStat, or 500 for a failing pod, and counts hits.
type stats struct {
	srv *httptest.Server

	mu      sync.Mutex
	conc    map[string]float64
	failing map[string]bool
	hits    map[string]int
}

func newStats(t *testing.T) *stats {
	t.Helper()
	s := &stats{conc: map[string]float64{}, failing: map[string]bool{}, hits: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := r.URL.Query().Get("pod")
		s.mu.Lock()
		s.hits[ip]++
		c, fail := s.conc[ip], s.failing[ip]
		s.mu.Unlock()
		if fail {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(queueproxy.PodStat{PodName: ip, AverageConcurrentRequests: c, RequestCount: 3 * c})
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *stats) url(podIP string) string { return s.srv.URL + queueproxy.MetricsPath + "?pod=" + podIP }

func (s *stats) set(ip string, conc float64, failing bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conc[ip], s.failing[ip] = conc, failing
}

func (s *stats) hitCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.hits))
	for k, v := range s.hits {
		out[k] = v
	}
	return out
}

// pokes records Poke calls.
type pokes struct {
	ch chan types.NamespacedName
}

func newPokes() *pokes { return &pokes{ch: make(chan types.NamespacedName, 100)} }

func (p *pokes) poke(k types.NamespacedName) { p.ch <- k }

// count drains and counts the pokes so far.
func (p *pokes) count() int {
	n := 0
	for {
		select {
		case <-p.ch:
			n++
		default:
			return n
		}
	}
}

// wait blocks until a poke arrives (or fails the test after a generous bound: this is a
// deadlock guard, not a timing assertion).
func (p *pokes) wait(t *testing.T) types.NamespacedName {
	t.Helper()
	select {
	case k := <-p.ch:
		return k
	case <-time.After(10 * time.Second):
		t.Fatal("no Poke within 10s")
		return types.NamespacedName{}
	}
}

type env struct {
	k     *KPA
	c     client.Client
	clock *clocktesting.FakeClock
	pokes *pokes
	stats *stats
}

// newEnv is a KPA on a fake clock at t0 and a fake client holding objs, scraping a stats
// server.
func newEnv(t *testing.T, objs ...client.Object) *env {
	t.Helper()
	c := fake.NewClientBuilder().WithScheme(apis.NewScheme()).WithObjects(objs...).Build()
	e := &env{c: c, clock: clocktesting.NewFakeClock(t0), pokes: newPokes(), stats: newStats(t)}
	k, err := New(Options{Clock: e.clock, Source: rng.New(7), Reader: c, Poke: e.pokes.poke, ScrapeURL: e.stats.url})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(k.scraper.client.CloseIdleConnections)
	e.k = k
	return e
}

// defaultSpec is the decider spec of a reachable PA with Knative's defaults (target 70, total
// 100, TBC 211, windows 60s/6s), changed by mod.
func defaultSpec(mod func(*autoscaler.DeciderSpec)) autoscaler.DeciderSpec {
	s := autoscaler.MakeDeciderSpec(paObject(nil), config.DefaultAutoscaler())
	if mod != nil {
		mod(&s)
	}
	return s
}

func (e *env) update(t *testing.T, spec autoscaler.DeciderSpec) autoscaler.Decision {
	t.Helper()
	d, err := e.k.Update(context.Background(), key, spec)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	return d
}

func (e *env) rev(t *testing.T) *revision {
	t.Helper()
	rev := e.k.lookup(key)
	if rev == nil {
		t.Fatalf("no revision %s in the KPA", key)
	}
	return rev
}

// averages are the collector's concurrency window averages at the clock's now.
func (e *env) averages(t *testing.T) (stable, panicAvg float64, err error) {
	t.Helper()
	rev := e.rev(t)
	rev.mu.Lock()
	defer rev.mu.Unlock()
	return rev.collector.StableAndPanic(serving.MetricConcurrency, e.clock.Now())
}

func (e *env) collectorSpec(t *testing.T) autoscaler.MetricSpec {
	t.Helper()
	rev := e.rev(t)
	rev.mu.Lock()
	defer rev.mu.Unlock()
	return rev.collector.Spec()
}

// eventually polls cond until it holds, failing after a generous deadlock guard.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
