package matchers

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/onsi/gomega/types"

	"github.com/servingsim/servingsim/reports"
	"github.com/servingsim/servingsim/scenarios"
)

// asRun checks that a matcher got a run.
func asRun(actual any) (*reports.Run, error) {
	r, ok := actual.(*reports.Run)
	if !ok || r == nil {
		return nil, fmt.Errorf("expected a *reports.Run (what scenarios.Run returns), got %T", actual)
	}
	return r, nil
}

// Pass matches a run whose verdict is pass: every expectation held and every request is
// accounted for. Its failure message is the run's expectation report.
func Pass() types.GomegaMatcher { return passMatcher{} }

type passMatcher struct{}

func (passMatcher) Match(actual any) (bool, error) {
	r, err := asRun(actual)
	if err != nil {
		return false, err
	}
	return r.Verdict == reports.Pass, nil
}

func (passMatcher) FailureMessage(actual any) string {
	r, _ := asRun(actual)
	return fmt.Sprintf("expected scenario %s to pass, its verdict is %s\n%s", r.Scenario, r.Verdict, Report(r))
}

func (passMatcher) NegatedFailureMessage(actual any) string {
	r, _ := asRun(actual)
	return fmt.Sprintf("expected scenario %s not to pass, but it did\n%s", r.Scenario, Report(r))
}

// Report renders a run's expectation results, one per line, with the seed: the text a failing
// spec shows.
func Report(r *reports.Run) string {
	var b strings.Builder
	fmt.Fprintf(&b, "scenario %s, %s mode, seed %d, verdict %s\n", r.Scenario, r.Mode, r.Seed, r.Verdict)
	if r.Error != "" {
		fmt.Fprintf(&b, "  error: %s\n", r.Error)
	}
	for _, e := range r.Expectations {
		mark := "✓"
		if !e.Passed {
			mark = "✗"
		}
		fmt.Fprintf(&b, "  %s %s\n      observed: %s\n", mark, e.Description, e.Observed)
		if e.Detail != "" && !e.Passed {
			fmt.Fprintf(&b, "      detail: %s\n", e.Detail)
		}
	}
	return b.String()
}

// AllAccounted matches a run in which every request sent has exactly one outcome: a response
// or a counted error, one record each.
func AllAccounted() types.GomegaMatcher { return accountedMatcher{} }

type accountedMatcher struct{}

func (accountedMatcher) Match(actual any) (bool, error) {
	r, err := asRun(actual)
	if err != nil {
		return false, err
	}
	a := r.Accounting
	return a.Unaccounted == 0 && a.Sent == a.Responses+a.Errors && len(r.Requests) == a.Sent, nil
}

func (accountedMatcher) FailureMessage(actual any) string {
	r, _ := asRun(actual)
	a := r.Accounting
	return fmt.Sprintf("expected every request of %s (seed %d) to be accounted for: %d sent, %d responses, %d errors, %d recorded",
		r.Scenario, r.Seed, a.Sent, a.Responses, a.Errors, len(r.Requests))
}

func (accountedMatcher) NegatedFailureMessage(actual any) string {
	r, _ := asRun(actual)
	return fmt.Sprintf("expected some request of %s to be unaccounted for, but all %d were", r.Scenario, r.Accounting.Sent)
}

// ScaleMatcher matches a run in which a revision's pod count reaches a number within a time.
// Build it with ScaleTo or ReadyWithin.
type ScaleMatcher struct {
	pods    int32
	of      string
	measure string
	after   time.Duration
	within  time.Duration

	observed string
}

// ScaleTo matches a run in which the revision (Of) has at least n ready pods within the time
// (Within, default the whole run) from After (default time zero).
func ScaleTo(n int) *ScaleMatcher {
	return &ScaleMatcher{pods: int32(n), measure: scenarios.MeasureReady, within: -1}
}

// ReadyWithin matches a run in which the revision (Of) has a ready pod within d of time zero.
func ReadyWithin(d time.Duration) *ScaleMatcher { return ScaleTo(1).Within(d) }

// Of names the revision: a revision name, or a Service or Configuration meaning its latest one.
func (m *ScaleMatcher) Of(name string) *ScaleMatcher { m.of = name; return m }

// Within bounds the time to reach the count, from After.
func (m *ScaleMatcher) Within(d time.Duration) *ScaleMatcher { m.within = d; return m }

// After starts the clock for Within (default time zero).
func (m *ScaleMatcher) After(t time.Duration) *ScaleMatcher { m.after = t; return m }

// Desired counts the autoscaler's desired scale instead of ready pods.
func (m *ScaleMatcher) Desired() *ScaleMatcher { m.measure = scenarios.MeasureDesired; return m }

// Match implements types.GomegaMatcher.
func (m *ScaleMatcher) Match(actual any) (bool, error) {
	r, err := asRun(actual)
	if err != nil {
		return false, err
	}
	rev, err := resolve(r, m.of)
	if err != nil {
		return false, err
	}
	deadline := time.Duration(1<<63 - 1)
	if m.within >= 0 {
		deadline = m.after + m.within
	}
	peak, peakAt := int32(-1), time.Duration(0)
	for _, s := range r.Series {
		if s.Revision != rev || s.Time < m.after || s.Time > deadline {
			continue
		}
		v := s.ReadyPods
		if m.measure == scenarios.MeasureDesired {
			v = s.DesiredPods
		}
		if v >= m.pods {
			m.observed = fmt.Sprintf("%s pods of %s reached %d at %s", m.measure, rev, v, s.Time)
			return true, nil
		}
		if v > peak {
			peak, peakAt = v, s.Time
		}
	}
	m.observed = fmt.Sprintf("%s pods of %s peaked at %d (at %s) in the window", m.measure, rev, max(peak, 0), peakAt)
	return false, nil
}

func (m *ScaleMatcher) want() string {
	w := fmt.Sprintf("%s pods of %s to reach %d", m.measure, m.of, m.pods)
	if m.within >= 0 {
		w += fmt.Sprintf(" within %s", m.within)
	}
	if m.after > 0 {
		w += fmt.Sprintf(" after %s", m.after)
	}
	return w
}

// FailureMessage implements types.GomegaMatcher.
func (m *ScaleMatcher) FailureMessage(actual any) string {
	r, _ := asRun(actual)
	return fmt.Sprintf("expected %s; %s (scenario %s, seed %d)", m.want(), m.observed, r.Scenario, r.Seed)
}

// NegatedFailureMessage implements types.GomegaMatcher.
func (m *ScaleMatcher) NegatedFailureMessage(actual any) string {
	r, _ := asRun(actual)
	return fmt.Sprintf("expected not %s; %s (scenario %s, seed %d)", m.want(), m.observed, r.Scenario, r.Seed)
}

// SplitMatcher matches a run in which a revision's share of the requests lies in the binomial
// interval of an expected percent. Build it with SplitWithin.
type SplitMatcher struct {
	percent, confidence float64
	of, stream          string
	from, to            time.Duration

	observed string
}

// SplitWithin matches a run in which the revision (Of) served percent of the requests (of one
// Stream, by default all that reached a revision) within the binomial interval at confidence,
// e.g. SplitWithin(50, 0.999) (Knative's TestBlueGreenRoute).
func SplitWithin(percent, confidence float64) *SplitMatcher {
	return &SplitMatcher{percent: percent, confidence: confidence, to: -1}
}

// Of names the revision (a revision name, or a Service or Configuration meaning its latest).
func (m *SplitMatcher) Of(name string) *SplitMatcher { m.of = name; return m }

// Stream narrows to one workload stream's requests.
func (m *SplitMatcher) Stream(name string) *SplitMatcher { m.stream = name; return m }

// Between narrows to requests sent within [from, to] of time zero.
func (m *SplitMatcher) Between(from, to time.Duration) *SplitMatcher {
	m.from, m.to = from, to
	return m
}

// Match implements types.GomegaMatcher.
func (m *SplitMatcher) Match(actual any) (bool, error) {
	r, err := asRun(actual)
	if err != nil {
		return false, err
	}
	if m.confidence <= 0 || m.confidence >= 1 || m.percent < 0 || m.percent > 100 {
		return false, fmt.Errorf("SplitWithin(%g, %g): want a percent in [0, 100] and a confidence in (0, 1)", m.percent, m.confidence)
	}
	rev, err := resolve(r, m.of)
	if err != nil {
		return false, err
	}
	n, k := 0, 0
	for _, q := range r.Requests {
		at := q.Result.Timestamp.Sub(r.Started)
		if q.Revision == "" || (m.stream != "" && q.Stream != m.stream) || at < m.from || (m.to >= 0 && at > m.to) {
			continue
		}
		n++
		if q.Revision == rev {
			k++
		}
	}
	if n == 0 {
		m.observed = "no request reached a revision"
		return false, nil
	}
	lo, hi := scenarios.BinomialInterval(n, m.percent/100, m.confidence)
	m.observed = fmt.Sprintf("%s served %d of %d (%.2f%%); the %g%% interval is [%d, %d]", rev, k, n, 100*float64(k)/float64(n), 100*m.confidence, lo, hi)
	return k >= lo && k <= hi, nil
}

// FailureMessage implements types.GomegaMatcher.
func (m *SplitMatcher) FailureMessage(actual any) string {
	r, _ := asRun(actual)
	return fmt.Sprintf("expected %s to serve %g%% of the requests; %s (scenario %s, seed %d)", m.of, m.percent, m.observed, r.Scenario, r.Seed)
}

// NegatedFailureMessage implements types.GomegaMatcher.
func (m *SplitMatcher) NegatedFailureMessage(actual any) string {
	r, _ := asRun(actual)
	return fmt.Sprintf("expected %s not to serve %g%% of the requests; %s (scenario %s, seed %d)", m.of, m.percent, m.observed, r.Scenario, r.Seed)
}

// resolve finds the revision name means in r: itself if the run recorded it, else the latest
// revision named name-…, by first appearance in the series (then name).
func resolve(r *reports.Run, name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("name the revision with Of(...)")
	}
	var prefixed []string
	firstSeen := map[string]time.Duration{}
	for _, s := range r.Series {
		if s.Revision == name {
			return name, nil
		}
		if _, ok := firstSeen[s.Revision]; !ok && strings.HasPrefix(s.Revision, name+"-") {
			firstSeen[s.Revision] = s.Time
			prefixed = append(prefixed, s.Revision)
		}
	}
	for _, q := range r.Requests {
		if q.Revision == name {
			return name, nil
		}
	}
	if len(prefixed) == 0 {
		return "", fmt.Errorf("the run of %s recorded no revision %s or of %s", r.Scenario, name, name)
	}
	slices.SortStableFunc(prefixed, func(a, b string) int {
		return cmp.Or(cmp.Compare(firstSeen[a], firstSeen[b]), strings.Compare(a, b))
	})
	return prefixed[len(prefixed)-1], nil
}
