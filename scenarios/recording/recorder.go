package recording

import (
	"io"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/servingsim/servingsim/stack/kpa"
)

// Recorder collects the records of one live run in memory, in the order they happened (per
// revision, the order the KPA's cores saw them), and writes the recording at the end. Request
// arrivals, known only once the load generator is done, are merged in by time when written.
// Its methods are safe for concurrent use and do nothing on a nil *Recorder.
type Recorder struct {
	clk clock.PassiveClock
	ns  string

	mu       sync.Mutex
	header   Header
	records  []Record
	requests []Record
	config   map[string]map[string]string // last recorded data per ConfigMap
	pas      map[string]*PAInputs         // last recorded inputs per PA
	pods     map[string]podState          // by pod name
	stops    []func()
}

type podState struct{ ready, terminating bool }

// NewRecorder returns a recorder of namespace h.Namespace (all namespaces when empty) with h as
// its header; t = 0 is h.Start, or clk's now when h.Start is zero.
func NewRecorder(h Header, clk clock.PassiveClock) *Recorder {
	if clk == nil {
		clk = clock.RealClock{}
	}
	if h.Start.IsZero() {
		h.Start = clk.Now()
	}
	h.Format = FormatVersion
	if h.Config == nil {
		h.Config = map[string]map[string]string{}
	}
	r := &Recorder{clk: clk, ns: h.Namespace, header: h, config: map[string]map[string]string{}, pas: map[string]*PAInputs{}, pods: map[string]podState{}}
	for name, data := range h.Config {
		r.config[name] = maps.Clone(data)
	}
	return r
}

// Header is the recording's header.
func (r *Recorder) Header() Header {
	if r == nil {
		return Header{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.header
}

// offset is t as a record time.
func (r *Recorder) offset(t time.Time) Offset { return Offset(t.Sub(r.header.Start)) }

// add appends rec at t.
func (r *Recorder) add(t time.Time, rec Record) {
	r.mu.Lock()
	rec.T = r.offset(t)
	r.records = append(r.records, rec)
	r.mu.Unlock()
}

// Observe records a KPA observation of the recorder's namespace; pass it to kpa.KPA.Observe. It
// only copies: no I/O, no encoding, as the KPA calls it under a revision's lock.
func (r *Recorder) Observe(ob kpa.Observation) {
	if r == nil || (r.ns != "" && ob.Key.Namespace != r.ns) {
		return
	}
	rec := Record{Rev: ob.Key.Name}
	switch ob.Kind {
	case kpa.ObservedCollector:
		rec.Kind, rec.Collector = KindCollector, CollectorOf(ob.MetricSpec, ob.New)
	case kpa.ObservedDecider:
		rec.Kind, rec.Decider = KindDecider, &Decider{New: ob.New, Ready: ob.ReadyPods, PA: PAInputsOf(ob.PA), Spec: DeciderSpecOf(ob.DeciderSpec)}
	case kpa.ObservedStat:
		src := SrcScrape
		if ob.FromActivator {
			src = SrcActivator
		}
		rec.Kind, rec.Stat = KindStat, StatOf(ob.Stat, src)
	case kpa.ObservedTick:
		rec.Kind, rec.Tick = KindTick, TickOf(ob.ReadyPods, ob.Result)
	case kpa.ObservedDrop:
		rec.Kind = KindDrop
	default:
		return
	}
	r.add(ob.Time, rec)
}

// MarkZero records the scenario's time zero.
func (r *Recorder) MarkZero(t time.Time) {
	if r == nil {
		return
	}
	r.add(t, Record{Kind: KindZero})
}

// Config records new data of a knative-serving ConfigMap (nil: deleted), unless it is what was
// recorded last.
func (r *Recorder) Config(name string, data map[string]string) {
	if r == nil {
		return
	}
	now := r.clk.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if last, ok := r.config[name]; ok && maps.Equal(last, data) {
		return
	}
	r.config[name] = maps.Clone(data)
	r.records = append(r.records, Record{T: r.offset(now), Kind: KindConfig, Config: &ConfigChange{Name: name, Data: maps.Clone(data)}})
}

// PA records a PodAutoscaler's autoscaling inputs when they changed.
func (r *Recorder) PA(rev string, in *PAInputs) {
	if r == nil || in == nil {
		return
	}
	now := r.clk.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if last := r.pas[rev]; last != nil && maps.Equal(last.Annotations, in.Annotations) &&
		last.ContainerConcurrency == in.ContainerConcurrency && last.Reachability == in.Reachability {
		return
	}
	r.pas[rev] = in
	r.records = append(r.records, Record{T: r.offset(now), Kind: KindPA, Rev: rev, PA: in})
}

// Pod records the events a pod's new state implies: created, ready, terminating, deleted.
func (r *Recorder) Pod(rev, name string, ready, terminating, deleted bool) {
	if r == nil {
		return
	}
	now := r.clk.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	ev := func(e string) {
		r.records = append(r.records, Record{T: r.offset(now), Kind: KindPod, Rev: rev, Pod: &PodEvent{Name: name, Event: e}})
	}
	old, existed := r.pods[name]
	if deleted {
		if existed {
			delete(r.pods, name)
			ev(PodDeleted)
		}
		return
	}
	if !existed {
		ev(PodCreated)
	}
	switch {
	case terminating && !old.terminating:
		ev(PodTerminating)
	case ready && !old.ready && !terminating:
		ev(PodReady)
	}
	r.pods[name] = podState{ready: ready, terminating: terminating}
}

// RequestAt is a request of the load generator and its send time.
type RequestAt struct {
	Time time.Time
	Request
}

// AddRequests adds request arrivals; Write merges them in by time.
func (r *Recorder) AddRequests(reqs []RequestAt) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, q := range reqs {
		req := q.Request
		r.requests = append(r.requests, Record{T: r.offset(q.Time), Kind: KindRequest, Request: &req})
	}
}

// Stop detaches the recorder from what StartLive attached it to; what was recorded stays.
func (r *Recorder) Stop() {
	if r == nil {
		return
	}
	r.mu.Lock()
	stops := r.stops
	r.stops = nil
	r.mu.Unlock()
	for _, s := range slices.Backward(stops) {
		s()
	}
}

// Len is the number of records so far, request arrivals included.
func (r *Recorder) Len() int {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.records) + len(r.requests)
}

// Write writes the recording to w: the header, then the records in the order they were
// recorded with the request arrivals merged in by time (an arrival goes before the first
// record later than it).
func (r *Recorder) Write(w io.Writer) error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	reqs := slices.Clone(r.requests)
	sort.SliceStable(reqs, func(i, j int) bool { return reqs[i].T < reqs[j].T })
	wr, err := NewWriter(w, r.header)
	if err != nil {
		return err
	}
	next := 0
	for _, rec := range r.records {
		for ; next < len(reqs) && reqs[next].T <= rec.T; next++ {
			if err := wr.Write(reqs[next]); err != nil {
				return err
			}
		}
		if err := wr.Write(rec); err != nil {
			return err
		}
	}
	for _, rec := range reqs[next:] {
		if err := wr.Write(rec); err != nil {
			return err
		}
	}
	return wr.Close()
}
