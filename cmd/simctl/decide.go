package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/autoscaler"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/webhook"
)

// decideOptions are the inputs of `simctl decide`.
type decideOptions struct {
	// Stats is the path of the stats CSV (required).
	Stats string
	// Revision is an optional Revision, Configuration or Service YAML; empty means a revision
	// with containerConcurrency 0 and no annotations.
	Revision string
	// Config is an optional config-autoscaler ConfigMap YAML; empty means Knative's defaults.
	Config string
	// Tick is the decision interval; default autoscaler.TickInterval (2s).
	Tick time.Duration
}

// statsHeader and decisionsHeader are the columns of the input and output CSVs.
var (
	statsHeader     = []string{"time", "ready_pods", "pod", "concurrency", "proxied_concurrency", "rps", "proxied_rps"}
	decisionsHeader = []string{"time", "ready_pods", "stable", "panic", "desired_pods", "excess_burst_capacity", "panicking"}
)

// decideEpoch is the wall time of stats time 0: a whole second, so that stat time k.x lands in
// metric bucket k and tick time 2k in scale-down-delay bucket k.
var decideEpoch = time.Unix(1_700_000_000, 0).UTC()

// maxDecideTicks bounds the output so a tiny --tick cannot run away.
const maxDecideTicks = 10_000_000

func newDecideCommand() *cobra.Command {
	o := decideOptions{Tick: autoscaler.TickInterval}
	cmd := &cobra.Command{
		Use:   "decide --stats stats.csv [--revision rev.yaml] [--config config-autoscaler.yaml] [--tick 2s]",
		Short: "Replay recorded metric stats through the KPA decider and print every decision as CSV",
		Long: `decide feeds recorded stats to servingsim's KPA decider (knative-semantics.md §3.3–3.4) in
virtual time and prints what it decides on every tick. Nothing is started: no API server, no pods.

Input (--stats): CSV with the header
  time,ready_pods,pod,concurrency,proxied_concurrency,rps,proxied_rps
one row per stat record, times in decimal seconds from the start, never decreasing. ready_pods
is the number of ready pods from that row's time on (before the first row, the first row's
value). pod names the reporting pod, or "activator". Each row is recorded as the autoscaler's
collector records a stat: concurrency − proxied_concurrency and rps − proxied_rps go into the
stable and panic windows, and rows in the same one-second bucket are summed (one stat per pod
and per activator add up to the revision total). Lines starting with # are comments.

The decider is created at time 0 with the ready pods of time 0 (more than one ready pod starts
it in panic mode, as after an autoscaler restart). Then, every --tick from 0 to the last stat
time, the rows with time ≤ the tick are recorded and the decider decides.

Output (stdout): CSV with the header
  time,ready_pods,stable,panic,desired_pods,excess_burst_capacity,panicking
stable and panic are the window averages of the scaling metric (revision total); desired_pods is
the decider's desired scale before the min-scale/max-scale bounds, or -1 on a tick without a
decision (no data within the stable window); excess_burst_capacity is that tick's EBC, or the
standing one (initially InitialScale×total − TBC) on a tick without a decision.

--revision takes a Revision, Configuration or Service (serving.knative.dev/v1): its
containerConcurrency and autoscaling annotations (for a Service or Configuration those of
spec.template) are validated as the admission webhook would and turned into the decider spec.
--config takes the config-autoscaler ConfigMap. Both are optional; the default is Knative's.

Exit code 0 on success, 2 on bad input (the message names file, line and column).`,
		Example: `  # replay stats with Knative's defaults (target 70 per pod, 60s/6s windows)
  simctl decide --stats stats.csv

  # a revision with containerConcurrency and annotations, a tuned config, 1s ticks
  simctl decide --stats stats.csv --revision service.yaml --config config-autoscaler.yaml --tick 1s

  # stats.csv
  time,ready_pods,pod,concurrency,proxied_concurrency,rps,proxied_rps
  0.1,2,pod-1,40,0,80,0
  0.2,2,pod-2,35,0,70,0
  0.5,2,activator,12,0,24,0`,
		Args:                  cobra.NoArgs,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDecide(o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Stats, "stats", "", "stats CSV to replay (required)")
	f.StringVar(&o.Revision, "revision", "", "Revision, Configuration or Service YAML (default: containerConcurrency 0, no annotations)")
	f.StringVar(&o.Config, "config", "", "config-autoscaler ConfigMap YAML (default: Knative's defaults)")
	f.DurationVar(&o.Tick, "tick", o.Tick, "decision interval")
	_ = cmd.MarkFlagRequired("stats")
	return cmd
}

// runDecide replays o.Stats and writes the decisions to out. Bad input is an exitError with
// exitBadInput.
func runDecide(o decideOptions, out io.Writer) error {
	if err := decide(o, out); err != nil {
		return &exitError{code: exitBadInput, err: err}
	}
	return nil
}

func decide(o decideOptions, out io.Writer) error {
	if o.Tick <= 0 {
		return fmt.Errorf("--tick %s: want a positive duration", o.Tick)
	}
	if o.Stats == "" {
		return errors.New("--stats is required")
	}
	spec, mspec, err := loadDeciderSpec(o.Revision, o.Config)
	if err != nil {
		return err
	}
	f, err := os.Open(o.Stats)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	rows, err := readStats(o.Stats, f)
	if err != nil {
		return err
	}
	if n := rows[len(rows)-1].at / o.Tick; n >= maxDecideTicks {
		return fmt.Errorf("--tick %s: %d ticks up to %s, want fewer than %d", o.Tick, n+1, fmtSeconds(rows[len(rows)-1].at), maxDecideTicks)
	}
	w := csv.NewWriter(out)
	_ = w.Write(decisionsHeader)
	for _, d := range replay(spec, mspec, rows, o.Tick) {
		_ = w.Write([]string{
			fmtSeconds(d.at),
			strconv.Itoa(int(d.ready)),
			fmtValue(d.result.Stable),
			fmtValue(d.result.Panic),
			strconv.Itoa(int(d.result.DesiredPodCount)),
			strconv.Itoa(int(d.result.ExcessBurstCapacity)),
			strconv.FormatBool(d.result.Panicking),
		})
	}
	w.Flush()
	return w.Error()
}

// statRow is one row of the stats CSV.
type statRow struct {
	at    time.Duration
	ready int32
	stat  autoscaler.Stat
}

// decision is one tick of the replay.
type decision struct {
	at     time.Duration
	ready  int32
	result autoscaler.ScaleResult
}

// replay creates the decider at time 0 and decides every tick up to the last row's time, after
// recording the rows at or before the tick. rows is not empty and sorted by time.
func replay(spec autoscaler.DeciderSpec, mspec autoscaler.MetricSpec, rows []statRow, tick time.Duration) []decision {
	ready := rows[0].ready
	for _, r := range rows {
		if r.at > 0 {
			break
		}
		ready = r.ready
	}
	scaler := autoscaler.NewScaler(spec, ready, decideEpoch)
	coll := autoscaler.NewCollector(mspec)
	last := rows[len(rows)-1].at
	var out []decision
	next := 0
	for t := time.Duration(0); t <= last; t += tick {
		for ; next < len(rows) && rows[next].at <= t; next++ {
			coll.Record(decideEpoch.Add(rows[next].at), rows[next].stat)
			ready = rows[next].ready
		}
		out = append(out, decision{at: t, ready: ready, result: scaler.Scale(decideEpoch.Add(t), ready, coll)})
	}
	return out
}

// readStats parses the stats CSV; errors name the file, line and column.
func readStats(name string, r io.Reader) ([]statRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	csvErr := func(err error) error {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("%s:%d:%d: %w", name, pe.Line, pe.Column, pe.Err)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	at := func(field int, format string, args ...any) error {
		line, col := cr.FieldPos(field)
		return fmt.Errorf("%s:%d:%d: %s", name, line, col, fmt.Sprintf(format, args...))
	}
	want := strings.Join(statsHeader, ",")

	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty, want the header %s", name, want)
	}
	if err != nil {
		return nil, csvErr(err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	for i, h := range header {
		if i >= len(statsHeader) || strings.TrimSpace(h) != statsHeader[i] {
			return nil, at(i, "header %q, want %s", strings.Join(header, ","), want)
		}
	}
	if len(header) != len(statsHeader) {
		return nil, at(len(header)-1, "header %q, want %s", strings.Join(header, ","), want)
	}

	var rows []statRow
	prev := time.Duration(0)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvErr(err)
		}
		if len(rec) != len(statsHeader) {
			// Point at the first extra field, or at the last one there is.
			return nil, at(min(len(rec)-1, len(statsHeader)), "%d fields, want %d (%s)", len(rec), len(statsHeader), want)
		}
		num := func(i int) (float64, error) {
			s := strings.TrimSpace(rec[i])
			v, err := strconv.ParseFloat(s, 64)
			switch {
			case err != nil:
				return 0, at(i, "%s %q is not a number", statsHeader[i], s)
			case math.IsNaN(v) || math.IsInf(v, 0):
				return 0, at(i, "%s %q is not a finite number", statsHeader[i], s)
			case v < 0:
				return 0, at(i, "%s %s is negative", statsHeader[i], s)
			}
			return v, nil
		}
		vals := make([]float64, len(statsHeader))
		for _, i := range []int{0, 3, 4, 5, 6} {
			if vals[i], err = num(i); err != nil {
				return nil, err
			}
		}
		if vals[0] > maxStatSeconds {
			return nil, at(0, "time %s is beyond %d seconds", strings.TrimSpace(rec[0]), int64(maxStatSeconds))
		}
		t := time.Duration(math.Round(vals[0] * float64(time.Second)))
		if t < prev {
			return nil, at(0, "time %s is before the previous row's %s", strings.TrimSpace(rec[0]), fmtSeconds(prev))
		}
		prev = t
		ready, err := strconv.ParseInt(strings.TrimSpace(rec[1]), 10, 32)
		if err != nil || ready < 0 {
			return nil, at(1, "ready_pods %q is not a whole number ≥ 0", strings.TrimSpace(rec[1]))
		}
		pod := strings.TrimSpace(rec[2])
		if pod == "" {
			return nil, at(2, "pod is empty, want a pod name or activator")
		}
		rows = append(rows, statRow{at: t, ready: int32(ready), stat: autoscaler.Stat{
			PodName:                   pod,
			AverageConcurrency:        vals[3],
			AverageProxiedConcurrency: vals[4],
			RequestCount:              vals[5],
			ProxiedRequestCount:       vals[6],
		}})
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no stat rows after the header", name)
	}
	return rows, nil
}

// maxStatSeconds bounds stat times (about 31 years) well inside time.Duration.
const maxStatSeconds = 1e9

// loadDeciderSpec builds the decider and metric specs of the revision in revPath (none: a bare
// revision) under the config-autoscaler in cfgPath (none: the defaults), through a synthesized,
// reachable PodAutoscaler as the revision reconciler would create it.
func loadDeciderSpec(revPath, cfgPath string) (autoscaler.DeciderSpec, autoscaler.MetricSpec, error) {
	cfg := config.DefaultAutoscaler()
	if cfgPath != "" {
		var err error
		if cfg, err = readAutoscalerConfig(cfgPath); err != nil {
			return autoscaler.DeciderSpec{}, autoscaler.MetricSpec{}, err
		}
	}
	pa := &autoscalingv1alpha1.PodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "decide", Namespace: "default"},
		Spec:       autoscalingv1alpha1.PodAutoscalerSpec{Reachability: autoscalingv1alpha1.ReachabilityReachable},
	}
	if revPath != "" {
		annos, cc, err := readRevisionTemplate(revPath, cfg)
		if err != nil {
			return autoscaler.DeciderSpec{}, autoscaler.MetricSpec{}, err
		}
		pa.Annotations, pa.Spec.ContainerConcurrency = annos, cc
	}
	return autoscaler.MakeDeciderSpec(pa, cfg), autoscaler.MakeMetricSpec(pa, cfg), nil
}

// readObject reads path, checks its apiVersion and kind against the allowed ones and decodes it
// strictly (unknown fields are errors) into the object new(kind) returns.
func readObject(path, apiVersion string, kinds map[string]func() any) (string, any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, err
	}
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(data, &tm); err != nil {
		return "", nil, fmt.Errorf("%s: %w", path, err)
	}
	names := slices.Sorted(maps.Keys(kinds))
	newObj, ok := kinds[tm.Kind]
	if !ok || tm.APIVersion != apiVersion {
		return "", nil, fmt.Errorf("%s: apiVersion %q kind %q, want %s %s", path, tm.APIVersion, tm.Kind, apiVersion, strings.Join(names, " or "))
	}
	obj := newObj()
	if err := yaml.UnmarshalStrict(bytes.TrimSpace(data), obj); err != nil {
		return "", nil, fmt.Errorf("%s: %w", path, err)
	}
	return tm.Kind, obj, nil
}

// readRevisionTemplate returns the autoscaling annotations and containerConcurrency of the
// Revision, Configuration or Service in path, validated as the admission webhook validates a
// revision (§2.2) so that a value the decider would silently ignore is reported instead.
func readRevisionTemplate(path string, cfg *config.Autoscaler) (map[string]string, int64, error) {
	kind, obj, err := readObject(path, servingv1.SchemeGroupVersion.String(), map[string]func() any{
		"Revision":      func() any { return &servingv1.Revision{} },
		"Configuration": func() any { return &servingv1.Configuration{} },
		"Service":       func() any { return &servingv1.Service{} },
	})
	if err != nil {
		return nil, 0, err
	}
	var meta metav1.ObjectMeta
	var spec servingv1.RevisionSpec
	switch o := obj.(type) {
	case *servingv1.Revision:
		meta, spec = o.ObjectMeta, o.Spec
	case *servingv1.Configuration:
		meta, spec = o.Spec.Template.ObjectMeta, o.Spec.Template.Spec
	case *servingv1.Service:
		meta, spec = o.Spec.Template.ObjectMeta, o.Spec.Template.Spec
	}
	var cc int64
	if spec.ContainerConcurrency != nil {
		cc = *spec.ContainerConcurrency
	}
	if class, ok := meta.Annotations[serving.ClassAnnotationKey]; ok && class != serving.KPAClass {
		return nil, 0, fmt.Errorf("%s: %s %q: decide replays the KPA (%s)", path, serving.ClassAnnotationKey, class, serving.KPAClass)
	}
	// Validate only what the decider reads, on a stand-in revision with a valid container.
	probe := &servingv1.Revision{
		ObjectMeta: metav1.ObjectMeta{Name: "decide", Namespace: "default", Annotations: meta.Annotations},
		Spec: servingv1.RevisionSpec{
			PodSpec:              corev1.PodSpec{Containers: []corev1.Container{{Image: "example.com/decide"}}},
			ContainerConcurrency: spec.ContainerConcurrency,
		},
	}
	all := config.Default()
	all.Autoscaler = cfg
	if fe := webhook.Validate(probe, webhook.Options{Config: all}); fe != nil {
		return nil, 0, fmt.Errorf("%s: %s: %w", path, strings.ToLower(kind), fe)
	}
	return meta.Annotations, cc, nil
}

// readAutoscalerConfig reads and parses the config-autoscaler ConfigMap in path.
func readAutoscalerConfig(path string) (*config.Autoscaler, error) {
	_, obj, err := readObject(path, "v1", map[string]func() any{"ConfigMap": func() any { return &corev1.ConfigMap{} }})
	if err != nil {
		return nil, err
	}
	cm := obj.(*corev1.ConfigMap)
	if cm.Name != "" && cm.Name != config.AutoscalerConfigName {
		return nil, fmt.Errorf("%s: ConfigMap %q, want %s", path, cm.Name, config.AutoscalerConfigName)
	}
	cfg, err := config.NewAutoscalerFromMap(cm.Data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// fmtSeconds prints d in decimal seconds without trailing zeros.
func fmtSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// fmtValue prints a window average rounded to 6 decimal digits.
func fmtValue(v float64) string {
	v = math.Round(v*1e6) / 1e6
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
