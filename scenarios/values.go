package scenarios

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/servingsim/servingsim/stack/app"
	"github.com/servingsim/servingsim/stack/podruntime"
)

// The scalar value types of the format. Each parses from the YAML scalar a user writes (see
// scalarValue) and marshals back to the same syntax, so a scenario round-trips through YAML.

// scalarValue is a field type that parses itself from one YAML scalar. tag is the YAML tag the
// scalar resolved to (!!str, !!int, !!float, ...), so a type can tell 30 from "30". The error
// says what is valid; the decoder adds the file, line and path.
type scalarValue interface {
	setScalar(value, tag string) error
}

const (
	tagStr   = "!!str"
	tagInt   = "!!int"
	tagFloat = "!!float"
	tagBool  = "!!bool"
	tagNull  = "!!null"
)

// Duration is a Go duration string such as "30s", "1m30s" or "250ms".
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String renders d as Go does ("1m30s").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON renders d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

func (d *Duration) setScalar(value, tag string) error {
	v, err := time.ParseDuration(strings.TrimSpace(value))
	if err != nil || (tag != tagStr && v != 0) {
		return fmt.Errorf("%s is not a duration; use a Go duration like \"30s\", \"1m30s\" or \"250ms\"", quoteScalar(value, tag))
	}
	*d = Duration(v)
	return nil
}

// Rate is a request rate in requests per second. YAML takes a number per second (50, 0.5) or a
// count per interval: "50/s", "3000/m", "1/ms", "10/5s".
type Rate float64

// PerSecond returns r in requests per second.
func (r Rate) PerSecond() float64 { return float64(r) }

// String renders r as "50/s".
func (r Rate) String() string { return formatFloat(float64(r)) + "/s" }

// MarshalJSON renders r as a number per second.
func (r Rate) MarshalJSON() ([]byte, error) { return json.Marshal(float64(r)) }

var rateUnits = map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour}

func (r *Rate) setScalar(value, tag string) error {
	bad := fmt.Errorf("%s is not a rate; use a number per second like 50 or \"50/s\" (also \"3000/m\", \"1/ms\")", quoteScalar(value, tag))
	s := strings.TrimSpace(value)
	count, per, hasUnit := strings.Cut(s, "/")
	n, err := strconv.ParseFloat(strings.TrimSpace(count), 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) || (tag != tagStr && tag != tagInt && tag != tagFloat) {
		return bad
	}
	if !hasUnit {
		*r = Rate(n)
		return nil
	}
	per = strings.TrimSpace(per)
	interval, ok := rateUnits[per]
	if !ok {
		d, err := time.ParseDuration(per)
		if err != nil || d <= 0 {
			return bad
		}
		interval = d
	}
	*r = Rate(n / interval.Seconds())
	return nil
}

// Distribution is a distribution of durations in podruntime.ParseDist's syntax: "2s" or
// "constant(2s)", "uniform(1s,3s)", "exponential(500ms)" (or "exp(...)"), "lognormal(1s,0.5)"
// (median, sigma). App service times also take app.ParseSampler's empirical histogram,
// "empirical(10ms:50,100ms:30,1s:20)".
type Distribution string

// Dist parses d as a pod-runtime distribution (no histograms). The empty string is the constant 0.
func (d Distribution) Dist() (podruntime.Dist, error) {
	if d == "" {
		return podruntime.Dist{}, nil
	}
	return podruntime.ParseDist(string(d))
}

// Sampler parses d as an app-model distribution (ParseDist's syntax plus empirical histograms).
// The empty string is the constant 0.
func (d Distribution) Sampler() (app.Sampler, error) {
	if d == "" {
		return podruntime.Dist{}, nil
	}
	return app.ParseSampler(string(d))
}

func (d *Distribution) setScalar(value, tag string) error {
	if tag != tagStr && tag != tagInt {
		return fmt.Errorf("%s is not a distribution; use a duration like \"2s\" or \"lognormal(1s,0.5)\"", quoteScalar(value, tag))
	}
	*d = Distribution(strings.TrimSpace(value))
	return nil
}

// Unbounded is Count.Max of a count with no upper bound.
const Unbounded = math.MaxInt

// Count is an inclusive range of whole numbers. YAML takes 3 (exactly 3), "2..5", ">=3" or "<=2".
type Count struct {
	Min int
	Max int // Unbounded for no upper bound
}

// Exactly is the count n.
func Exactly(n int) Count { return Count{Min: n, Max: n} }

// AtLeast is any count ≥ n.
func AtLeast(n int) Count { return Count{Min: n, Max: Unbounded} }

// AtMost is any count in [0, n].
func AtMost(n int) Count { return Count{Min: 0, Max: n} }

// Between is any count in [lo, hi].
func Between(lo, hi int) Count { return Count{Min: lo, Max: hi} }

// Contains reports whether n is in c.
func (c Count) Contains(n int) bool { return n >= c.Min && n <= c.Max }

// String renders c in the YAML syntax.
func (c Count) String() string {
	switch {
	case c.Min == c.Max:
		return strconv.Itoa(c.Min)
	case c.Max == Unbounded:
		return ">=" + strconv.Itoa(c.Min)
	case c.Min == 0:
		return "<=" + strconv.Itoa(c.Max)
	}
	return strconv.Itoa(c.Min) + ".." + strconv.Itoa(c.Max)
}

// Describe renders c in words: "exactly 3", "at least 3", "between 2 and 5".
func (c Count) Describe() string {
	switch {
	case c.Min == c.Max:
		return "exactly " + strconv.Itoa(c.Min)
	case c.Max == Unbounded:
		return "at least " + strconv.Itoa(c.Min)
	case c.Min == 0:
		return "at most " + strconv.Itoa(c.Max)
	}
	return "between " + strconv.Itoa(c.Min) + " and " + strconv.Itoa(c.Max)
}

// MarshalJSON renders an exact count as a number, any other as its string form.
func (c Count) MarshalJSON() ([]byte, error) {
	if c.Min == c.Max {
		return json.Marshal(c.Min)
	}
	return json.Marshal(c.String())
}

var countPattern = regexp.MustCompile(`^\s*(?:(\d+)|(\d+)\s*\.\.\s*(\d+)|>=\s*(\d+)|<=\s*(\d+))\s*$`)

func (c *Count) setScalar(value, tag string) error {
	bad := fmt.Errorf("%s is not a count; use a whole number like 3, a range \"2..5\", \">=3\" or \"<=2\"", quoteScalar(value, tag))
	if tag != tagStr && tag != tagInt {
		return bad
	}
	m := countPattern.FindStringSubmatch(value)
	if m == nil {
		return bad
	}
	num := func(s string) (int, bool) {
		n, err := strconv.Atoi(s)
		return n, err == nil && n < Unbounded
	}
	var ok1, ok2 bool
	switch {
	case m[1] != "":
		c.Min, ok1 = num(m[1])
		c.Max, ok2 = c.Min, true
	case m[2] != "":
		c.Min, ok1 = num(m[2])
		c.Max, ok2 = num(m[3])
	case m[4] != "":
		c.Min, ok1 = num(m[4])
		c.Max, ok2 = Unbounded, true
	default:
		c.Min, ok1 = 0, true
		c.Max, ok2 = num(m[5])
	}
	if !ok1 || !ok2 {
		return bad
	}
	return nil
}

// Bound is a range of durations for latency assertions. YAML takes "1s" (at most 1s),
// "100ms..110ms" (inclusive range), "<=1s" or ">=100ms". A zero Max means no upper bound.
type Bound struct {
	Min time.Duration
	Max time.Duration
}

// AtMostD is the bound [0, d].
func AtMostD(d time.Duration) Bound { return Bound{Max: d} }

// Contains reports whether d is within b.
func (b Bound) Contains(d time.Duration) bool { return d >= b.Min && (b.Max == 0 || d <= b.Max) }

// String renders b in the YAML syntax.
func (b Bound) String() string {
	switch {
	case b.Min == 0:
		return b.Max.String()
	case b.Max == 0:
		return ">=" + b.Min.String()
	}
	return b.Min.String() + ".." + b.Max.String()
}

// Describe renders b in words: "≤ 1s", "≥ 100ms", "in [100ms, 110ms]".
func (b Bound) Describe() string {
	switch {
	case b.Min == 0:
		return "≤ " + b.Max.String()
	case b.Max == 0:
		return "≥ " + b.Min.String()
	}
	return "in [" + b.Min.String() + ", " + b.Max.String() + "]"
}

// MarshalJSON renders b as its string form.
func (b Bound) MarshalJSON() ([]byte, error) { return json.Marshal(b.String()) }

func (b *Bound) setScalar(value, tag string) error {
	bad := fmt.Errorf("%s is not a latency bound; use a duration like \"1s\" (at most), a range \"100ms..110ms\", \"<=1s\" or \">=100ms\"", quoteScalar(value, tag))
	if tag != tagStr {
		return bad
	}
	s := strings.TrimSpace(value)
	parse := func(s string) (time.Duration, bool) {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		return d, err == nil && d >= 0
	}
	var ok bool
	switch {
	case strings.HasPrefix(s, ">="):
		b.Min, ok = parse(s[2:])
		b.Max = 0
	case strings.HasPrefix(s, "<="):
		b.Min = 0
		b.Max, ok = parse(s[2:])
	default:
		lo, hi, isRange := strings.Cut(s, "..")
		if !isRange {
			b.Min = 0
			b.Max, ok = parse(s)
			break
		}
		var ok2 bool
		b.Min, ok = parse(lo)
		b.Max, ok2 = parse(hi)
		ok = ok && ok2
	}
	if !ok {
		return bad
	}
	return nil
}

// Fraction is a proportion in [0, 1]. YAML takes a number (0.001) or a percentage ("0.1%").
type Fraction float64

// String renders f as a percentage.
func (f Fraction) String() string { return formatFloat(float64(f)*100) + "%" }

// MarshalJSON renders f as a number.
func (f Fraction) MarshalJSON() ([]byte, error) { return json.Marshal(float64(f)) }

func (f *Fraction) setScalar(value, tag string) error {
	bad := fmt.Errorf("%s is not a fraction; use a number in [0, 1] like 0.001 or a percentage like \"0.1%%\"", quoteScalar(value, tag))
	s := strings.TrimSpace(value)
	pct := strings.HasSuffix(s, "%")
	if pct {
		s = strings.TrimSpace(strings.TrimSuffix(s, "%"))
	}
	if (pct && tag != tagStr) || (!pct && tag != tagInt && tag != tagFloat) {
		return bad
	}
	if pct {
		s += "e-2" // parsed as a decimal, 99.9% is exactly the float nearest 0.999
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return bad
	}
	*f = Fraction(v)
	return nil
}

// Percentile names a statistic of a latency distribution: "p50", "p95", "p99.9", or "min",
// "mean", "max".
type Percentile string

var percentilePattern = regexp.MustCompile(`^p(\d{1,2}(?:\.\d+)?)$`)

// Quantile returns the quantile in [0, 1] p stands for; mean reports false.
func (p Percentile) Quantile() (q float64, ok bool) {
	switch p {
	case "min":
		return 0, true
	case "max":
		return 1, true
	case "mean":
		return 0, false
	}
	m := percentilePattern.FindStringSubmatch(string(p))
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil || v <= 0 || v >= 100 {
		return 0, false
	}
	q, err = strconv.ParseFloat(m[1]+"e-2", 64)
	return q, err == nil
}

// valid reports whether p is a known statistic.
func (p Percentile) valid() bool {
	_, ok := p.Quantile()
	return ok || p == "mean"
}

const percentileHelp = `use p50, p90, p95, p99, p99.9 (any pNN in (0, 100)), min, mean or max`

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// quoteScalar renders a scalar as the user wrote it: strings quoted, numbers bare.
func quoteScalar(value, tag string) string {
	if tag == tagStr {
		return strconv.Quote(value)
	}
	return value
}
