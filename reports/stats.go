package reports

import (
	"maps"
	"slices"
	"sort"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"gonum.org/v1/gonum/stat"
)

// Stats are the key numbers of a run, computed from its records. summary.json carries them
// next to the Run so scripts need not recompute them; the renderers and Compare use them.
type Stats struct {
	Requests int `json:"requests"`
	// Failed requests: a status outside 200–399 or a transport error, as vegeta counts them.
	Failed    int     `json:"failed"`
	ErrorRate float64 `json:"errorRate"`
	// Throughput is successful requests per second of the run's duration.
	Throughput float64     `json:"throughput"`
	Latency    Percentiles `json:"latency"`
	// ColdStarts are requests that waited for a scale from zero; ColdStartLatency their latency.
	ColdStarts       int         `json:"coldStarts"`
	ColdStartLatency Percentiles `json:"coldStartLatency"`
	// PodSeconds is the pods that existed (starting, ready or terminating) integrated over time.
	PodSeconds float64 `json:"podSeconds"`
	// MaxPods is the most pods that existed at once, over every revision.
	MaxPods int32 `json:"maxPods"`
	// SKSSwitches counts SKS mode changes (Serve ⇄ Proxy) over every revision.
	SKSSwitches int `json:"sksSwitches"`
	// StatusCodes counts responses per HTTP status; 0 is a transport error or timeout.
	StatusCodes []StatusCount `json:"statusCodes"`
	// TopErrors are the most frequent error messages, most frequent first.
	TopErrors []ErrorCount `json:"topErrors,omitempty"`
	// Unattributed counts requests whose serving revision is unknown (e.g. failed before one).
	Unattributed int             `json:"unattributed"`
	Revisions    []RevisionStats `json:"revisions"`
}

// Percentiles of a latency distribution (nearest rank); all zero when it is empty.
type Percentiles struct {
	P50 time.Duration `json:"p50"`
	P95 time.Duration `json:"p95"`
	P99 time.Duration `json:"p99"`
	Max time.Duration `json:"max"`
}

// StatusCount is how many requests ended with one HTTP status code.
type StatusCount struct {
	Code  uint16 `json:"code"`
	Count int    `json:"count"`
}

// ErrorCount is how many requests failed with one error message.
type ErrorCount struct {
	Error string `json:"error"`
	Count int    `json:"count"`
}

// RevisionStats are one revision's numbers. Revisions are identified by name: a run applies
// its services in one namespace.
type RevisionStats struct {
	Revision string `json:"revision"`
	Requests int    `json:"requests"`
	// Share of the requests whose revision is known.
	Share            float64     `json:"share"`
	ColdStarts       int         `json:"coldStarts"`
	ColdStartLatency Percentiles `json:"coldStartLatency"`
	MaxDesired       int32       `json:"maxDesired"`
	MaxReady         int32       `json:"maxReady"`
	MaxPods          int32       `json:"maxPods"`
	PodSeconds       float64     `json:"podSeconds"`
	SKSSwitches      int         `json:"sksSwitches"`
	// PanicEntries counts how often the KPA entered panic mode (§3.4).
	PanicEntries int `json:"panicEntries"`
}

// topErrorCount bounds Stats.TopErrors.
const topErrorCount = 5

// failed says whether a request failed the way vegeta's success ratio counts it.
func failed(res *vegeta.Result) bool {
	return res.Error != "" || res.Code < 200 || res.Code >= 400
}

// Summarize computes a run's key numbers.
func Summarize(r *Run) Stats {
	s := Stats{Requests: len(r.Requests), StatusCodes: []StatusCount{}, Revisions: []RevisionStats{}}
	perRev := map[string]*RevisionStats{}
	rev := func(name string) *RevisionStats {
		if perRev[name] == nil {
			perRev[name] = &RevisionStats{Revision: name}
		}
		return perRev[name]
	}

	all := make([]time.Duration, 0, len(r.Requests))
	var cold []time.Duration
	coldPerRev := map[string][]time.Duration{}
	codes := map[uint16]int{}
	errs := map[string]int{}
	attributed := 0
	for i := range r.Requests {
		q := &r.Requests[i]
		all = append(all, q.Result.Latency)
		codes[q.Result.Code]++
		if failed(&q.Result) {
			s.Failed++
			if q.Result.Error != "" {
				errs[q.Result.Error]++
			}
		}
		if q.ColdStart {
			cold = append(cold, q.Result.Latency)
			coldPerRev[q.Revision] = append(coldPerRev[q.Revision], q.Result.Latency)
		}
		if q.Revision == "" {
			s.Unattributed++
			continue
		}
		attributed++
		rs := rev(q.Revision)
		rs.Requests++
		if q.ColdStart {
			rs.ColdStarts++
		}
	}
	if s.Requests > 0 {
		s.ErrorRate = float64(s.Failed) / float64(s.Requests)
	}
	if span := runSpan(r); span > 0 {
		s.Throughput = float64(s.Requests-s.Failed) / span.Seconds()
	}
	s.Latency = percentiles(all)
	s.ColdStarts = len(cold)
	s.ColdStartLatency = percentiles(cold)
	for _, code := range slices.Sorted(maps.Keys(codes)) {
		s.StatusCodes = append(s.StatusCodes, StatusCount{Code: code, Count: codes[code]})
	}
	for msg, n := range errs {
		s.TopErrors = append(s.TopErrors, ErrorCount{Error: msg, Count: n})
	}
	sort.Slice(s.TopErrors, func(i, j int) bool {
		a, b := s.TopErrors[i], s.TopErrors[j]
		return a.Count > b.Count || a.Count == b.Count && a.Error < b.Error
	})
	if len(s.TopErrors) > topErrorCount {
		s.TopErrors = s.TopErrors[:topErrorCount]
	}

	byRev := seriesByRevision(r.Series)
	for _, name := range slices.Sorted(maps.Keys(byRev)) { // in order: float sums must not vary
		series := byRev[name]
		rs := rev(name)
		rs.PodSeconds, rs.MaxDesired, rs.MaxReady, rs.MaxPods = podUsage(series)
		var prevMode string
		for i, smp := range series {
			if smp.Mode != "" && prevMode != "" && smp.Mode != prevMode {
				rs.SKSSwitches++
			}
			if smp.Mode != "" {
				prevMode = smp.Mode
			}
			if smp.Panicking && (i == 0 || !series[i-1].Panicking) {
				rs.PanicEntries++
			}
		}
		s.PodSeconds += rs.PodSeconds
		s.SKSSwitches += rs.SKSSwitches
	}
	s.MaxPods = peakPods(r.Series)
	for _, d := range r.Decisions {
		rev(d.Revision)
	}

	for _, name := range slices.Sorted(maps.Keys(perRev)) {
		rs := perRev[name]
		if attributed > 0 {
			rs.Share = float64(rs.Requests) / float64(attributed)
		}
		rs.ColdStartLatency = percentiles(coldPerRev[name])
		s.Revisions = append(s.Revisions, *rs)
	}
	return s
}

// percentiles are nearest-rank percentiles (gonum's empirical quantile) of latencies.
func percentiles(latencies []time.Duration) Percentiles {
	if len(latencies) == 0 {
		return Percentiles{}
	}
	xs := make([]float64, len(latencies))
	for i, l := range latencies {
		xs[i] = float64(l)
	}
	slices.Sort(xs)
	q := func(p float64) time.Duration { return time.Duration(stat.Quantile(p, stat.Empirical, xs, nil)) }
	return Percentiles{P50: q(0.50), P95: q(0.95), P99: q(0.99), Max: time.Duration(xs[len(xs)-1])}
}

// seriesByRevision groups samples per revision, each group in time order.
func seriesByRevision(samples []Sample) map[string][]Sample {
	out := map[string][]Sample{}
	for _, s := range samples {
		out[s.Revision] = append(out[s.Revision], s)
	}
	for _, series := range out {
		sort.SliceStable(series, func(i, j int) bool { return series[i].Time < series[j].Time })
	}
	return out
}

// podUsage integrates a revision's existing pods over time, each sample holding until the
// next one (the last for the previous step, or a second: samples are per second).
func podUsage(series []Sample) (podSeconds float64, maxDesired, maxReady, maxPods int32) {
	step := time.Second
	for i, s := range series {
		if i+1 < len(series) {
			step = series[i+1].Time - s.Time
		}
		podSeconds += float64(s.ActualPods) * step.Seconds()
		maxDesired = max(maxDesired, s.DesiredPods)
		maxReady = max(maxReady, s.ReadyPods)
		maxPods = max(maxPods, s.ActualPods)
	}
	return podSeconds, maxDesired, maxReady, maxPods
}

// peakPods is the most pods existing at once: the largest sum over revisions at one sample time.
func peakPods(samples []Sample) int32 {
	at := map[time.Duration]int32{}
	var peak int32
	for _, s := range samples {
		at[s.Time] += s.ActualPods
		peak = max(peak, at[s.Time])
	}
	return peak
}

// runSpan is the run's duration, or the span of its requests when the duration is unset.
func runSpan(r *Run) time.Duration {
	if r.Duration > 0 {
		return r.Duration
	}
	if len(r.Requests) == 0 {
		return 0
	}
	first, last := r.Requests[0].Result.Timestamp, r.Requests[0].Result.End()
	for i := range r.Requests {
		res := &r.Requests[i].Result
		if res.Timestamp.Before(first) {
			first = res.Timestamp
		}
		if res.End().After(last) {
			last = res.End()
		}
	}
	return last.Sub(first)
}

// timeZero is the instant request offsets are measured from: Run.Started, or the first request.
func timeZero(r *Run) time.Time {
	if !r.Started.IsZero() || len(r.Requests) == 0 {
		return r.Started
	}
	first := r.Requests[0].Result.Timestamp
	for i := range r.Requests {
		if t := r.Requests[i].Result.Timestamp; t.Before(first) {
			first = t
		}
	}
	return first
}

// second is one second of the run seen from the requests sent in it.
type second struct {
	Start         time.Duration
	Sent          int
	P50, P95, P99 time.Duration
	// PerRevision counts the requests a revision served; Attributed sums them.
	PerRevision map[string]int
	Attributed  int
}

// perSecond buckets requests by the second of the run they were sent in (offsets before time
// zero count in the first second). Seconds without requests are present with zero counts.
func perSecond(r *Run) []second {
	if len(r.Requests) == 0 {
		return nil
	}
	zero := timeZero(r)
	buckets := map[int][]int{}
	last := 0
	for i := range r.Requests {
		b := max(0, int(r.Requests[i].Result.Timestamp.Sub(zero)/time.Second))
		buckets[b] = append(buckets[b], i)
		last = max(last, b)
	}
	out := make([]second, last+1)
	for b := range out {
		sec := second{Start: time.Duration(b) * time.Second, PerRevision: map[string]int{}}
		lat := make([]time.Duration, 0, len(buckets[b]))
		for _, i := range buckets[b] {
			q := &r.Requests[i]
			lat = append(lat, q.Result.Latency)
			if q.Revision != "" {
				sec.PerRevision[q.Revision]++
				sec.Attributed++
			}
		}
		sec.Sent = len(lat)
		p := percentiles(lat)
		sec.P50, sec.P95, sec.P99 = p.P50, p.P95, p.P99
		out[b] = sec
	}
	return out
}
