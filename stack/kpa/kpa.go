package kpa

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/reconciler/podautoscaler"
	"github.com/servingsim/servingsim/stack/rng"
)

// Knative's collection and decision periods (§3.1) and our scrape timeout.
const (
	// DefaultScrapePeriod is how often each revision's pods are scraped (metrics/collector.go).
	DefaultScrapePeriod = time.Second
	// DefaultScrapeTimeout bounds one pod scrape. Knative allows 3s; 1s keeps a scrape within
	// its own period, so a hung pod never delays the next second's sample.
	DefaultScrapeTimeout = time.Second
	// DefaultEventBuffer is how many DecisionEvents may wait for one slow subscriber before
	// further events to it are dropped.
	DefaultEventBuffer = 4096
)

// Options configure a KPA. Zero values give Knative's behaviour on the real clock.
type Options struct {
	// Clock drives the scrape and decision tickers and stamps every record. Default: real clock.
	Clock clock.WithTicker
	// Source seeds the scrapers' pod sampling (stream "kpa/scrape/<ns>/<revision>"). Default:
	// rng.New(1).
	Source *rng.Source
	// Reader reads Pods, Metrics and PodAutoscalers, normally the manager's cache. Required
	// unless SetupWithManager is used, which defaults it to the manager's (cached) client.
	Reader client.Reader
	// Poke asks for a PodAutoscaler reconcile, normally podautoscaler.Trigger.Poke. It must not
	// block. Default: none.
	Poke func(types.NamespacedName)
	// HTTPClient scrapes the queue-proxies. Default: a pooled client with a DefaultScrapeTimeout
	// timeout.
	HTTPClient *http.Client
	// ScrapeURL builds the stat URL of a pod from its status IP. Default:
	// http://<podruntime.PodIP(ip)>:9090/metrics.
	ScrapeURL func(podIP string) string
	// Logger for scrape failures (V(1)) and errors. Default: discard.
	Logger logr.Logger
	// Registry also gets the autoscaler_* metrics; they are always in the KPA's own registry,
	// which Handler serves. Default: none.
	Registry prometheus.Registerer
	// ScrapePeriod and TickInterval override Knative's 1s scrape and 2s decision periods.
	ScrapePeriod time.Duration
	TickInterval time.Duration
	// EventBuffer is each subscriber's queue length. Default DefaultEventBuffer.
	EventBuffer int
}

// KPA is Knative's autoscaler process in-process: the metric collector and the multi-scaler of
// every revision (§3.3, §3.4). It is safe for concurrent use.
type KPA struct {
	clock        clock.WithTicker
	source       *rng.Source
	reader       client.Reader
	poke         func(types.NamespacedName)
	logger       logr.Logger
	scrapePeriod time.Duration
	tickInterval time.Duration
	scraper      *scraper
	metrics      *promMetrics
	events       *subscribers
	observers    observers

	// podIndexed says Reader has the PodRevisionIndex field index (set by SetupWithManager).
	podIndexed bool

	mu        sync.RWMutex
	revisions map[types.NamespacedName]*revision
	// runCtx is the context of Start, nil before; stopped is set once Start returns.
	runCtx  context.Context
	stopped bool
}

var (
	_ podautoscaler.Decider = (*KPA)(nil)
	_ autoscaler.StatSink   = (*KPA)(nil)
	_ manager.Runnable      = (*KPA)(nil)
)

// New returns a KPA that decides nothing until revisions are created through Update or Metric
// objects, and runs no loops until Start.
func New(opts Options) (*KPA, error) {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Source == nil {
		opts.Source = rng.New(1)
	}
	if opts.Poke == nil {
		opts.Poke = func(types.NamespacedName) {}
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = defaultHTTPClient()
	}
	if opts.ScrapeURL == nil {
		opts.ScrapeURL = DefaultScrapeURL
	}
	if opts.Logger.GetSink() == nil {
		opts.Logger = logr.Discard()
	}
	if opts.ScrapePeriod <= 0 {
		opts.ScrapePeriod = DefaultScrapePeriod
	}
	if opts.TickInterval <= 0 {
		opts.TickInterval = autoscaler.TickInterval
	}
	if opts.EventBuffer <= 0 {
		opts.EventBuffer = DefaultEventBuffer
	}
	pm, err := newPromMetrics(opts.Registry)
	if err != nil {
		return nil, err
	}
	return &KPA{
		clock:        opts.Clock,
		source:       opts.Source,
		reader:       opts.Reader,
		poke:         opts.Poke,
		logger:       opts.Logger,
		scrapePeriod: opts.ScrapePeriod,
		tickInterval: opts.TickInterval,
		scraper:      &scraper{client: opts.HTTPClient, url: opts.ScrapeURL, logger: opts.Logger},
		metrics:      pm,
		events:       newSubscribers(opts.EventBuffer),
		revisions:    map[types.NamespacedName]*revision{},
	}, nil
}

func defaultHTTPClient() *http.Client {
	return &http.Client{
		Timeout: DefaultScrapeTimeout,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: DefaultScrapeTimeout}).DialContext,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     30 * time.Second,
			DisableCompression:  true,
		},
	}
}

// PodRevisionIndex is the Pod field index SetupWithManager registers so each tick lists only
// its revision's pods instead of scanning the namespace.
const PodRevisionIndex = "servingsim.kpa/revision"

// IndexPodRevision is the PodRevisionIndex extractor: the pod's revision label.
func IndexPodRevision(o client.Object) []string {
	if rev := o.GetLabels()[serving.RevisionLabelKey]; rev != "" {
		return []string{rev}
	}
	return nil
}

// SetupWithManager registers the KPA on mgr: the Pod revision index, the Metric controller
// (Knative's metric reconciler) and the KPA's loops as a Runnable.
func (k *KPA) SetupWithManager(mgr ctrl.Manager) error {
	if k.reader == nil {
		k.reader = mgr.GetClient()
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &corev1.Pod{}, PodRevisionIndex, IndexPodRevision); err != nil {
		return fmt.Errorf("index pods by revision: %w", err)
	}
	k.podIndexed = true
	if err := ctrl.NewControllerManagedBy(mgr).
		Named(MetricControllerName).
		For(&autoscalingv1alpha1.Metric{}).
		Complete(&MetricReconciler{KPA: k}); err != nil {
		return fmt.Errorf("metric controller: %w", err)
	}
	return mgr.Add(k)
}

// Start runs every revision's scrape and decision loops until ctx ends, then stops them and
// waits for them. Revisions created before Start begin their loops here.
func (k *KPA) Start(ctx context.Context) error {
	k.mu.Lock()
	if k.runCtx != nil {
		k.mu.Unlock()
		return errors.New("kpa: already started")
	}
	k.runCtx = ctx
	for _, rev := range k.revisions {
		k.startLoops(rev)
	}
	k.mu.Unlock()

	<-ctx.Done()

	k.mu.Lock()
	k.stopped = true
	revs := slices.Collect(maps.Values(k.revisions))
	k.mu.Unlock()
	for _, rev := range revs {
		rev.stopLoops()
	}
	k.scraper.client.CloseIdleConnections()
	return nil
}

// Update implements podautoscaler.Decider: it creates the revision's scaler, counting its ready
// pods now so a revision that already has more than one starts in panic mode (§3.4), or updates
// its spec, and returns the standing decision. Until the revision's Metric exists the collector
// follows spec (windows, scraped unless TBC is -1) and the PA's aggregation annotation.
func (k *KPA) Update(ctx context.Context, key types.NamespacedName, spec autoscaler.DeciderSpec) (autoscaler.Decision, error) {
	var labels, annos map[string]string
	pa := &autoscalingv1alpha1.PodAutoscaler{}
	switch err := k.reader.Get(ctx, key, pa); {
	case err == nil:
		labels, annos = pa.Labels, pa.Annotations
	case !apierrors.IsNotFound(err):
		return autoscaler.Decision{}, fmt.Errorf("get podautoscaler %s: %w", key, err)
	default:
		pa = nil
	}
	rev := k.ensureRevision(key, labels, deciderMetricSpec(spec, annos))

	rev.mu.Lock()
	exists, name := rev.scaler != nil, rev.name
	rev.mu.Unlock()
	var ready int32
	if !exists {
		n, err := k.readyPods(ctx, key.Namespace, name)
		if err != nil {
			return autoscaler.Decision{}, err
		}
		ready = n
	}

	rev.mu.Lock()
	defer rev.mu.Unlock()
	now, created := k.clock.Now(), rev.scaler == nil
	if created {
		rev.scaler = autoscaler.NewScaler(spec, ready, now)
	} else {
		rev.scaler.Update(spec)
	}
	if k.observers.observing() {
		k.observers.observe(Observation{Kind: ObservedDecider, Time: now, Key: key, New: created, DeciderSpec: spec, PA: pa, ReadyPods: ready})
	}
	if !rev.fromMetric {
		mspec := deciderMetricSpec(spec, annos)
		rev.collector.Update(mspec)
		if k.observers.observing() {
			k.observers.observe(Observation{Kind: ObservedCollector, Time: now, Key: key, MetricSpec: mspec})
		}
	}
	return rev.scaler.Decision(), nil
}

// Delete implements podautoscaler.Decider: the revision's loops stop (Delete waits for them),
// its windows are dropped and its Prometheus series deleted.
func (k *KPA) Delete(key types.NamespacedName) {
	k.mu.Lock()
	rev := k.revisions[key]
	delete(k.revisions, key)
	if rev != nil {
		k.dropLocked(rev)
	}
	k.mu.Unlock()
	if rev != nil {
		rev.retire()
	}
}

// dropLocked marks rev, just taken out of the map, retired so that nothing more is recorded or
// decided for it, and tells the observers. k.mu is held, so a revision re-created under the
// same key is observed after the drop.
func (k *KPA) dropLocked(rev *revision) {
	rev.mu.Lock()
	defer rev.mu.Unlock()
	rev.retired = true
	if k.observers.observing() {
		k.observers.observe(Observation{Kind: ObservedDrop, Time: k.clock.Now(), Key: rev.key})
	}
}

// RecordStat implements autoscaler.StatSink: the activator's stat goes into the revision's
// collector at the KPA clock's now (§3.3.4), and a revision whose standing desired scale is 0
// ticks at once when the stat shows concurrency (the scale-from-zero poke, §3.3.3). Stats of a
// revision the KPA does not collect for are dropped, as Knative's collector does. It never
// blocks on I/O: one map read and one per-revision lock.
func (k *KPA) RecordStat(key types.NamespacedName, s autoscaler.Stat) {
	k.mu.RLock()
	rev := k.revisions[key]
	k.mu.RUnlock()
	if rev == nil {
		return
	}
	rev.mu.Lock()
	if rev.retired {
		rev.mu.Unlock()
		return
	}
	now := k.clock.Now()
	rev.collector.Record(now, s)
	if k.observers.observing() {
		k.observers.observe(Observation{Kind: ObservedStat, Time: now, Key: key, Stat: s, FromActivator: true})
	}
	poke := rev.scaler != nil && rev.scaler.Decision().DesiredScale == 0 && s.AverageConcurrency != 0
	rev.mu.Unlock()
	if poke {
		rev.pokeTick()
	}
}

// Decision returns the standing decision of key, and false when the KPA has no decider for it.
func (k *KPA) Decision(key types.NamespacedName) (autoscaler.Decision, bool) {
	rev := k.lookup(key)
	if rev == nil {
		return autoscaler.Decision{}, false
	}
	rev.mu.Lock()
	defer rev.mu.Unlock()
	if rev.scaler == nil {
		return autoscaler.Decision{}, false
	}
	return rev.scaler.Decision(), true
}

func (k *KPA) lookup(key types.NamespacedName) *revision {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.revisions[key]
}

// ensureRevision returns the revision of key, creating it (with a collector of spec, and its
// loops if the KPA runs) if needed. labels are the PA's or Metric's, naming the revision's pods
// and Prometheus series.
func (k *KPA) ensureRevision(key types.NamespacedName, labels map[string]string, spec autoscaler.MetricSpec) *revision {
	k.mu.Lock()
	defer k.mu.Unlock()
	rev := k.revisions[key]
	if rev == nil {
		rev = newRevision(key, labels, spec, k.source.Stream("kpa/scrape/"+key.Namespace+"/"+key.Name), k.metrics)
		k.revisions[key] = rev
		if k.observers.observing() {
			k.observers.observe(Observation{Kind: ObservedCollector, Time: k.clock.Now(), Key: key, New: true, MetricSpec: spec})
		}
		k.startLoops(rev)
		return rev
	}
	if labels != nil {
		rev.mu.Lock()
		rev.relabel(labels)
		rev.mu.Unlock()
	}
	return rev
}

// startLoops starts rev's scrape and decision loops if the KPA runs. k.mu is held.
func (k *KPA) startLoops(rev *revision) {
	if k.runCtx == nil || k.stopped {
		return
	}
	ctx, cancel := context.WithCancel(k.runCtx)
	scrapeTicker := k.clock.NewTicker(k.scrapePeriod)
	decideTicker := k.clock.NewTicker(k.tickInterval)
	rev.cancel = cancel
	rev.loops.Add(2)
	go func() {
		defer rev.loops.Done()
		defer scrapeTicker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-scrapeTicker.C():
				k.scrape(ctx, rev)
			}
		}
	}()
	go func() {
		defer rev.loops.Done()
		defer decideTicker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-decideTicker.C():
				k.tick(ctx, rev)
			case <-rev.pokeCh:
				k.tick(ctx, rev)
			}
		}
	}()
}

// listPods lists the pods of revision rev in ns from the Reader, read-only.
func (k *KPA) listPods(ctx context.Context, ns, rev string) ([]corev1.Pod, error) {
	opts := []client.ListOption{client.InNamespace(ns), client.UnsafeDisableDeepCopy}
	if k.podIndexed {
		opts = append(opts, client.MatchingFields{PodRevisionIndex: rev})
	} else {
		opts = append(opts, client.MatchingLabels{serving.RevisionLabelKey: rev})
	}
	var pods corev1.PodList
	if err := k.reader.List(ctx, &pods, opts...); err != nil {
		return nil, fmt.Errorf("list pods of %s/%s: %w", ns, rev, err)
	}
	return pods.Items, nil
}

// readyPods counts the revision's Ready, Running, non-terminating pods (§3.4), as the PA
// reconciler does.
func (k *KPA) readyPods(ctx context.Context, ns, rev string) (int32, error) {
	pods, err := k.listPods(ctx, ns, rev)
	if err != nil {
		return 0, err
	}
	var n int32
	for i := range pods {
		if podautoscaler.IsPodReady(&pods[i]) {
			n++
		}
	}
	return n, nil
}
