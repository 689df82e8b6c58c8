package scenarios

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/servingsim/servingsim/reports"
)

// KindAccounting is the Kind of the ExpectationResult Evaluate always adds: every request sent
// has exactly one outcome.
const KindAccounting = "accounting"

// Evaluate checks every expectation of s against rec, then the request accounting (always),
// and sets rec.Run's Expectations, Accounting (Responses, Errors, Unaccounted; Sent is the
// driver's) and Verdict: Pass when everything held, Fail otherwise. A run whose Verdict is
// already Error keeps it.
func Evaluate(s *Scenario, rec *Record) {
	ev := newEvaluator(s, rec)
	run := rec.Run
	run.Expectations = run.Expectations[:0]
	for _, e := range s.Spec.Expect {
		if c := e.Check(); c != nil {
			run.Expectations = append(run.Expectations, ev.check(c))
		}
	}
	run.Expectations = append(run.Expectations, ev.accounting())
	if run.Verdict == reports.Error {
		return
	}
	run.Verdict = reports.Pass
	for _, r := range run.Expectations {
		if !r.Passed {
			run.Verdict = reports.Fail
		}
	}
}

// evaluator holds what every check looks up.
type evaluator struct {
	s       *Scenario
	rec     *Record
	tls     map[string]timeline
	targets map[string]Target // stream name → target
	streams map[string]Stream
	end     time.Duration // the run's length from time zero
}

func newEvaluator(s *Scenario, rec *Record) *evaluator {
	ev := &evaluator{s: s, rec: rec, tls: rec.timelines(), targets: map[string]Target{}, streams: map[string]Stream{},
		end: rec.Run.Duration}
	for i, st := range s.Spec.Workload {
		name := s.StreamName(i)
		ev.targets[name] = st.Target
		ev.streams[name] = st
	}
	return ev
}

func (ev *evaluator) check(c Check) reports.ExpectationResult {
	res := reports.ExpectationResult{Kind: c.Kind(), Description: c.Describe()}
	switch e := c.(type) {
	case *ColdStartExpect:
		ev.coldStart(e, &res)
	case *PodsExpect:
		ev.pods(e, &res)
	case *MaxPodsExpect:
		ev.maxPods(e, &res)
	case *ReachesExpect:
		ev.reaches(e, &res)
	case *ScalesToZeroExpect:
		ev.scalesToZero(e, &res)
	case *PanicExpect:
		ev.panics(e, &res)
	case *SKSModeSwitchesExpect:
		ev.sksSwitches(e, &res)
	case *TrafficSplitExpect:
		ev.trafficSplit(e, &res)
	case *AppConcurrencyExpect:
		ev.appConcurrency(e, &res)
	case *LatencyExpect:
		ev.latency(e, &res)
	case *ErrorRateExpect:
		ev.errorRate(e, &res)
	case *StatusCodesExpect:
		ev.statusCodes(e, &res)
	case *ThroughputExpect:
		ev.throughput(e, &res)
	default:
		res.Observed = "nothing"
		res.Detail = fmt.Sprintf("the runner cannot check %T", c)
	}
	return res
}

// accounting checks that every request sent has exactly one outcome (design: nothing lost).
func (ev *evaluator) accounting() reports.ExpectationResult {
	a := &ev.rec.Run.Accounting
	a.Responses, a.Errors = 0, 0
	for i := range ev.rec.Run.Requests {
		if ev.rec.Run.Requests[i].Result.Code == 0 {
			a.Errors++
		} else {
			a.Responses++
		}
	}
	a.Unaccounted = a.Sent - a.Responses - a.Errors
	res := reports.ExpectationResult{Kind: KindAccounting, Description: "every request sent has exactly one outcome (a response or a counted error)",
		Passed:   a.Unaccounted == 0,
		Observed: fmt.Sprintf("%d sent, %d responses, %d errors", a.Sent, a.Responses, a.Errors)}
	if a.Unaccounted != 0 {
		res.Detail = fmt.Sprintf("%d requests have no recorded outcome", a.Unaccounted)
	}
	return res
}

// revision resolves an expectation's revision: the one named, or the owner's latest created.
func (ev *evaluator) revision(owner, rev string) (string, error) {
	if rev != "" {
		return rev, nil
	}
	revs := ev.rec.Revisions[owner]
	if len(revs) == 0 {
		return "", fmt.Errorf("%s created no revision", owner)
	}
	return revs[len(revs)-1], nil
}

// revisions is the named revision, or every revision of owner.
func (ev *evaluator) revisions(owner, rev string) []string {
	if rev != "" {
		return []string{rev}
	}
	return ev.rec.Revisions[owner]
}

func (ev *evaluator) coldStart(c *ColdStartExpect, res *reports.ExpectationResult) {
	revs := ev.revisions(c.Service, c.Revision)
	var lats []time.Duration
	episodes := map[string]bool{}
	for i := range ev.rec.Run.Requests {
		q := &ev.rec.Run.Requests[i]
		if !q.ColdStart || !slices.Contains(revs, q.Revision) {
			continue
		}
		lats = append(lats, q.Result.Latency)
		// One cold start per stretch of zero ready pods, however many requests waited in it.
		episodes[q.Revision+"@"+ev.tls[q.Revision].zeroSince(ev.rec.sentAt(q)).String()] = true
	}
	slices.Sort(lats)
	var parts, fails []string
	parts = append(parts, plural(len(episodes), "cold start"), plural(len(lats), "request")+" waited")
	res.Passed = true
	if c.Count != nil && !c.Count.Contains(len(episodes)) {
		res.Passed = false
		fails = append(fails, fmt.Sprintf("%s, want %s", plural(len(episodes), "cold start"), c.Count.Describe()))
	}
	if len(c.Percentiles) > 0 {
		obs, f := checkPercentiles(c.Percentiles, lats)
		parts = append(parts, obs)
		if len(f) > 0 {
			res.Passed = false
			fails = append(fails, f...)
		}
	}
	res.Observed = strings.Join(parts, ", ")
	res.Detail = strings.Join(fails, "; ")
}

// zeroSince returns when the stretch of zero ready pods containing t began (t itself when the
// revision had ready pods at t, or no state yet).
func (tl timeline) zeroSince(t time.Duration) time.Duration {
	since := t
	for i := len(tl) - 1; i >= 0; i-- {
		if tl[i].Time > t {
			continue
		}
		if tl[i].Ready != 0 {
			break
		}
		since = tl[i].Time
	}
	return since
}

// checkPercentiles measures lats (sorted) against ps: the observed statistics and a failure
// line per unmet bound.
func checkPercentiles(ps Percentiles, lats []time.Duration) (observed string, fails []string) {
	if len(lats) == 0 {
		return "no requests to measure", []string{"no requests to measure latency of"}
	}
	var parts []string
	for _, p := range sortedPercentiles(ps) {
		v := statistic(lats, p)
		parts = append(parts, fmt.Sprintf("%s %s", p, roundDuration(v)))
		if b := ps[p]; !b.Contains(v) {
			fails = append(fails, fmt.Sprintf("%s is %s, want %s", p, roundDuration(v), b.Describe()))
		}
	}
	return strings.Join(parts, ", ") + fmt.Sprintf(" over %s", plural(len(lats), "request")), fails
}

func (ev *evaluator) podTimeline(owner, rev string, res *reports.ExpectationResult) (string, timeline, bool) {
	r, err := ev.revision(owner, rev)
	if err != nil {
		res.Observed, res.Detail = "no revision", err.Error()
		return "", nil, false
	}
	return r, ev.tls[r], true
}

// valueAt is measure m of the state at t (0 pods, desired -1, before the revision existed).
func (tl timeline) valueAt(t time.Duration, m string) int32 {
	s, ok := tl.at(t)
	if !ok {
		if m == MeasureDesired {
			return -1
		}
		return 0
	}
	return s.measure(m)
}

// changes returns the times in (from, to] at which measure m changed, with the new values.
func (tl timeline) changes(from, to time.Duration, m string) (times []time.Duration, values []int32) {
	last := tl.valueAt(from, m)
	for _, s := range tl {
		if s.Time <= from || s.Time > to {
			continue
		}
		if v := s.measure(m); v != last {
			times, values, last = append(times, s.Time), append(values, v), v
		}
	}
	return times, values
}

func (ev *evaluator) pods(e *PodsExpect, res *reports.ExpectationResult) {
	rev, tl, ok := ev.podTimeline(e.Service, e.Revision, res)
	if !ok {
		return
	}
	m := measure(e.Measure)
	if e.At != nil {
		v := tl.valueAt(e.At.D(), m)
		res.Passed = e.Count.Contains(int(v))
		res.Observed = fmt.Sprintf("%d %s pods of %s at %s", v, m, rev, e.At)
		return
	}
	from, to := e.From.D(), e.To.D()
	v0 := tl.valueAt(from, m)
	lo, hi := v0, v0
	res.Passed = e.Count.Contains(int(v0))
	if !res.Passed {
		res.Detail = fmt.Sprintf("%d at %s", v0, e.From)
	}
	times, values := tl.changes(from, to, m)
	for i, v := range values {
		lo, hi = min(lo, v), max(hi, v)
		if res.Passed && !e.Count.Contains(int(v)) {
			res.Passed = false
			res.Detail = fmt.Sprintf("%d at %s", v, roundDuration(times[i]))
		}
	}
	if lo == hi {
		res.Observed = fmt.Sprintf("%d %s pods of %s throughout", lo, m, rev)
	} else {
		res.Observed = fmt.Sprintf("%d to %d %s pods of %s", lo, hi, m, rev)
	}
	if res.Detail != "" {
		res.Detail = "first outside " + e.Count.Describe() + ": " + res.Detail
	}
}

func (ev *evaluator) maxPods(e *MaxPodsExpect, res *reports.ExpectationResult) {
	rev, tl, ok := ev.podTimeline(e.Service, e.Revision, res)
	if !ok {
		return
	}
	m := measure(e.Measure)
	peak, at := tl.valueAt(0, m), time.Duration(0)
	times, values := tl.changes(0, ev.end, m)
	for i, v := range values {
		if v > peak {
			peak, at = v, times[i]
		}
	}
	res.Passed = int(peak) <= e.Max
	res.Observed = fmt.Sprintf("%s pods of %s peaked at %d (at %s)", m, rev, peak, roundDuration(at))
}

func (ev *evaluator) reaches(e *ReachesExpect, res *reports.ExpectationResult) {
	rev, tl, ok := ev.podTimeline(e.Service, e.Revision, res)
	if !ok {
		return
	}
	m := measure(e.Measure)
	after, deadline := e.After.D(), e.After.D()+e.Within.D()
	reachedAt := time.Duration(-1)
	peak, peakAt := tl.valueAt(after, m), after
	if int(peak) >= e.Pods {
		reachedAt = after
	}
	times, values := tl.changes(after, ev.end, m)
	for i, v := range values {
		if times[i] <= deadline && v > peak {
			peak, peakAt = v, times[i]
		}
		if reachedAt < 0 && int(v) >= e.Pods {
			reachedAt = times[i]
		}
	}
	switch {
	case reachedAt >= 0 && reachedAt <= deadline:
		res.Passed = true
		res.Observed = fmt.Sprintf("%s pods of %s reached %d at %s (%s after %s)", m, rev, e.Pods, roundDuration(reachedAt), roundDuration(reachedAt-after), e.After)
	case reachedAt >= 0:
		res.Observed = fmt.Sprintf("%s pods of %s reached %d only at %s (%s after %s)", m, rev, e.Pods, roundDuration(reachedAt), roundDuration(reachedAt-after), e.After)
	default:
		res.Observed = fmt.Sprintf("%s pods of %s peaked at %d (at %s) by %s", m, rev, peak, roundDuration(peakAt), Duration(deadline))
	}
}

func (ev *evaluator) scalesToZero(e *ScalesToZeroExpect, res *reports.ExpectationResult) {
	rev, tl, ok := ev.podTimeline(e.Service, e.Revision, res)
	if !ok {
		return
	}
	start := ev.s.loadEnd(e.Service)
	if e.After != nil {
		start = e.After.D()
	}
	deadline := start + e.Within.D()
	zero := func(s RevisionState) bool { return s.Ready == 0 && s.Desired <= 0 }
	at := time.Duration(-1)
	if s, ok := tl.at(start); !ok || zero(s) {
		at = start
	}
	for _, s := range tl {
		if at < 0 && s.Time > start && zero(s) {
			at = s.Time
		}
	}
	switch {
	case at >= 0 && at <= deadline:
		res.Passed = true
		res.Observed = fmt.Sprintf("%s had no ready pods and desired 0 from %s (%s after %s)", rev, roundDuration(at), roundDuration(at-start), Duration(start))
	case at >= 0:
		res.Observed = fmt.Sprintf("%s reached zero only at %s (%s after %s)", rev, roundDuration(at), roundDuration(at-start), Duration(start))
	default:
		s, _ := tl.at(deadline)
		res.Observed = fmt.Sprintf("%s still had %d ready pods (desired %d) at %s", rev, s.Ready, s.Desired, Duration(deadline))
	}
}

// window resolves an expectation window: To defaults to the end of the run.
func (ev *evaluator) window(from Duration, to *Duration) (time.Duration, time.Duration) {
	if to != nil {
		return from.D(), to.D()
	}
	return from.D(), max(ev.end, from.D())
}

func (ev *evaluator) panics(e *PanicExpect, res *reports.ExpectationResult) {
	rev, err := ev.revision(e.Service, e.Revision)
	if err != nil {
		res.Observed, res.Detail = "no revision", err.Error()
		return
	}
	from, to := ev.window(e.From, e.To)
	wantEnter := e.Entered != nil && *e.Entered
	ticks, prevPanicking := 0, false
	var entered, panicking *reports.Decision
	peak := 0.0
	for i := range ev.rec.Run.Decisions {
		d := &ev.rec.Run.Decisions[i]
		if d.Revision != rev {
			continue
		}
		if d.Time >= from && d.Time <= to {
			ticks++
			peak = math.Max(peak, d.Panic)
			if d.Panicking && panicking == nil {
				panicking = d
			}
			if d.Panicking && !prevPanicking && entered == nil {
				entered = d
			}
		}
		prevPanicking = d.Panicking
	}
	if wantEnter {
		res.Passed = entered != nil
		if entered != nil {
			res.Observed = fmt.Sprintf("entered panic at %s (panic value %s, desired %d, ready %d)", roundDuration(entered.Time),
				formatFloat(round2(entered.Panic)), entered.DesiredPods, entered.ReadyPods)
		} else {
			res.Observed = fmt.Sprintf("did not enter panic in %s (peak panic value %s)", plural(ticks, "tick"), formatFloat(round2(peak)))
		}
		return
	}
	res.Passed = panicking == nil
	if panicking != nil {
		res.Observed = fmt.Sprintf("panicking at %s (panic value %s, desired %d, ready %d)", roundDuration(panicking.Time),
			formatFloat(round2(panicking.Panic)), panicking.DesiredPods, panicking.ReadyPods)
	} else {
		res.Observed = fmt.Sprintf("not panicking in %s", plural(ticks, "tick"))
	}
}

func (ev *evaluator) sksSwitches(e *SKSModeSwitchesExpect, res *reports.ExpectationResult) {
	rev, tl, ok := ev.podTimeline(e.Service, e.Revision, res)
	if !ok {
		return
	}
	from, to := ev.window(e.From, e.To)
	prev := ""
	if s, ok := tl.at(from); ok {
		prev = s.Mode
	}
	var switches []string
	for _, s := range tl {
		if s.Time <= from || s.Time > to || s.Mode == "" || s.Mode == prev {
			continue
		}
		if prev != "" {
			switches = append(switches, fmt.Sprintf("%s→%s at %s", prev, s.Mode, roundDuration(s.Time)))
		}
		prev = s.Mode
	}
	res.Passed = e.Count.Contains(len(switches))
	res.Observed = fmt.Sprintf("%s of %s", plural(len(switches), "switch"), rev)
	if len(switches) > 0 {
		shown := switches[:min(len(switches), 6)]
		res.Detail = strings.Join(shown, ", ")
		if len(switches) > len(shown) {
			res.Detail += fmt.Sprintf(", … (%d more)", len(switches)-len(shown))
		}
	}
}

func (ev *evaluator) trafficSplit(e *TrafficSplitExpect, res *reports.ExpectationResult) {
	routing := ev.rec.Routing[e.Service]
	expected := map[string]float64{}
	switch {
	case len(e.Shares) > 0:
		for _, sh := range e.Shares {
			rev := sh.Revision
			if sh.Tag != "" {
				rev = routing.Tags[sh.Tag]
				if rev == "" {
					res.Observed, res.Detail = "no such tag", fmt.Sprintf("%s has no traffic tag %q at the end of the run", e.Service, sh.Tag)
					return
				}
			}
			expected[rev] += sh.Percent
		}
	case e.Tag != "":
		rev := routing.Tags[e.Tag]
		if rev == "" {
			res.Observed, res.Detail = "no such tag", fmt.Sprintf("%s has no traffic tag %q at the end of the run", e.Service, e.Tag)
			return
		}
		expected[rev] = 100
	default:
		maps.Copy(expected, routing.Percent)
	}
	from, to := ev.window(e.From, e.To)
	observed := map[string]int{}
	n, unknown := 0, 0
	for i := range ev.rec.Run.Requests {
		q := &ev.rec.Run.Requests[i]
		t, ok := ev.targets[q.Stream]
		if !ok || t.Service != e.Service || t.Tag != e.Tag {
			continue
		}
		if at := ev.rec.sentAt(q); at < from || at > to {
			continue
		}
		if q.Revision == "" {
			unknown++
			continue
		}
		observed[q.Revision]++
		n++
	}
	if n == 0 {
		res.Observed = "no requests"
		res.Detail = fmt.Sprintf("no request to %s in the window was served by a known revision (%d without one)", e.Service, unknown)
		return
	}
	conf := float64(e.Confidence)
	if conf == 0 {
		conf = DefaultConfidence
	}
	revs := slices.Sorted(maps.Keys(expected))
	for rev := range observed {
		if _, ok := expected[rev]; !ok {
			revs = append(revs, rev)
		}
	}
	counts := make([]int, len(revs))
	props := make([]float64, len(revs))
	var parts, details []string
	res.Passed = true
	for i, rev := range revs {
		k, p := observed[rev], expected[rev]/100
		counts[i], props[i] = k, p
		lo, hi := BinomialInterval(n, p, conf)
		in := k >= lo && k <= hi
		res.Passed = res.Passed && in
		parts = append(parts, fmt.Sprintf("%s %s%% (%d/%d)", rev, formatFloat(round2(100*float64(k)/float64(n))), k, n))
		verdict := "ok"
		if !in {
			verdict = "OUTSIDE"
		}
		details = append(details, fmt.Sprintf("%s: %d of %d, expected %s%%, %s interval [%d, %d] (%s%%–%s%%): %s", rev, k, n,
			formatFloat(expected[rev]), percent(conf), lo, hi, formatFloat(round2(100*float64(lo)/float64(n))), formatFloat(round2(100*float64(hi)/float64(n))), verdict))
		if i == 0 {
			res.Interval = &[2]float64{float64(lo) / float64(n), float64(hi) / float64(n)}
		}
	}
	pv := chiSquarePValue(counts, props)
	res.PValue = &pv
	res.Observed = strings.Join(parts, ", ") + fmt.Sprintf("; χ² p-value %.3g", pv)
	if unknown > 0 {
		details = append(details, fmt.Sprintf("%d requests had no revision (not counted)", unknown))
	}
	res.Detail = strings.Join(details, "; ")
}

func (ev *evaluator) appConcurrency(e *AppConcurrencyExpect, res *reports.ExpectationResult) {
	most, seen := 0, false
	var who string
	for _, rev := range ev.revisions(e.Service, e.Revision) {
		if v, ok := ev.rec.AppMaxInFlight[rev]; ok {
			seen = true
			if v >= most {
				most, who = v, rev
			}
		}
	}
	if !seen {
		res.Observed = "no pod observed"
		res.Detail = fmt.Sprintf("no pod of %s ran during the run", revisionOf(e.Service, e.Revision))
		return
	}
	res.Passed = most <= e.Max
	res.Observed = fmt.Sprintf("at most %s at once in one pod (%s)", plural(most, "request"), who)
}

// inScope returns the requests a scope selects, by stream or target and send time.
func (ev *evaluator) inScope(sc Scope) []*reports.Request {
	from, to := ev.window(sc.From, sc.To)
	var out []*reports.Request
	for i := range ev.rec.Run.Requests {
		q := &ev.rec.Run.Requests[i]
		switch {
		case sc.Stream != "" && q.Stream != sc.Stream:
			continue
		case sc.Service != "":
			t := ev.targets[q.Stream]
			if t.Service != sc.Service || (sc.Tag != "" && t.Tag != sc.Tag) {
				continue
			}
		}
		if at := ev.rec.sentAt(q); at < from || at > to {
			continue
		}
		out = append(out, q)
	}
	return out
}

// scopeStreams returns the streams a scope covers.
func (ev *evaluator) scopeStreams(sc Scope) []string {
	var out []string
	for name, t := range ev.targets {
		switch {
		case sc.Stream != "" && name != sc.Stream:
			continue
		case sc.Service != "" && (t.Service != sc.Service || (sc.Tag != "" && t.Tag != sc.Tag)):
			continue
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

func (ev *evaluator) latency(e *LatencyExpect, res *reports.ExpectationResult) {
	qs := ev.inScope(e.Scope)
	lats := make([]time.Duration, len(qs))
	for i, q := range qs {
		lats[i] = q.Result.Latency
	}
	slices.Sort(lats)
	obs, fails := checkPercentiles(e.Percentiles, lats)
	res.Passed = len(fails) == 0
	res.Observed = obs
	res.Detail = strings.Join(fails, "; ")
}

func (ev *evaluator) errorRate(e *ErrorRateExpect, res *reports.ExpectationResult) {
	qs := ev.inScope(e.Scope)
	if len(qs) == 0 {
		res.Observed, res.Detail = "no requests", "no request in scope to measure"
		return
	}
	bad := map[string]int{}
	nFailed := 0
	for _, q := range qs {
		if failed(q) {
			nFailed++
			bad[outcome(q)]++
		}
	}
	rate := float64(nFailed) / float64(len(qs))
	res.Passed = rate <= float64(e.Max)
	res.Observed = fmt.Sprintf("%s (%d of %d failed)", percent(rate), nFailed, len(qs))
	if nFailed > 0 {
		res.Detail = "failures: " + countList(bad)
	}
}

// outcome names a request's outcome: its status code, or "error: <message>".
func outcome(q *reports.Request) string {
	if q.Result.Code == 0 {
		msg := q.Result.Error
		if len(msg) > 80 {
			msg = msg[:80] + "…"
		}
		return "error: " + msg
	}
	return strconv.Itoa(int(q.Result.Code))
}

// countList renders counts as "12 × 503, 3 × error: timeout", largest first.
func countList(m map[string]int) string {
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b string) int { return m[b] - m[a] })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d × %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}

func (ev *evaluator) statusCodes(e *StatusCodesExpect, res *reports.ExpectationResult) {
	qs := ev.inScope(e.Scope)
	all := map[string]int{}
	for _, q := range qs {
		if q.Result.Code == 0 {
			all["error"]++
		} else {
			all[strconv.Itoa(int(q.Result.Code))]++
		}
	}
	res.Passed = true
	var obs, fails []string
	for _, k := range slices.Sorted(maps.Keys(e.Codes)) {
		n := 0
		for code, c := range all {
			if statusMatches(k, code) {
				n += c
			}
		}
		obs = append(obs, fmt.Sprintf("%s: %d", k, n))
		if want := e.Codes[k]; !want.Contains(n) {
			res.Passed = false
			fails = append(fails, fmt.Sprintf("%s is %d, want %s", k, n, want.Describe()))
		}
	}
	res.Observed = strings.Join(obs, ", ")
	if !res.Passed {
		res.Detail = strings.Join(fails, "; ") + "; all outcomes: " + countList(all)
	}
}

// statusMatches reports whether code ("200", "error") is counted under key ("200", "5xx", "error").
func statusMatches(key, code string) bool {
	if strings.HasSuffix(key, "xx") {
		return code != "error" && code[0] == key[0]
	}
	return key == code
}

func (ev *evaluator) throughput(e *ThroughputExpect, res *reports.ExpectationResult) {
	qs := ev.inScope(e.Scope)
	from := e.From.D()
	to := time.Duration(math.MaxInt64)
	if e.To != nil {
		to = e.To.D()
	}
	offered, closedSent := 0.0, 0
	end := from
	for _, name := range ev.scopeStreams(e.Scope) {
		st := ev.streams[name]
		n, closed := st.offered(from, to)
		offered += math.Floor(n + 1e-9)
		if closed {
			for _, q := range qs {
				if q.Stream == name {
					closedSent++
				}
			}
		}
		end = max(end, min(st.End(), to))
	}
	offeredN := int(offered) + closedSent
	answered := 0
	for _, q := range qs {
		if q.Result.Code != 0 {
			answered++
		}
	}
	span := end - from
	if e.To != nil {
		span = e.To.D() - from
	}
	rate := 0.0
	if span > 0 {
		rate = float64(answered) / span.Seconds()
	}
	res.Passed = true
	var fails []string
	res.Observed = fmt.Sprintf("%d of %d offered answered", answered, offeredN)
	if span > 0 {
		res.Observed += fmt.Sprintf(", %s over %s", Rate(round2(rate)), roundDuration(span))
	}
	if e.Min > 0 && rate < e.Min.PerSecond() {
		res.Passed = false
		fails = append(fails, fmt.Sprintf("rate %s, want at least %s", Rate(round2(rate)), e.Min))
	}
	if e.MinOfOffered > 0 {
		share := 1.0
		if offeredN > 0 {
			share = float64(answered) / float64(offeredN)
		}
		if share < float64(e.MinOfOffered) {
			res.Passed = false
			fails = append(fails, fmt.Sprintf("%s of the offered requests answered, want at least %s", percent(share), e.MinOfOffered))
		}
	}
	res.Detail = strings.Join(fails, "; ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if strings.HasSuffix(what, "ch") {
		return fmt.Sprintf("%d %ses", n, what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// percent renders a fraction as a percentage with at most two decimals: "99.95%".
func percent(f float64) string { return formatFloat(round2(f*100)) + "%" }

// roundDuration keeps durations readable: milliseconds under 10s, tenths above.
func roundDuration(d time.Duration) time.Duration {
	if d < 10*time.Second && d > -10*time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}
