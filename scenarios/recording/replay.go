package recording

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/config"
)

// ReplayOptions configure Replay.
type ReplayOptions struct {
	// Overrides are config-autoscaler keys set on top of the recorded data, at the start and
	// after every recorded change. Every decider and collector spec is then derived again from
	// the recorded PodAutoscaler and the overridden config.
	Overrides map[string]string
	// OnTick, when set, is called with every replayed tick.
	OnTick func(TickReplay)
}

// TickReplay is one tick: the recorded outputs and the replayed ones.
type TickReplay struct {
	// Line is the tick's line in the recording.
	Line     int
	T        Offset
	Revision string
	Recorded Tick
	Replayed Tick
	// Diffs are the fields that differ, in the order of Fields; empty when the tick matches.
	Diffs []FieldDiff
}

// FieldDiff is one output of a tick that differs.
type FieldDiff struct {
	Field              string
	Recorded, Replayed string
}

// Fields are a tick's compared outputs, in the order a divergence names them.
var Fields = []string{"desired", "ebc", "panicking", "valid", "stable", "panic"}

// ValueEpsilon is how far a replayed window average may be from the recorded one, relative to
// max(1, |recorded|): the same inputs give the same floats, so this only absorbs JSON's
// shortest round-trip formatting (which is exact) and nothing else of substance.
const ValueEpsilon = 1e-9

// ReplayResult is the outcome of Replay.
type ReplayResult struct {
	Header Header
	// Records, Ticks, Stats and Revisions count what was replayed.
	Records, Ticks, Stats, Revisions int
	// Divergent counts the ticks whose outputs differ; First is the first of them (nil: none).
	Divergent int
	First     *TickReplay
	// Zero is the scenario's time zero (nil when the recording has none).
	Zero *Offset
	// Notes are inconsistencies that are not divergences: a recorded decider spec that the
	// recorded PodAutoscaler and config do not give (under any config version the informers
	// may still have held), or overrides that could not be applied.
	Notes []string
}

// revState is one revision's fresh cores.
type revState struct {
	coll *autoscaler.Collector
	sc   *autoscaler.Scaler
	pa   *PAInputs
}

// configVersion is one version of config-autoscaler: as recorded and with the overrides.
type configVersion struct {
	t          Offset
	cfg, over  *config.Autoscaler
	data       map[string]string
	overridden bool
}

// replayer holds a replay's state.
type replayer struct {
	rd       *Reader
	opts     ReplayOptions
	start    time.Time
	revs     map[string]*revState
	versions []configVersion
	res      *ReplayResult
	seen     map[string]bool
}

// Replay re-runs the recording read from rd in virtual time: per revision it creates fresh
// autoscaler cores (Collector and Scaler, stack/autoscaler) where the live KPA did, records the
// recorded stats into them and ticks at the recorded times with the recorded ready-pod counts,
// at Header.Start + t, and compares each tick's outputs with the recorded ones. The replay is
// open-loop: stats and ready pods are the recorded ones even when the decisions differ.
//
// With Overrides the decider and collector specs are derived from the recorded PodAutoscaler
// inputs and config-autoscaler (with the overrides); without, the recorded specs are used and
// checked against that derivation (a mismatch is a Note).
//
// Errors are bad input (the message names the file and line): a record that does not parse,
// an override that does not, or a tick or stat of a revision without a decider or collector.
func Replay(rd *Reader, opts ReplayOptions) (*ReplayResult, error) {
	h := rd.Header()
	p := &replayer{rd: rd, opts: opts, start: h.Start, revs: map[string]*revState{}, res: &ReplayResult{Header: h}, seen: map[string]bool{}}
	if err := p.checkOverrides(); err != nil {
		return nil, err
	}
	if err := p.addConfig(0, h.Config[config.AutoscalerConfigName]); err != nil {
		return nil, fmt.Errorf("%s: header config-autoscaler: %w", rd.Name(), err)
	}
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		p.res.Records++
		if err := p.apply(rec); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", rd.Name(), rd.Line(), err)
		}
	}
	p.res.Revisions = len(p.seen)
	return p.res, nil
}

// checkOverrides refuses a key config-autoscaler does not know or a value it does not take.
func (p *replayer) checkOverrides() error {
	for _, k := range slices.Sorted(maps.Keys(p.opts.Overrides)) {
		// A key the parser reads fails on a value of no type; an unknown key is ignored.
		if _, err := config.NewAutoscalerFromMap(map[string]string{k: "\x00"}); err == nil && k != "pod-autoscaler-class" {
			return fmt.Errorf("--set %s: not a config-autoscaler key", k)
		}
		if _, err := config.NewAutoscalerFromMap(map[string]string{k: p.opts.Overrides[k]}); err != nil {
			return fmt.Errorf("--set %s=%s: %w", k, p.opts.Overrides[k], err)
		}
	}
	return nil
}

// addConfig appends a config-autoscaler version. Invalid data keeps the last good config in
// force, as the live config store does.
func (p *replayer) addConfig(t Offset, data map[string]string) error {
	v := configVersion{t: t, data: data}
	prev := len(p.versions) - 1
	cfg, err := config.NewAutoscalerFromMap(data)
	switch {
	case err == nil:
		v.cfg = cfg
	case prev >= 0:
		v.cfg = p.versions[prev].cfg
		p.note("t=%s: config-autoscaler is invalid (%v); the last good one stays in force", t, err)
	default:
		v.cfg = config.DefaultAutoscaler()
		p.note("header config-autoscaler is invalid (%v); Knative's defaults are in force", err)
	}
	v.over = v.cfg
	if len(p.opts.Overrides) > 0 {
		merged := maps.Clone(data)
		if merged == nil {
			merged = map[string]string{}
		}
		maps.Copy(merged, p.opts.Overrides)
		over, err := config.NewAutoscalerFromMap(merged)
		switch {
		case err == nil:
			v.over, v.overridden = over, true
		case prev < 0:
			return fmt.Errorf("with the overrides: %w", err)
		default:
			v.over = p.versions[prev].over
			p.note("t=%s: config-autoscaler with the overrides is invalid (%v); the last good one stays in force", t, err)
		}
	}
	p.versions = append(p.versions, v)
	return nil
}

func (p *replayer) note(format string, args ...any) {
	if len(p.res.Notes) < 100 {
		p.res.Notes = append(p.res.Notes, fmt.Sprintf(format, args...))
	}
}

// at is the absolute time of a record.
func (p *replayer) at(t Offset) time.Time { return p.start.Add(time.Duration(t)) }

func (p *replayer) apply(rec Record) error {
	switch rec.Kind {
	case KindZero:
		z := rec.T
		p.res.Zero = &z
	case KindConfig:
		if rec.Config.Name == config.AutoscalerConfigName {
			return p.addConfig(rec.T, rec.Config.Data)
		}
	case KindPA:
		p.rev(rec.Rev).pa = rec.PA
	case KindCollector:
		st := p.rev(rec.Rev)
		spec := p.metricSpec(rec, st)
		if rec.Collector.New || st.coll == nil {
			if !rec.Collector.New {
				return fmt.Errorf("collector of %s updated before it was created", rec.Rev)
			}
			st.coll = autoscaler.NewCollector(spec)
		} else {
			st.coll.Update(spec)
		}
	case KindDecider:
		st := p.rev(rec.Rev)
		if rec.Decider.PA != nil {
			st.pa = rec.Decider.PA
		}
		spec := p.deciderSpec(rec)
		if rec.Decider.New || st.sc == nil {
			if !rec.Decider.New {
				return fmt.Errorf("decider of %s updated before it was created", rec.Rev)
			}
			st.sc = autoscaler.NewScaler(spec, rec.Decider.Ready, p.at(rec.T))
		} else {
			st.sc.Update(spec)
		}
	case KindStat:
		st := p.revs[rec.Rev]
		if st == nil || st.coll == nil {
			return fmt.Errorf("stat of %s before its collector record", rec.Rev)
		}
		st.coll.Record(p.at(rec.T), rec.Stat.Core())
		p.res.Stats++
	case KindTick:
		st := p.revs[rec.Rev]
		if st == nil || st.sc == nil || st.coll == nil {
			return fmt.Errorf("tick of %s before its collector and decider records", rec.Rev)
		}
		p.seen[rec.Rev] = true
		r := st.sc.Scale(p.at(rec.T), rec.Tick.Ready, st.coll)
		tr := TickReplay{Line: p.rd.Line(), T: rec.T, Revision: rec.Rev, Recorded: *rec.Tick, Replayed: *TickOf(rec.Tick.Ready, r)}
		tr.Diffs = Compare(tr.Recorded, tr.Replayed)
		p.res.Ticks++
		if len(tr.Diffs) > 0 {
			p.res.Divergent++
			if p.res.First == nil {
				first := tr
				p.res.First = &first
			}
		}
		if p.opts.OnTick != nil {
			p.opts.OnTick(tr)
		}
	case KindDrop:
		delete(p.revs, rec.Rev)
	}
	return nil
}

func (p *replayer) rev(name string) *revState {
	st := p.revs[name]
	if st == nil {
		st = &revState{}
		p.revs[name] = st
	}
	return st
}

// candidates are the config versions a live reconciler may have used at the newest record:
// the newest, and the one before (its informer may not have delivered the change yet).
func (p *replayer) candidates() []configVersion {
	n := len(p.versions)
	out := []configVersion{p.versions[n-1]}
	if n > 1 {
		out = append(out, p.versions[n-2])
	}
	return out
}

// deciderSpec is the spec to replay a decider record with: the recorded one, or with overrides
// the one the recorded PA gives under the overridden config version that gave the recorded one.
func (p *replayer) deciderSpec(rec Record) autoscaler.DeciderSpec {
	recorded := rec.Decider.Spec.Core()
	if rec.Decider.PA == nil {
		if len(p.opts.Overrides) > 0 {
			p.note("t=%s: %s's decider has no recorded PodAutoscaler; the overrides do not reach it", rec.T, rec.Rev)
		}
		return recorded
	}
	pa := rec.Decider.PA.PodAutoscaler()
	cands := p.candidates()
	chosen := -1
	for i, v := range cands {
		if autoscaler.MakeDeciderSpec(pa, v.cfg) == recorded {
			chosen = i
			break
		}
	}
	if chosen < 0 {
		derived := autoscaler.MakeDeciderSpec(pa, cands[0].cfg)
		p.note("t=%s: %s's recorded decider spec is not what its PodAutoscaler and config-autoscaler give: %s", rec.T, rec.Rev, specDiff(recorded, derived))
		chosen = 0
		if len(p.opts.Overrides) == 0 {
			return recorded
		}
	}
	if len(p.opts.Overrides) == 0 {
		return recorded
	}
	return autoscaler.MakeDeciderSpec(pa, cands[chosen].over)
}

// metricSpec is the spec to replay a collector record with: the recorded one, or with
// overrides the windows and scrape target the revision's PA gives under the overridden config.
func (p *replayer) metricSpec(rec Record, st *revState) autoscaler.MetricSpec {
	recorded := rec.Collector.Core()
	if len(p.opts.Overrides) == 0 {
		return recorded
	}
	in := st.pa
	if in == nil {
		in = &PAInputs{}
	}
	pa := in.PodAutoscaler()
	for _, v := range p.candidates() {
		base := autoscaler.MakeMetricSpec(pa, v.cfg)
		if base.StableWindow == recorded.StableWindow && base.PanicWindow == recorded.PanicWindow && base.Scraped == recorded.Scraped {
			over := autoscaler.MakeMetricSpec(pa, v.over)
			recorded.StableWindow, recorded.PanicWindow, recorded.Scraped = over.StableWindow, over.PanicWindow, over.Scraped
			return recorded
		}
	}
	p.note("t=%s: %s's recorded collector spec is not what its PodAutoscaler and config-autoscaler give; the overrides do not reach it", rec.T, rec.Rev)
	return recorded
}

// specDiff names the fields where two decider specs differ.
func specDiff(recorded, derived autoscaler.DeciderSpec) string {
	a, b := DeciderSpecOf(recorded), DeciderSpecOf(derived)
	var out string
	add := func(name string, x, y any) {
		if x != y {
			if out != "" {
				out += ", "
			}
			out += fmt.Sprintf("%s recorded %v, derived %v", name, x, y)
		}
	}
	add("scalingMetric", a.ScalingMetric, b.ScalingMetric)
	add("targetValue", a.TargetValue, b.TargetValue)
	add("totalValue", a.TotalValue, b.TotalValue)
	add("targetBurstCapacity", a.TargetBurstCapacity, b.TargetBurstCapacity)
	add("activatorCapacity", a.ActivatorCapacity, b.ActivatorCapacity)
	add("panicThreshold", a.PanicThreshold, b.PanicThreshold)
	add("stableWindow", time.Duration(a.StableWindow), time.Duration(b.StableWindow))
	add("panicWindow", time.Duration(a.PanicWindow), time.Duration(b.PanicWindow))
	add("scaleDownDelay", time.Duration(a.ScaleDownDelay), time.Duration(b.ScaleDownDelay))
	add("maxScaleUpRate", a.MaxScaleUpRate, b.MaxScaleUpRate)
	add("maxScaleDownRate", a.MaxScaleDownRate, b.MaxScaleDownRate)
	add("activationScale", a.ActivationScale, b.ActivationScale)
	add("initialScale", a.InitialScale, b.InitialScale)
	add("minScale", a.MinScale, b.MinScale)
	add("maxScale", a.MaxScale, b.MaxScale)
	add("reachable", a.Reachable, b.Reachable)
	return out
}

// Compare lists the outputs of two ticks that differ, in the order of Fields; window averages
// compare within ValueEpsilon.
func Compare(recorded, replayed Tick) []FieldDiff {
	var out []FieldDiff
	i := func(name string, a, b int32) {
		if a != b {
			out = append(out, FieldDiff{name, strconv.Itoa(int(a)), strconv.Itoa(int(b))})
		}
	}
	bl := func(name string, a, b bool) {
		if a != b {
			out = append(out, FieldDiff{name, strconv.FormatBool(a), strconv.FormatBool(b)})
		}
	}
	f := func(name string, a, b float64) {
		if math.Abs(a-b) > ValueEpsilon*math.Max(1, math.Abs(a)) || math.IsNaN(a) != math.IsNaN(b) {
			out = append(out, FieldDiff{name, strconv.FormatFloat(a, 'g', -1, 64), strconv.FormatFloat(b, 'g', -1, 64)})
		}
	}
	i("desired", recorded.Desired, replayed.Desired)
	i("ebc", recorded.EBC, replayed.EBC)
	bl("panicking", recorded.Panicking, replayed.Panicking)
	bl("valid", recorded.Valid, replayed.Valid)
	f("stable", recorded.Stable, replayed.Stable)
	f("panic", recorded.Panic, replayed.Panic)
	return out
}
