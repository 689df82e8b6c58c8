package app

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/servingsim/servingsim/stack/podruntime"
	"github.com/servingsim/servingsim/stack/rng"
)

// Sampler is a distribution of durations: service times and startup delays.
type Sampler interface {
	// Draw returns one duration, using s for any randomness.
	Draw(s *rng.Stream) time.Duration
	// String renders the distribution in the syntax ParseSampler accepts.
	String() string
}

var (
	_ Sampler = podruntime.Dist{}
	_ Sampler = Empirical{}
)

// Empirical is a histogram of durations. Bucket i covers (Bounds[i-1], Bounds[i]] with
// Bounds[-1] = 0 and relative weight Weights[i]; a draw picks a bucket by weight, then a point
// uniformly inside it.
type Empirical struct {
	Bounds  []time.Duration
	Weights []float64
}

// Validate reports a malformed histogram.
func (e Empirical) Validate() error {
	if len(e.Bounds) == 0 || len(e.Bounds) != len(e.Weights) {
		return fmt.Errorf("empirical: want one weight per bucket and at least one bucket, got %d bounds and %d weights",
			len(e.Bounds), len(e.Weights))
	}
	var total float64
	prev := time.Duration(0)
	for i, b := range e.Bounds {
		if b <= prev {
			return fmt.Errorf("empirical: bounds must be positive and ascending, got %s after %s", b, prev)
		}
		w := e.Weights[i]
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return fmt.Errorf("empirical: weight of bucket %s must be finite and >= 0, got %g", b, w)
		}
		total += w
		prev = b
	}
	if total <= 0 {
		return errors.New("empirical: weights sum to 0")
	}
	return nil
}

// Draw implements Sampler. It takes two draws from s: the bucket, then the point inside it.
func (e Empirical) Draw(s *rng.Stream) time.Duration {
	var total float64
	for _, w := range e.Weights {
		total += w
	}
	u := s.Float64() * total
	i := 0
	for ; i < len(e.Weights)-1; i++ {
		if u < e.Weights[i] {
			break
		}
		u -= e.Weights[i]
	}
	lo := time.Duration(0)
	if i > 0 {
		lo = e.Bounds[i-1]
	}
	return lo + time.Duration(float64(e.Bounds[i]-lo)*s.Float64())
}

// String implements Sampler.
func (e Empirical) String() string {
	parts := make([]string, len(e.Bounds))
	for i := range e.Bounds {
		parts[i] = e.Bounds[i].String() + ":" + strconv.FormatFloat(e.Weights[i], 'g', -1, 64)
	}
	return "empirical(" + strings.Join(parts, ",") + ")"
}

// ParseSampler parses a distribution: podruntime.ParseDist's syntax, or
// "empirical(<bound>:<weight>,...)" (alias "histogram(...)") for an Empirical histogram.
func ParseSampler(s string) (Sampler, error) {
	t := strings.TrimSpace(s)
	lower := strings.ToLower(t)
	for _, prefix := range []string{"empirical(", "histogram("} {
		if strings.HasPrefix(lower, prefix) {
			return parseEmpirical(t, len(prefix))
		}
	}
	return podruntime.ParseDist(t)
}

func parseEmpirical(s string, open int) (Sampler, error) {
	if !strings.HasSuffix(s, ")") {
		return nil, fmt.Errorf("distribution %q: missing ')'", s)
	}
	var e Empirical
	for _, part := range strings.Split(s[open:len(s)-1], ",") {
		b, w, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			return nil, fmt.Errorf("distribution %q: bucket %q: want <bound>:<weight>", s, part)
		}
		bound, err := time.ParseDuration(strings.TrimSpace(b))
		if err != nil {
			return nil, fmt.Errorf("distribution %q: %w", s, err)
		}
		weight, err := strconv.ParseFloat(strings.TrimSpace(w), 64)
		if err != nil {
			return nil, fmt.Errorf("distribution %q: weight: %w", s, err)
		}
		e.Bounds, e.Weights = append(e.Bounds, bound), append(e.Weights, weight)
	}
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("distribution %q: %w", s, err)
	}
	return e, nil
}
