package reports

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Formatting shared by every renderer. Everything here is a pure function of its input with a
// fixed precision, so the same Run renders byte-identical files.

// humanDuration renders a latency or time span for people: 850µs, 4.25ms, 123.4ms, 1.42s, 2m3s.
func humanDuration(d time.Duration) string {
	abs := d
	if abs < 0 {
		abs = -abs
	}
	switch {
	case d == 0:
		return "0s"
	case abs < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	case abs < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case abs < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case abs < time.Minute:
		return fmt.Sprintf("%.2fs", d.Seconds())
	default:
		return d.Round(time.Second).String()
	}
}

// percent renders a ratio in [0,1] as "12.34%".
func percent(ratio float64) string {
	return fmt.Sprintf("%.2f%%", 100*ratio)
}

// decimal renders a float with at most prec decimals and no trailing zeros: 12.5, 3, 0.25.
func decimal(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// exactFloat renders a float so that parseFloat gives back the same bits (CSV columns).
func exactFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func parseFloat(s string) (float64, error) { return strconv.ParseFloat(s, 64) }

// durationDecimal renders d in the given unit (time.Second, time.Millisecond) as an exact
// decimal: 1.5 seconds is "1.5", 2ms is "0.002", 1ns is "0.000000001". Unlike float seconds it
// round-trips through parseDurationDecimal without loss.
func durationDecimal(d, unit time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	whole, frac := d/unit, d%unit
	if frac == 0 {
		return sign + strconv.FormatInt(int64(whole), 10)
	}
	digits := len(strconv.FormatInt(int64(unit), 10)) - 1 // unit is a power of ten of ns
	f := strings.TrimRight(fmt.Sprintf("%0*d", digits, int64(frac)), "0")
	return sign + strconv.FormatInt(int64(whole), 10) + "." + f
}

// parseDurationDecimal is durationDecimal's inverse.
func parseDurationDecimal(s string, unit time.Duration) (time.Duration, error) {
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")
	wholeStr, fracStr, _ := strings.Cut(body, ".")
	digits := len(strconv.FormatInt(int64(unit), 10)) - 1
	if wholeStr == "" || len(fracStr) > digits || strings.ContainsAny(wholeStr+fracStr, "+-") {
		return 0, fmt.Errorf("%q is not a decimal with at most %d fraction digits", s, digits)
	}
	whole, err := strconv.ParseInt(wholeStr, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a decimal: %w", s, err)
	}
	var frac int64
	if fracStr != "" {
		if frac, err = strconv.ParseInt(fracStr+strings.Repeat("0", digits-len(fracStr)), 10, 64); err != nil {
			return 0, fmt.Errorf("%q is not a decimal: %w", s, err)
		}
	}
	d := time.Duration(whole)*unit + time.Duration(frac)
	if neg {
		d = -d
	}
	return d, nil
}

// offsetLabel renders a run-time offset for tables: "12s", "1m30.5s".
func offsetLabel(d time.Duration) string {
	if d%time.Millisecond != 0 {
		d = d.Round(time.Millisecond)
	}
	return d.String()
}

// verdictMark is the verdict as a symbol and word: "✅ pass".
func verdictMark(v Verdict) string {
	switch v {
	case Pass:
		return "✅ pass"
	case Fail:
		return "❌ fail"
	default:
		return "⚠️ " + string(v)
	}
}

// checkMark is an expectation's outcome as ✓ or ✗.
func checkMark(passed bool) string {
	if passed {
		return "✓"
	}
	return "✗"
}

// statistics renders an expectation's p-value and interval: "p=0.412, interval [0.87, 0.93]".
func statistics(e ExpectationResult) string {
	var parts []string
	if e.PValue != nil {
		parts = append(parts, "p="+pValue(*e.PValue))
	}
	if e.Interval != nil {
		parts = append(parts, fmt.Sprintf("interval [%s, %s]", decimal(e.Interval[0], 4), decimal(e.Interval[1], 4)))
	}
	return strings.Join(parts, ", ")
}

// pValue renders a p-value with three significant decimals, "<0.001" below that.
func pValue(p float64) string {
	if p < 0.001 {
		return "<0.001"
	}
	return strconv.FormatFloat(p, 'f', 3, 64)
}
