package load

import (
	"testing"
	"time"
)

// The k-th request is due when the integral of the rate reaches k.
func TestSegmentPacer_SendsWhenDue(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name string
		segs []segment
		due  []time.Duration // when each request is due
	}{
		{"steps 2/s then 4/s", []segment{{time.Second, 2, 2}, {time.Second, 4, 4}}, []time.Duration{500 * ms, time.Second, 1250 * ms, 1500 * ms, 1750 * ms, 2 * time.Second}},
		{"ramp 0→4/s", []segment{{time.Second, 0, 4}}, []time.Duration{707106781, time.Second}},
		{"ramp 4→0/s", []segment{{time.Second, 4, 0}}, []time.Duration{292893219, time.Second}},
		{"zero step skipped", []segment{{time.Second, 0, 0}, {time.Second, 1, 1}}, []time.Duration{2 * time.Second}},
	}
	for _, c := range cases {
		p := newSegmentPacer(c.segs)
		if got := p.planned(); got != uint64(len(c.due)) {
			t.Errorf("%s: planned() = %d, want %d", c.name, got, len(c.due))
		}
		var elapsed time.Duration
		for k, due := range c.due {
			wait, stop := p.Pace(elapsed, uint64(k))
			if stop || (elapsed+wait-due).Abs() > time.Microsecond {
				t.Errorf("%s: Pace(%v, %d) = %v, %v; want the request due at %v", c.name, elapsed, k, wait, stop, due)
			}
			elapsed = due
		}
		if _, stop := p.Pace(elapsed, uint64(len(c.due))); !stop {
			t.Errorf("%s: Pace after every request = not stop, want stop", c.name)
		}
		if wait, stop := p.Pace(c.due[len(c.due)-1], 0); stop || wait != 0 {
			t.Errorf("%s: Pace behind schedule = %v, %v; want 0 (send at once)", c.name, wait, stop)
		}
	}
}

func TestSegmentPacer_Rate(t *testing.T) {
	p := newSegmentPacer([]segment{{time.Second, 0, 4}, {time.Second, 10, 10}})
	for _, c := range []struct {
		at   time.Duration
		want float64
	}{{0, 0}, {500 * time.Millisecond, 2}, {1500 * time.Millisecond, 10}, {3 * time.Second, 0}} {
		if got := p.Rate(c.at); got != c.want {
			t.Errorf("Rate(%v) = %v, want %v", c.at, got, c.want)
		}
	}
}
