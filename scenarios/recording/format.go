package recording

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/autoscaler"
)

// FormatVersion is the format line of the header; a reader refuses any other.
const FormatVersion = "servingsim.dev/recording/v1"

// FileName is the name of the recording in a run directory.
const FileName = "recording.jsonl.gz"

// Header is the first line of a recording.
type Header struct {
	// Format is FormatVersion.
	Format string `json:"format"`
	// Start is the instant of t = 0, to the nanosecond: record times are offsets from it, and
	// replay puts every core call at Start + t so that one-second buckets fall as they did live.
	Start time.Time `json:"start"`
	// Mode is the run's mode (live).
	Mode string `json:"mode"`
	// Scenario is the scenario's name, ScenarioYAML the scenario as run.
	Scenario     string `json:"scenario,omitempty"`
	ScenarioYAML string `json:"scenarioYAML,omitempty"`
	// Seed is the run's seed.
	Seed int64 `json:"seed"`
	// Namespace is where the scenario's objects lived.
	Namespace string `json:"namespace,omitempty"`
	// Config is the data of the config-autoscaler and config-deployment ConfigMaps at t = 0.
	Config map[string]map[string]string `json:"config"`
}

// Kind is a record's type.
type Kind string

// The record kinds (docs/recording-format.md).
const (
	// KindZero marks the scenario's time zero (its services Ready, the load about to start).
	KindZero Kind = "zero"
	// KindConfig is a change of a config-* ConfigMap's data (Config).
	KindConfig Kind = "config"
	// KindPA is a change of a PodAutoscaler's autoscaling inputs (PA).
	KindPA Kind = "pa"
	// KindCollector is a KPA collector created or re-specified (Collector).
	KindCollector Kind = "collector"
	// KindDecider is a KPA scaler created or re-specified (Decider).
	KindDecider Kind = "decider"
	// KindStat is a stat recorded by a collector (Stat).
	KindStat Kind = "stat"
	// KindTick is one decision (Tick).
	KindTick Kind = "tick"
	// KindDrop is a revision's collector and scaler dropped.
	KindDrop Kind = "drop"
	// KindPod is a pod event (Pod).
	KindPod Kind = "pod"
	// KindRequest is a request arrival (Request).
	KindRequest Kind = "request"
)

// Record is one line after the header. T is always set, Rev for the per-revision kinds, and
// exactly the payload field of its Kind.
type Record struct {
	T    Offset `json:"t"`
	Kind Kind   `json:"kind"`
	// Rev is the revision (its PodAutoscaler's name).
	Rev string `json:"rev,omitempty"`

	Config    *ConfigChange `json:"config,omitempty"`
	PA        *PAInputs     `json:"pa,omitempty"`
	Collector *Collector    `json:"collector,omitempty"`
	Decider   *Decider      `json:"decider,omitempty"`
	Stat      *Stat         `json:"stat,omitempty"`
	Tick      *Tick         `json:"tick,omitempty"`
	Pod       *PodEvent     `json:"pod,omitempty"`
	Request   *Request      `json:"request,omitempty"`
}

// ConfigChange is the new data of a knative-serving ConfigMap (nil data: deleted).
type ConfigChange struct {
	Name string            `json:"name"`
	Data map[string]string `json:"data"`
}

// PAInputs is what the decider spec takes from a PodAutoscaler (§3.2): its autoscaling.knative.dev
// annotations, containerConcurrency and reachability.
type PAInputs struct {
	Annotations          map[string]string `json:"annotations,omitempty"`
	ContainerConcurrency int64             `json:"containerConcurrency,omitempty"`
	Reachability         string            `json:"reachability,omitempty"`
}

// Collector is a collector's spec; New says it was created (empty windows).
type Collector struct {
	New          bool     `json:"new,omitempty"`
	StableWindow Duration `json:"stableWindow"`
	PanicWindow  Duration `json:"panicWindow"`
	Aggregation  string   `json:"aggregation"`
	Scraped      bool     `json:"scraped"`
}

// Decider is a scaler's spec; New says it was created, with Ready ready pods. PA is the
// PodAutoscaler the KPA read alongside (nil when it had none).
type Decider struct {
	New   bool        `json:"new,omitempty"`
	Ready int32       `json:"ready"`
	PA    *PAInputs   `json:"pa,omitempty"`
	Spec  DeciderSpec `json:"spec"`
}

// DeciderSpec is autoscaler.DeciderSpec with JSON names.
type DeciderSpec struct {
	ScalingMetric       string   `json:"scalingMetric"`
	TargetValue         float64  `json:"targetValue"`
	TotalValue          float64  `json:"totalValue"`
	TargetBurstCapacity float64  `json:"targetBurstCapacity"`
	ActivatorCapacity   float64  `json:"activatorCapacity"`
	PanicThreshold      float64  `json:"panicThreshold"`
	StableWindow        Duration `json:"stableWindow"`
	PanicWindow         Duration `json:"panicWindow"`
	ScaleDownDelay      Duration `json:"scaleDownDelay"`
	MaxScaleUpRate      float64  `json:"maxScaleUpRate"`
	MaxScaleDownRate    float64  `json:"maxScaleDownRate"`
	ActivationScale     int32    `json:"activationScale"`
	InitialScale        int32    `json:"initialScale"`
	MinScale            int32    `json:"minScale"`
	MaxScale            int32    `json:"maxScale"`
	Reachable           bool     `json:"reachable"`
}

// Stat is a stat as the collector received it. Src is "scrape" (the scraper's revision-wide
// extrapolation, §3.3.2) or "activator" (§3.3.3).
type Stat struct {
	Src                       string  `json:"src"`
	Pod                       string  `json:"pod,omitempty"`
	AverageConcurrency        float64 `json:"c"`
	AverageProxiedConcurrency float64 `json:"pc,omitempty"`
	RequestCount              float64 `json:"r"`
	ProxiedRequestCount       float64 `json:"pr,omitempty"`
}

// Stat sources.
const (
	SrcScrape    = "scrape"
	SrcActivator = "activator"
)

// Tick is one decision: its input (Ready) and outputs (§3.4). Valid is false for a tick with
// no data in the stable window; then Desired is -1 and EBC the standing one.
type Tick struct {
	Ready     int32   `json:"ready"`
	Valid     bool    `json:"valid"`
	Desired   int32   `json:"desired"`
	EBC       int32   `json:"ebc"`
	Stable    float64 `json:"stable"`
	Panic     float64 `json:"panic"`
	Panicking bool    `json:"panicking"`
}

// PodEvent is a pod created, ready, terminating or deleted.
type PodEvent struct {
	Name  string `json:"name"`
	Event string `json:"event"`
}

// Pod events.
const (
	PodCreated     = "created"
	PodReady       = "ready"
	PodTerminating = "terminating"
	PodDeleted     = "deleted"
)

// Request is a request of the load generator, at its send time: the stream, the Service (and
// tag) it targeted, and its outcome.
type Request struct {
	Stream  string   `json:"stream,omitempty"`
	Target  string   `json:"target,omitempty"`
	Tag     string   `json:"tag,omitempty"`
	Rev     string   `json:"rev,omitempty"`
	Code    uint16   `json:"code"`
	Latency Duration `json:"latency"`
}

// DeciderSpecOf converts s for a record.
func DeciderSpecOf(s autoscaler.DeciderSpec) DeciderSpec {
	return DeciderSpec{
		ScalingMetric: s.ScalingMetric, TargetValue: s.TargetValue, TotalValue: s.TotalValue,
		TargetBurstCapacity: s.TargetBurstCapacity, ActivatorCapacity: s.ActivatorCapacity, PanicThreshold: s.PanicThreshold,
		StableWindow: Duration(s.StableWindow), PanicWindow: Duration(s.PanicWindow), ScaleDownDelay: Duration(s.ScaleDownDelay),
		MaxScaleUpRate: s.MaxScaleUpRate, MaxScaleDownRate: s.MaxScaleDownRate, ActivationScale: s.ActivationScale,
		InitialScale: s.InitialScale, MinScale: s.MinScale, MaxScale: s.MaxScale, Reachable: s.Reachable,
	}
}

// Core is the autoscaler.DeciderSpec of s.
func (s DeciderSpec) Core() autoscaler.DeciderSpec {
	return autoscaler.DeciderSpec{
		ScalingMetric: s.ScalingMetric, TargetValue: s.TargetValue, TotalValue: s.TotalValue,
		TargetBurstCapacity: s.TargetBurstCapacity, ActivatorCapacity: s.ActivatorCapacity, PanicThreshold: s.PanicThreshold,
		StableWindow: time.Duration(s.StableWindow), PanicWindow: time.Duration(s.PanicWindow), ScaleDownDelay: time.Duration(s.ScaleDownDelay),
		MaxScaleUpRate: s.MaxScaleUpRate, MaxScaleDownRate: s.MaxScaleDownRate, ActivationScale: s.ActivationScale,
		InitialScale: s.InitialScale, MinScale: s.MinScale, MaxScale: s.MaxScale, Reachable: s.Reachable,
	}
}

// CollectorOf converts a collector spec for a record.
func CollectorOf(s autoscaler.MetricSpec, created bool) *Collector {
	return &Collector{New: created, StableWindow: Duration(s.StableWindow), PanicWindow: Duration(s.PanicWindow), Aggregation: s.Aggregation, Scraped: s.Scraped}
}

// Core is the autoscaler.MetricSpec of c.
func (c *Collector) Core() autoscaler.MetricSpec {
	return autoscaler.MetricSpec{StableWindow: time.Duration(c.StableWindow), PanicWindow: time.Duration(c.PanicWindow), Aggregation: c.Aggregation, Scraped: c.Scraped}
}

// StatOf converts a collector's stat for a record.
func StatOf(s autoscaler.Stat, src string) *Stat {
	return &Stat{Src: src, Pod: s.PodName, AverageConcurrency: s.AverageConcurrency, AverageProxiedConcurrency: s.AverageProxiedConcurrency,
		RequestCount: s.RequestCount, ProxiedRequestCount: s.ProxiedRequestCount}
}

// Core is the autoscaler.Stat of s.
func (s *Stat) Core() autoscaler.Stat {
	return autoscaler.Stat{PodName: s.Pod, AverageConcurrency: s.AverageConcurrency, AverageProxiedConcurrency: s.AverageProxiedConcurrency,
		RequestCount: s.RequestCount, ProxiedRequestCount: s.ProxiedRequestCount}
}

// TickOf converts a tick for a record.
func TickOf(ready int32, r autoscaler.ScaleResult) *Tick {
	return &Tick{Ready: ready, Valid: r.ScaleValid, Desired: r.DesiredPodCount, EBC: r.ExcessBurstCapacity, Stable: r.Stable, Panic: r.Panic, Panicking: r.Panicking}
}

// PAInputsOf is what the decider spec reads of pa (nil for nil).
func PAInputsOf(pa *autoscalingv1alpha1.PodAutoscaler) *PAInputs {
	if pa == nil {
		return nil
	}
	in := &PAInputs{ContainerConcurrency: pa.Spec.ContainerConcurrency, Reachability: string(pa.Spec.Reachability)}
	for k, v := range pa.Annotations {
		if isAutoscalingKey(k) {
			if in.Annotations == nil {
				in.Annotations = map[string]string{}
			}
			in.Annotations[k] = v
		}
	}
	return in
}

// PodAutoscaler is a PA with in's inputs, as MakeDeciderSpec reads it.
func (in *PAInputs) PodAutoscaler() *autoscalingv1alpha1.PodAutoscaler {
	pa := &autoscalingv1alpha1.PodAutoscaler{}
	pa.Annotations = in.Annotations
	pa.Spec.ContainerConcurrency = in.ContainerConcurrency
	pa.Spec.Reachability = autoscalingv1alpha1.ReachabilityType(in.Reachability)
	return pa
}

// Offset is a record time: the offset from Header.Start. In JSON it is a number of seconds
// with up to 9 decimals, written and read exactly (no float rounding), so Start + t is the
// very nanosecond the live core was called at.
type Offset time.Duration

// MarshalJSON writes seconds with the nanoseconds as decimals, trailing zeros trimmed.
func (o Offset) MarshalJSON() ([]byte, error) { return []byte(formatSeconds(time.Duration(o))), nil }

// UnmarshalJSON reads a JSON number of seconds exactly to the nanosecond.
func (o *Offset) UnmarshalJSON(b []byte) error {
	d, err := parseSeconds(string(b))
	if err != nil {
		return err
	}
	*o = Offset(d)
	return nil
}

// D is o as a time.Duration.
func (o Offset) D() time.Duration { return time.Duration(o) }

// String prints o in seconds, e.g. "12.5s".
func (o Offset) String() string { return formatSeconds(time.Duration(o)) + "s" }

// Decimal prints o as its JSON form: exact decimal seconds, e.g. "12.5".
func (o Offset) Decimal() string { return formatSeconds(time.Duration(o)) }

// Duration is a spec duration, in JSON a Go duration string ("60s").
type Duration time.Duration

// MarshalJSON writes d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a string like \"60s\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// formatSeconds prints d as decimal seconds, exact: "-1.5", "0.000000001", "12".
func formatSeconds(d time.Duration) string {
	var b bytes.Buffer
	u := uint64(d)
	if d < 0 {
		b.WriteByte('-')
		u = -u
	}
	b.WriteString(strconv.FormatUint(u/1e9, 10))
	if frac := u % 1e9; frac != 0 {
		s := fmt.Sprintf("%09d", frac)
		b.WriteByte('.')
		b.WriteString(trimZeros(s))
	}
	return b.String()
}

func trimZeros(s string) string {
	for len(s) > 0 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	return s
}

// parseSeconds reads decimal seconds exactly to the nanosecond; more decimals, or an exponent,
// go through float64 and are rounded to the nanosecond.
func parseSeconds(s string) (time.Duration, error) {
	neg := len(s) > 0 && s[0] == '-'
	body := s
	if neg {
		body = s[1:]
	}
	intPart, frac, hasDot := body, "", false
	if i := bytes.IndexByte([]byte(body), '.'); i >= 0 {
		intPart, frac, hasDot = body[:i], body[i+1:], true
	}
	exact := intPart != "" && len(intPart) <= 9 && allDigits(intPart) && len(frac) <= 9 && allDigits(frac) && (!hasDot || frac != "")
	if !exact {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 9e9 {
			return 0, fmt.Errorf("time %s: want seconds, e.g. 12.5", s)
		}
		return time.Duration(math.Round(f * 1e9)), nil
	}
	sec, _ := strconv.ParseInt(intPart, 10, 64)
	var ns int64
	if frac != "" {
		ns, _ = strconv.ParseInt((frac + "000000000")[:9], 10, 64)
	}
	d := time.Duration(sec)*time.Second + time.Duration(ns)
	if neg {
		d = -d
	}
	return d, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
