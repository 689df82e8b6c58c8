package scenarios

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/servingsim/servingsim/harness/virtual"
	"github.com/servingsim/servingsim/reports"
	"github.com/servingsim/servingsim/stack/apis/serving"
)

// Capacity planning (issue 6, `simctl plan`): a scenario's traffic, or a trace in its place,
// runs in virtual time once per config variant, and each run is reduced to what sizing a
// cluster needs: pods over time, cold starts, latency, errors, and the stack's vCPU and memory
// by Knative's published footprints.

// Knative's published resource footprints (knative.dev docs, "Installing Knative Serving" and
// the activator's and queue-proxy's resource requests).
const (
	// InstallMilliCPU and InstallMiB are the Serving install with one activator.
	InstallMilliCPU = 1500
	InstallMiB      = 1024
	// ExtraActivatorMilliCPU and ExtraActivatorMiB are what each activator beyond the first
	// reserves (its requests; it may burst to 1,000 mCPU / 600 MiB).
	ExtraActivatorMilliCPU = 300
	ExtraActivatorMiB      = 60
	// QueueProxyMilliCPU is the queue-proxy sidecar's CPU request in every pod.
	QueueProxyMilliCPU = 25
)

// The knobs a plan sweeps, as --set names. Each maps to Knative's own setting: a revision
// annotation (§2.2), the container-concurrency field, a config-autoscaler key, or the
// number of activator instances.
const (
	KnobTarget                  = "target"
	KnobTargetUtilization       = "target-utilization-percentage"
	KnobContainerConcurrency    = "container-concurrency"
	KnobStableWindow            = "stable-window"
	KnobTargetBurstCapacity     = "target-burst-capacity"
	KnobMinScale                = "min-scale"
	KnobMaxScale                = "max-scale"
	KnobScaleToZeroGracePeriod  = "scale-to-zero-grace-period"
	KnobScaleToZeroPodRetention = "scale-to-zero-pod-retention-period"
	KnobActivatorCapacity       = "activator-capacity"
	KnobActivators              = "activators"
)

// knobAnnotations are the knobs set as revision annotations, on every initial revision.
var knobAnnotations = map[string]string{
	KnobTarget:                  serving.TargetAnnotationKey,
	KnobTargetUtilization:       serving.TargetUtilizationAnnotationKey,
	KnobStableWindow:            serving.WindowAnnotationKey,
	KnobTargetBurstCapacity:     serving.TargetBurstCapacityAnnotationKey,
	KnobMinScale:                serving.MinScaleAnnotationKey,
	KnobMaxScale:                serving.MaxScaleAnnotationKey,
	KnobScaleToZeroPodRetention: serving.ScaleToZeroPodRetentionAnnotationKey,
}

// knobAlternatives are the older spellings Knative still reads, removed when a knob sets the key.
var knobAlternatives = map[string]string{
	serving.MinScaleAnnotationKey:            serving.MinScaleAnnotationKeyAlternative,
	serving.TargetBurstCapacityAnnotationKey: serving.TargetBurstCapacityAnnotationKeyAlternative,
}

// knobConfigAutoscaler are the knobs set as config-autoscaler keys (cluster-wide only).
var knobConfigAutoscaler = map[string]string{
	KnobScaleToZeroGracePeriod: "scale-to-zero-grace-period",
	KnobActivatorCapacity:      "activator-capacity",
}

// PlanKnobs lists every knob name, sorted, for help texts.
func PlanKnobs() []string {
	names := []string{KnobContainerConcurrency, KnobActivators}
	names = append(names, slices.Collect(maps.Keys(knobAnnotations))...)
	names = append(names, slices.Collect(maps.Keys(knobConfigAutoscaler))...)
	slices.Sort(names)
	return names
}

// Sweep is one knob and the values a plan tries.
type Sweep struct {
	Knob   string
	Values []string
}

// ParseSweep parses a --set argument: key=v1,v2,...
func ParseSweep(arg string) (Sweep, error) {
	key, vals, ok := strings.Cut(arg, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" || strings.TrimSpace(vals) == "" {
		return Sweep{}, fmt.Errorf("--set %q: want knob=value[,value...]", arg)
	}
	if !slices.Contains(PlanKnobs(), key) {
		return Sweep{}, fmt.Errorf("--set %q: unknown knob %q (knobs: %s)", arg, key, strings.Join(PlanKnobs(), ", "))
	}
	sw := Sweep{Knob: key}
	for v := range strings.SplitSeq(vals, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			return Sweep{}, fmt.Errorf("--set %q: empty value", arg)
		}
		sw.Values = append(sw.Values, v)
	}
	return sw, nil
}

// Setting is one knob's value in a variant.
type Setting struct{ Knob, Value string }

// PlanOptions configure Plan.
type PlanOptions struct {
	// Seed of every run (RunOptions.SeedFor's rule: 0 takes the scenario's, else 1).
	Seed int64
	// Sweeps are crossed: every combination is a variant, the first sweep varying slowest.
	// None gives one variant, the scenario as written.
	Sweeps []Sweep
	// Trace, when set, replaces the scenario's workload: one stream to the first stream's
	// target sending at these arrival offsets; the run lasts to the end of the trace's last
	// minute.
	Trace []time.Duration
}

// PlanRow is one variant's outcome.
type PlanRow struct {
	Settings []Setting
	// PodSeconds integrates the pods that existed (starting, ready, terminating).
	PodSeconds float64
	// PeakPods and P95Pods are the maximum and 95th percentile, over the run's seconds, of the
	// pods that existed over every revision.
	PeakPods int32
	P95Pods  float64
	// Activators is the number of activator instances.
	Activators int
	// ColdStarts counts scale-from-zero events: a revision's desired scale rising from 0.
	ColdStarts int
	// Waited counts the requests that arrived while their revision had no ready pod.
	Waited int
	// Requests and Errors (no response or a status ≥ 500) account for the load.
	Requests, Errors int
	Latency          reports.Percentiles
	// MilliCPU and MiB are the stack's reservation at the busiest second: the install, the
	// extra activators, and per pod the queue-proxy's request plus the app's requests.
	MilliCPU float64
	MiB      float64
}

// Label names the variant: "target=10 stable-window=60s", or "scenario" when nothing is swept.
func (r PlanRow) Label() string {
	if len(r.Settings) == 0 {
		return "scenario"
	}
	parts := make([]string, len(r.Settings))
	for i, s := range r.Settings {
		parts[i] = s.Knob + "=" + s.Value
	}
	return strings.Join(parts, " ")
}

// Plan runs s in virtual mode once per variant and returns one row per variant, in sweep order.
func Plan(ctx context.Context, s *Scenario, opts PlanOptions) ([]PlanRow, error) {
	if s == nil {
		return nil, errors.New("plan: no scenario")
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	seed := RunOptions{Seed: opts.Seed}.SeedFor(s)
	requests, err := appRequests(s)
	if err != nil {
		return nil, err
	}
	var rows []PlanRow
	for _, settings := range variants(opts.Sweeps) {
		row, err := planVariant(ctx, s, seed, settings, opts.Trace, requests)
		if err != nil {
			return rows, fmt.Errorf("plan: variant %s: %w", PlanRow{Settings: settings}.Label(), err)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// variants crosses the sweeps; the first sweep varies slowest.
func variants(sweeps []Sweep) [][]Setting {
	out := [][]Setting{nil}
	for _, sw := range sweeps {
		var next [][]Setting
		for _, prefix := range out {
			for _, v := range sw.Values {
				next = append(next, append(slices.Clone(prefix), Setting{sw.Knob, v}))
			}
		}
		out = next
	}
	return out
}

func planVariant(ctx context.Context, s *Scenario, seed int64, settings []Setting, trace []time.Duration,
	requests map[string]appRequest,
) (PlanRow, error) {
	// Cluster-wide knobs go through the scenario's config overrides so VirtualSpec parses and
	// defaults them as Knative does; a shallow copy leaves the caller's scenario alone.
	variant := *s
	overrides := map[string]map[string]string{}
	for cm, data := range s.Spec.Stack.ConfigOverrides {
		overrides[cm] = maps.Clone(data)
	}
	for _, st := range settings {
		if key, ok := knobConfigAutoscaler[st.Knob]; ok {
			if overrides["config-autoscaler"] == nil {
				overrides["config-autoscaler"] = map[string]string{}
			}
			overrides["config-autoscaler"][key] = st.Value
		}
	}
	variant.Spec.Stack.ConfigOverrides = overrides
	vs, err := VirtualSpec(&variant, seed)
	if err != nil {
		return PlanRow{}, err
	}
	for _, st := range settings {
		if err := applyKnob(&vs, st); err != nil {
			return PlanRow{}, err
		}
	}
	if len(trace) > 0 {
		if len(vs.Streams) == 0 {
			return PlanRow{}, errors.New("a trace needs a workload stream to name its target")
		}
		stream := vs.Streams[0]
		stream.Name, stream.Start = "trace", 0
		stream.Phases = []virtual.Phase{virtual.Trace{Arrivals: trace}}
		vs.Streams = []virtual.Stream{stream}
		vs.Duration = (trace[len(trace)-1]/time.Minute + 1) * time.Minute
	}
	vs.Discard.Decisions = true
	res, err := virtual.Run(ctx, vs)
	if err != nil {
		return PlanRow{}, err
	}
	return planRow(settings, vs, res, requests), nil
}

// applyKnob sets one knob on the engine's input: on every initial revision, or the install.
func applyKnob(vs *virtual.Spec, st Setting) error {
	switch {
	case st.Knob == KnobActivators:
		n, err := strconv.Atoi(st.Value)
		if err != nil || n < 1 {
			return fmt.Errorf("%s=%s: want a whole number ≥ 1", st.Knob, st.Value)
		}
		vs.Activators = n
	case st.Knob == KnobContainerConcurrency:
		n, err := strconv.Atoi(st.Value)
		if err != nil || n < 0 {
			return fmt.Errorf("%s=%s: want a whole number ≥ 0 (0: unlimited)", st.Knob, st.Value)
		}
		for i := range vs.Configurations {
			vs.Configurations[i].Revision.ContainerConcurrency = n
		}
	case knobAnnotations[st.Knob] != "":
		key := knobAnnotations[st.Knob]
		for i := range vs.Configurations {
			rev := &vs.Configurations[i].Revision
			rev.Annotations = maps.Clone(rev.Annotations)
			if rev.Annotations == nil {
				rev.Annotations = map[string]string{}
			}
			delete(rev.Annotations, knobAlternatives[key])
			rev.Annotations[key] = st.Value
		}
	case knobConfigAutoscaler[st.Knob] != "":
		// Applied through the config overrides before VirtualSpec.
	default:
		return fmt.Errorf("unknown knob %q", st.Knob)
	}
	return nil
}

// appRequest is one Configuration's user containers' resource requests.
type appRequest struct{ milliCPU, mib float64 }

// appRequests reads each Configuration's (or Service's) template container requests.
func appRequests(s *Scenario) (map[string]appRequest, error) {
	out := map[string]appRequest{}
	for _, u := range s.Objects() {
		if kind := u.GetKind(); kind != "Service" && kind != "Configuration" {
			continue
		}
		containers, _, err := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
		}
		var req appRequest
		for i, c := range containers {
			m, _ := c.(map[string]any)
			reqs, _, _ := unstructured.NestedStringMap(m, "resources", "requests")
			for name, v := range reqs {
				q, err := resource.ParseQuantity(v)
				if err != nil {
					return nil, fmt.Errorf("%s %s: containers[%d].resources.requests.%s: %w", u.GetKind(), u.GetName(), i, name, err)
				}
				switch name {
				case "cpu":
					req.milliCPU += float64(q.MilliValue())
				case "memory":
					req.mib += float64(q.Value()) / (1 << 20)
				}
			}
		}
		out[u.GetName()] = req
	}
	return out, nil
}

func planRow(settings []Setting, vs virtual.Spec, res *virtual.Result, requests map[string]appRequest) PlanRow {
	row := PlanRow{Settings: settings, Activators: max(vs.Activators, 1)}
	perPod := map[string]appRequest{}
	for _, r := range res.Revisions {
		row.PodSeconds += r.PodSeconds
		row.Waited += r.ColdStarts
		perPod[r.Name] = requests[r.Configuration]
	}
	// Per second: pods over every revision, and the CPU and memory they reserve.
	type second struct{ pods, milliCPU, mib float64 }
	seconds := map[time.Duration]*second{}
	for _, sm := range res.Samples {
		if sm.Time > vs.Duration {
			continue
		}
		sec := seconds[sm.Time]
		if sec == nil {
			sec = &second{}
			seconds[sm.Time] = sec
		}
		req := perPod[sm.Revision]
		pods := float64(sm.ActualPods)
		sec.pods += pods
		sec.milliCPU += pods * (QueueProxyMilliCPU + req.milliCPU)
		sec.mib += pods * req.mib
	}
	pods := make([]float64, 0, len(seconds))
	var peakCPU, peakMiB float64
	for _, sec := range seconds {
		pods = append(pods, sec.pods)
		peakCPU, peakMiB = max(peakCPU, sec.milliCPU), max(peakMiB, sec.mib)
	}
	sort.Float64s(pods)
	if len(pods) > 0 {
		row.PeakPods = int32(pods[len(pods)-1])
		row.P95Pods = pods[nearestRank(len(pods), 0.95)]
	}
	extra := float64(row.Activators - 1)
	row.MilliCPU = InstallMilliCPU + extra*ExtraActivatorMilliCPU + peakCPU
	row.MiB = InstallMiB + extra*ExtraActivatorMiB + peakMiB

	last := map[string]int32{}
	for _, st := range res.States {
		prev, seen := last[st.Revision]
		if st.Time > 0 && seen && prev == 0 && st.Desired > 0 { // -1 (no decision yet) is not zero
			row.ColdStarts++
		}
		last[st.Revision] = st.Desired
	}

	lat := make([]time.Duration, 0, len(res.Requests))
	for _, q := range res.Requests {
		lat = append(lat, q.Latency)
		if q.Code == 0 || q.Code >= 500 {
			row.Errors++
		}
	}
	row.Requests = len(res.Requests)
	slices.Sort(lat)
	if n := len(lat); n > 0 {
		row.Latency = reports.Percentiles{P50: lat[nearestRank(n, 0.50)], P95: lat[nearestRank(n, 0.95)],
			P99: lat[nearestRank(n, 0.99)], Max: lat[n-1]}
	}
	return row
}

// nearestRank is the index of the p-th percentile of n sorted values.
func nearestRank(n int, p float64) int {
	return max(0, min(n-1, int(math.Ceil(p*float64(n)))-1))
}

// PlanColumns are plan.csv's fixed columns, after one column per swept knob.
var PlanColumns = []string{
	"pod_seconds", "peak_pods", "p95_pods", "activators", "cold_starts", "waited_requests",
	"requests", "errors", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "vcpu", "memory_mib",
}

func (r PlanRow) values() []string {
	ms := func(d time.Duration) string {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64)
	}
	return []string{
		strconv.FormatFloat(r.PodSeconds, 'f', 1, 64), strconv.Itoa(int(r.PeakPods)),
		strconv.FormatFloat(r.P95Pods, 'f', 0, 64), strconv.Itoa(r.Activators), strconv.Itoa(r.ColdStarts),
		strconv.Itoa(r.Waited), strconv.Itoa(r.Requests), strconv.Itoa(r.Errors),
		ms(r.Latency.P50), ms(r.Latency.P95), ms(r.Latency.P99),
		strconv.FormatFloat(r.MilliCPU/1000, 'f', 3, 64), strconv.FormatFloat(r.MiB, 'f', 0, 64),
	}
}

func knobNames(rows []PlanRow, prefix string) []string {
	if len(rows) == 0 {
		return nil
	}
	names := make([]string, len(rows[0].Settings))
	for i, s := range rows[0].Settings {
		names[i] = prefix + s.Knob
	}
	return names
}

func settingValues(r PlanRow) []string {
	out := make([]string, len(r.Settings))
	for i, s := range r.Settings {
		out[i] = s.Value
	}
	return out
}

// WritePlanCSV writes plan.csv: one column per swept knob (knob_<name>), then PlanColumns; one
// row per variant.
func WritePlanCSV(w io.Writer, rows []PlanRow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(append(knobNames(rows, "knob_"), PlanColumns...)); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Write(append(settingValues(r), r.values()...)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WritePlanTable writes the rows as an aligned text table.
func WritePlanTable(w io.Writer, rows []PlanRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := append(knobNames(rows, ""), "POD-S", "PEAK", "P95-PODS", "ACT", "COLD", "WAITED", "REQS", "ERRS",
		"P50-MS", "P95-MS", "P99-MS", "VCPU", "MEM-MIB")
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(append(settingValues(r), r.values()...), "\t")+"\t")
	}
	return tw.Flush()
}
