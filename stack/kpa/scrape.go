package kpa

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"

	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/podruntime"
	"github.com/servingsim/servingsim/stack/queueproxy"
	"github.com/servingsim/servingsim/stack/reconciler/podautoscaler"
	"github.com/servingsim/servingsim/stack/rng"
)

// errPodsExhausted is Knative's verdict when failed pods leave too few to fill the sample.
var errPodsExhausted = errors.New("pods exhausted before the sample was full")

// maxStatBytes bounds a stat response body; a PodStat is a few hundred bytes.
const maxStatBytes = 64 << 10

// DefaultScrapeURL is http://<loopback pod IP>:9090/metrics for a pod's status IP (the 10.x
// stand-in of its 127.x address).
func DefaultScrapeURL(podIP string) string {
	return "http://" + net.JoinHostPort(podruntime.PodIP(podIP), strconv.Itoa(int(serving.AutoscalingQueueMetricsPort))) + queueproxy.MetricsPath
}

// scrape is one collection tick of rev (§3.3.2): sample the ready pods, extrapolate, record.
// Nothing is recorded without a scrape target, without ready pods, or when too many pods fail.
func (k *KPA) scrape(ctx context.Context, rev *revision) {
	rev.mu.Lock()
	spec, name := rev.collector.Spec(), rev.name
	rev.mu.Unlock()
	if !spec.Scraped {
		return
	}
	pods, err := k.listPods(ctx, rev.key.Namespace, name)
	if err != nil {
		if ctx.Err() == nil {
			k.logger.Error(err, "Failed to list pods to scrape", "revision", rev.key)
		}
		return
	}
	older, younger := podIPsSplitByAge(pods, spec.StableWindow, k.clock.Now())
	population := len(older) + len(younger)
	if population == 0 {
		return
	}
	size := autoscaler.SampleSize(population)
	stats, err := k.scraper.sample(ctx, scrapeOrder(older, younger, size, rev.stream), size)
	if err != nil {
		if ctx.Err() == nil {
			k.logger.V(1).Info("Failed to scrape metrics", "revision", rev.key, "population", population, "sample", size, "error", err.Error())
		}
		return
	}
	stat, ok := autoscaler.Extrapolate(stats, population)
	if !ok {
		return
	}
	rev.mu.Lock()
	defer rev.mu.Unlock()
	if !rev.retired {
		now := k.clock.Now()
		rev.collector.Record(now, stat)
		if k.observers.observing() {
			k.observers.observe(Observation{Kind: ObservedStat, Time: now, Key: rev.key, Stat: stat})
		}
	}
}

// podIPsSplitByAge returns the status IPs of the ready, running, non-terminating pods, split at
// cutoff uptime (Knative's PodIPsSplitByAge): pods up for at least the stable window are
// "older", the rest (and pods without a start time) "younger".
func podIPsSplitByAge(pods []corev1.Pod, cutoff time.Duration, now time.Time) (older, younger []string) {
	for i := range pods {
		p := &pods[i]
		if !podautoscaler.IsPodReady(p) || p.Status.PodIP == "" {
			continue
		}
		if st := p.Status.StartTime; st != nil && now.Sub(st.Time) >= cutoff {
			older = append(older, p.Status.PodIP)
		} else {
			younger = append(younger, p.Status.PodIP)
		}
	}
	return older, younger
}

// scrapeOrder is the order in which pods are tried (Knative's scrapePods): with fewer old pods
// than the sample, every old pod then the young ones shuffled; otherwise the old pods shuffled
// then the young ones as they come, as spares for failures. The slices are reordered in place.
func scrapeOrder(older, younger []string, sampleSize int, r *rng.Stream) []string {
	if len(older) < sampleSize {
		shuffle(younger, r)
	} else {
		shuffle(older, r)
	}
	return append(older, younger...)
}

// shuffle is Fisher–Yates on the seeded stream.
func shuffle(s []string, r *rng.Stream) {
	for i := len(s) - 1; i > 0; i-- {
		j := r.IntN(i + 1)
		s[i], s[j] = s[j], s[i]
	}
}

// scraper GETs queue-proxy stats.
type scraper struct {
	client *http.Client
	url    func(podIP string) string
	logger logr.Logger
}

// sample scrapes size pods concurrently from ips in order, as Knative does: size workers each
// take the next untried pod, skip past failures, and stop at their first success. If the pods
// run out before every worker succeeded, the whole sample is void (errPodsExhausted) and the
// in-flight scrapes are cancelled.
func (s *scraper) sample(ctx context.Context, ips []string, size int) ([]autoscaler.Stat, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next      atomic.Int64
		exhausted atomic.Bool
		mu        sync.Mutex
		wg        sync.WaitGroup
	)
	stats := make([]autoscaler.Stat, 0, size)
	for range size {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ips) {
					exhausted.Store(true)
					cancel()
					return
				}
				st, err := s.scrapePod(ctx, ips[i])
				if err == nil {
					mu.Lock()
					stats = append(stats, st)
					mu.Unlock()
					return
				}
				if ctx.Err() == nil {
					s.logger.V(1).Info("Failed scraping pod", "pod", ips[i], "error", err.Error())
				}
			}
		})
	}
	wg.Wait()
	if exhausted.Load() {
		return nil, fmt.Errorf("%w: %d of %d scraped", errPodsExhausted, len(stats), size)
	}
	return stats, nil
}

// scrapePod GETs one pod's stat as JSON.
func (s *scraper) scrapePod(ctx context.Context, podIP string) (autoscaler.Stat, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url(podIP), nil)
	if err != nil {
		return autoscaler.Stat{}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return autoscaler.Stat{}, err
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxStatBytes))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return autoscaler.Stat{}, fmt.Errorf("GET %s: status %d", req.URL, resp.StatusCode)
	}
	var ps queueproxy.PodStat
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxStatBytes)).Decode(&ps); err != nil {
		return autoscaler.Stat{}, fmt.Errorf("GET %s: decode stat: %w", req.URL, err)
	}
	return autoscaler.Stat{
		PodName:                   ps.PodName,
		AverageConcurrency:        ps.AverageConcurrentRequests,
		AverageProxiedConcurrency: ps.AverageProxiedConcurrentRequests,
		RequestCount:              ps.RequestCount,
		ProxiedRequestCount:       ps.ProxiedRequestCount,
	}, nil
}
