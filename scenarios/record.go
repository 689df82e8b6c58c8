package scenarios

import (
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/servingsim/servingsim/reports"
)

// Record is everything one run observed: the reports.Run the renderers read (requests,
// per-second samples, decisions, events), plus what expectations need beyond it. Both drivers,
// live and virtual, fill a Record and hand it to Evaluate, so a scenario's expectations mean
// the same in either mode.
type Record struct {
	// Run is the report. Its Requests carry Stream, Revision and Tag; MarkColdStarts sets
	// ColdStart from States. Accounting.Sent is the driver's count of requests sent.
	Run *reports.Run
	// Namespace is where the scenario's objects lived (samples and decisions carry it).
	Namespace string
	// States holds every change of a revision's pod counts, desired scale or SKS mode, in time
	// order (it may start before time zero, while the services came up).
	States []RevisionState
	// Revisions lists each owner's (Knative Service or Configuration) revisions in creation
	// order: the last one is the latest created.
	Revisions map[string][]string
	// Routing is each Knative Service's or Route's traffic at the end of the run.
	Routing map[string]Routing
	// AppMaxInFlight is, per revision, the most requests one pod's app worked on at once.
	AppMaxInFlight map[string]int
	// ActivatorQueue is, per revision, the most requests buffered in the activators in each
	// second of the run (index = second).
	ActivatorQueue map[string][]int
}

// RevisionState is a revision's state from Time until the revision's next RevisionState.
type RevisionState struct {
	Time     time.Duration
	Revision string
	// Ready counts Ready, non-terminating pods (what the KPA counts, §3.4); Actual every pod
	// that exists; Desired is the PA's status.desiredScale (-1 before it has one).
	Ready, Actual, Desired int32
	// Mode is the SKS mode, Serve or Proxy ("" before the SKS exists).
	Mode string
}

// Routing is where a Service's or Route's URLs send traffic (its status.traffic).
type Routing struct {
	// Percent is each revision's share of the main URL, 0 to 100.
	Percent map[string]float64
	// Tags maps each traffic tag to its revision.
	Tags map[string]string
}

// RevisionHeader names the response header the app sets to the revision that served a request
// (stack/app RevisionHeader).
const RevisionHeader = "X-Servingsim-Revision"

// revisionFromHeaders reads the serving revision from a response's headers ("" if absent).
func revisionFromHeaders(h http.Header) string { return h.Get(RevisionHeader) }

// timeline is one revision's states in time order.
type timeline []RevisionState

// timelines splits States by revision.
func (r *Record) timelines() map[string]timeline {
	out := map[string]timeline{}
	for _, s := range r.States {
		out[s.Revision] = append(out[s.Revision], s)
	}
	for _, tl := range out {
		sort.SliceStable(tl, func(i, j int) bool { return tl[i].Time < tl[j].Time })
	}
	return out
}

// at returns the state in effect at t, and false before the first one.
func (tl timeline) at(t time.Duration) (RevisionState, bool) {
	i := sort.Search(len(tl), func(i int) bool { return tl[i].Time > t })
	if i == 0 {
		return RevisionState{}, false
	}
	return tl[i-1], true
}

// measure returns the pod count m (MeasureReady, MeasureDesired or MeasureActual) of s.
func (s RevisionState) measure(m string) int32 {
	switch m {
	case MeasureDesired:
		return s.Desired
	case MeasureActual:
		return s.Actual
	}
	return s.Ready
}

// MarkColdStarts sets Request.ColdStart on every request whose revision had no ready pod when
// it was sent (by States). Requests without a revision are left alone.
func (r *Record) MarkColdStarts() {
	tls := r.timelines()
	for i := range r.Run.Requests {
		q := &r.Run.Requests[i]
		if q.Revision == "" {
			continue
		}
		s, _ := tls[q.Revision].at(r.sentAt(q))
		q.ColdStart = s.Ready == 0
	}
}

// sentAt is a request's send time from time zero.
func (r *Record) sentAt(q *reports.Request) time.Duration {
	return q.Result.Timestamp.Sub(r.Run.Started)
}

// BuildSeries fills Run.Series: one Sample per revision and second of the run, [0, Duration].
// Pod counts, desired scale and SKS mode are the state at the second's start; the KPA values
// are its latest decision by then; rps, concurrency and errors are what the load generator saw
// of that revision within the second (requests with no revision are not attributed).
func (r *Record) BuildSeries() {
	run := r.Run
	tls := r.timelines()
	revs := make([]string, 0, len(tls))
	for rev := range tls {
		revs = append(revs, rev)
	}
	slices.Sort(revs)
	seconds := int(run.Duration/time.Second) + 1
	type load struct {
		done, errors int
		busy         time.Duration
	}
	perRev := map[string][]load{}
	for _, rev := range revs {
		perRev[rev] = make([]load, seconds)
	}
	for i := range run.Requests {
		q := &run.Requests[i]
		l := perRev[q.Revision]
		if l == nil {
			continue
		}
		start := r.sentAt(q)
		end := start + q.Result.Latency
		if s := int(end / time.Second); end >= 0 && s < seconds {
			l[s].done++
			if failed(q) {
				l[s].errors++
			}
		}
		for s := max(int(start/time.Second), 0); s < seconds && time.Duration(s)*time.Second < end; s++ {
			lo, hi := max(start, time.Duration(s)*time.Second), min(end, time.Duration(s+1)*time.Second)
			if hi > lo {
				l[s].busy += hi - lo
			}
		}
	}
	decisions := map[string][]reports.Decision{}
	for _, d := range run.Decisions {
		decisions[d.Revision] = append(decisions[d.Revision], d)
	}
	run.Series = run.Series[:0]
	for s := range seconds {
		t := time.Duration(s) * time.Second
		for _, rev := range revs {
			st, ok := tls[rev].at(t)
			if !ok {
				continue // the revision did not exist yet
			}
			sample := reports.Sample{Time: t, Namespace: r.Namespace, Revision: rev,
				DesiredPods: st.Desired, ReadyPods: st.Ready, ActualPods: st.Actual, Mode: st.Mode}
			ds := decisions[rev]
			if i := sort.Search(len(ds), func(i int) bool { return ds[i].Time > t }); i > 0 {
				d := ds[i-1]
				sample.Stable, sample.Panic, sample.Panicking = d.Stable, d.Panic, d.Panicking
			}
			if q := r.ActivatorQueue[rev]; s < len(q) {
				sample.ActivatorQueue = q[s]
			}
			l := perRev[rev][s]
			sample.RPS, sample.Concurrency, sample.Errors = float64(l.done), l.busy.Seconds(), l.errors
			run.Series = append(run.Series, sample)
		}
	}
}

// failed reports whether a request failed: no response, or a status of 500 or more.
func failed(q *reports.Request) bool { return q.Result.Code == 0 || q.Result.Code >= 500 }
