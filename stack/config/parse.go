package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// parser reads typed values out of a ConfigMap's data, collecting one error per bad key so a
// user sees every mistake at once. Missing keys leave the default in place.
type parser struct {
	cm   string
	data map[string]string
	errs []error
}

func newParser(cm string, data map[string]string) *parser { return &parser{cm: cm, data: data} }

func (p *parser) fail(key, val, want string) {
	p.errs = append(p.errs, fmt.Errorf("%s: key %q has value %q: %s", p.cm, key, val, want))
}

func (p *parser) get(key string) (string, bool) {
	v, ok := p.data[key]
	return strings.TrimSpace(v), ok
}

func (p *parser) str(key string, dst *string) {
	if v, ok := p.get(key); ok {
		*dst = v
	}
}

func (p *parser) boolean(key string, dst *bool) {
	if v, ok := p.get(key); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			p.fail(key, v, "want true or false")
			return
		}
		*dst = b
	}
}

func (p *parser) int64(key string, dst *int64) {
	if v, ok := p.get(key); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			p.fail(key, v, "want an integer")
			return
		}
		*dst = n
	}
}

func (p *parser) int32(key string, dst *int32) {
	if v, ok := p.get(key); ok {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			p.fail(key, v, "want a 32-bit integer")
			return
		}
		*dst = int32(n)
	}
}

func (p *parser) float(key string, dst *float64) {
	if v, ok := p.get(key); ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			p.fail(key, v, "want a number")
			return
		}
		*dst = f
	}
}

func (p *parser) duration(key string, dst *time.Duration) {
	if v, ok := p.get(key); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			p.fail(key, v, "want a duration such as 30s or 1m")
			return
		}
		*dst = d
	}
}

// intOrDisabled parses a count where "disabled" means -1 (config-gc's max-non-active-revisions).
func (p *parser) intOrDisabled(key string, dst *int64) {
	if v, ok := p.get(key); ok {
		if strings.EqualFold(v, "disabled") {
			*dst = Disabled
			return
		}
		p.int64(key, dst)
	}
}

// durationOrDisabled parses a duration where "disabled" means -1.
func (p *parser) durationOrDisabled(key string, dst *time.Duration) {
	if v, ok := p.get(key); ok {
		if strings.EqualFold(v, "disabled") {
			*dst = Disabled
			return
		}
		p.duration(key, dst)
	}
}

// check records an error for key when ok is false.
func (p *parser) check(ok bool, key, want string) {
	if !ok {
		p.fail(key, p.data[key], want)
	}
}

func (p *parser) err() error { return errors.Join(p.errs...) }

// Disabled marks a gc knob turned off with the value "disabled".
const Disabled = -1
