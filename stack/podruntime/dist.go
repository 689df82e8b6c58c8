package podruntime

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/servingsim/servingsim/stack/rng"
)

// DistKind names a duration distribution.
type DistKind string

// The supported distributions. The zero DistKind is Constant.
const (
	Constant    DistKind = "constant"
	Uniform     DistKind = "uniform"
	Exponential DistKind = "exponential"
	LogNormal   DistKind = "lognormal"
)

// maxDraw caps every draw so a heavy tail cannot overflow a time.Duration.
const maxDraw = 24 * time.Hour

// Dist is a distribution of durations. The zero value is the constant 0 (no delay).
//
//	Constant:    always Value
//	Uniform:     uniform in [Value, Max)
//	Exponential: exponential with mean Value
//	LogNormal:   median Value, Sigma the standard deviation of the underlying normal
//
// Draws are clamped to [0, 24h].
type Dist struct {
	Kind  DistKind
	Value time.Duration
	Max   time.Duration
	Sigma float64
}

// Const returns the constant distribution d.
func Const(d time.Duration) Dist { return Dist{Kind: Constant, Value: d} }

// UniformDist returns the uniform distribution over [lo, hi).
func UniformDist(lo, hi time.Duration) Dist { return Dist{Kind: Uniform, Value: lo, Max: hi} }

// ExpDist returns the exponential distribution with the given mean.
func ExpDist(mean time.Duration) Dist { return Dist{Kind: Exponential, Value: mean} }

// LogNormalDist returns the log-normal distribution with the given median and sigma.
func LogNormalDist(median time.Duration, sigma float64) Dist {
	return Dist{Kind: LogNormal, Value: median, Sigma: sigma}
}

// IsZero reports whether d always draws 0.
func (d Dist) IsZero() bool {
	switch d.Kind {
	case "", Constant, Exponential, LogNormal:
		return d.Value == 0
	case Uniform:
		return d.Value == 0 && d.Max == 0
	}
	return false
}

// Validate reports a malformed distribution.
func (d Dist) Validate() error {
	switch d.Kind {
	case "", Constant, Exponential:
		if d.Value < 0 {
			return fmt.Errorf("%s: negative duration %s", d.kind(), d.Value)
		}
	case Uniform:
		if d.Value < 0 || d.Max < d.Value {
			return fmt.Errorf("uniform: want 0 <= min <= max, got [%s, %s)", d.Value, d.Max)
		}
	case LogNormal:
		if d.Value < 0 || d.Sigma < 0 || math.IsNaN(d.Sigma) {
			return fmt.Errorf("lognormal: want median >= 0 and sigma >= 0, got %s, %g", d.Value, d.Sigma)
		}
	default:
		return fmt.Errorf("unknown distribution %q", d.Kind)
	}
	return nil
}

func (d Dist) kind() DistKind {
	if d.Kind == "" {
		return Constant
	}
	return d.Kind
}

// Draw returns one duration. Constant distributions consume no randomness.
func (d Dist) Draw(s *rng.Stream) time.Duration {
	var v float64
	switch d.kind() {
	case Constant:
		return clampDraw(float64(d.Value))
	case Uniform:
		v = float64(d.Value) + float64(d.Max-d.Value)*s.Float64()
	case Exponential:
		v = float64(d.Value) * s.ExpFloat64()
	case LogNormal:
		v = float64(d.Value) * math.Exp(d.Sigma*s.NormFloat64())
	}
	return clampDraw(v)
}

func clampDraw(v float64) time.Duration {
	if v <= 0 || math.IsNaN(v) {
		return 0
	}
	if v >= float64(maxDraw) {
		return maxDraw
	}
	return time.Duration(v)
}

// String renders d in the syntax ParseDist accepts.
func (d Dist) String() string {
	switch d.kind() {
	case Uniform:
		return fmt.Sprintf("uniform(%s,%s)", d.Value, d.Max)
	case Exponential:
		return fmt.Sprintf("exponential(%s)", d.Value)
	case LogNormal:
		return fmt.Sprintf("lognormal(%s,%s)", d.Value, strconv.FormatFloat(d.Sigma, 'g', -1, 64))
	}
	return d.Value.String()
}

// ParseDist parses a distribution spec as used in the sim.servingsim.dev/*-delay annotations:
//
//	"2s" or "constant(2s)"        always 2s
//	"uniform(1s,3s)"              uniform in [1s, 3s)
//	"exponential(500ms)" / "exp(500ms)"   exponential with mean 500ms
//	"lognormal(1s,0.5)"           log-normal with median 1s and sigma 0.5
func ParseDist(s string) (Dist, error) {
	s = strings.TrimSpace(s)
	open := strings.IndexByte(s, '(')
	if open < 0 {
		v, err := time.ParseDuration(s)
		if err != nil {
			return Dist{}, fmt.Errorf("distribution %q: %w", s, err)
		}
		d := Const(v)
		return d, d.Validate()
	}
	if !strings.HasSuffix(s, ")") {
		return Dist{}, fmt.Errorf("distribution %q: missing ')'", s)
	}
	name := strings.ToLower(strings.TrimSpace(s[:open]))
	var args []string
	for _, a := range strings.Split(s[open+1:len(s)-1], ",") {
		args = append(args, strings.TrimSpace(a))
	}
	durs := func(n int) ([]time.Duration, error) {
		if len(args) != n {
			return nil, fmt.Errorf("distribution %q: %s takes %d argument(s)", s, name, n)
		}
		out := make([]time.Duration, n)
		for i, a := range args {
			v, err := time.ParseDuration(a)
			if err != nil {
				return nil, fmt.Errorf("distribution %q: %w", s, err)
			}
			out[i] = v
		}
		return out, nil
	}
	var d Dist
	switch name {
	case "constant", "const":
		v, err := durs(1)
		if err != nil {
			return Dist{}, err
		}
		d = Const(v[0])
	case "uniform":
		v, err := durs(2)
		if err != nil {
			return Dist{}, err
		}
		d = UniformDist(v[0], v[1])
	case "exponential", "exp":
		v, err := durs(1)
		if err != nil {
			return Dist{}, err
		}
		d = ExpDist(v[0])
	case "lognormal":
		if len(args) != 2 {
			return Dist{}, fmt.Errorf("distribution %q: lognormal takes (median, sigma)", s)
		}
		m, err := time.ParseDuration(args[0])
		if err != nil {
			return Dist{}, fmt.Errorf("distribution %q: %w", s, err)
		}
		sigma, err := strconv.ParseFloat(args[1], 64)
		if err != nil {
			return Dist{}, fmt.Errorf("distribution %q: sigma: %w", s, err)
		}
		d = LogNormalDist(m, sigma)
	default:
		return Dist{}, fmt.Errorf("distribution %q: unknown kind %q (want constant, uniform, exponential or lognormal)", s, name)
	}
	if err := d.Validate(); err != nil {
		return Dist{}, fmt.Errorf("distribution %q: %w", s, err)
	}
	return d, nil
}
