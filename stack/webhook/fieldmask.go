package webhook

import (
	"reflect"
	"slices"
	"strings"
)

// setFields returns the JSON names of the non-zero fields of the struct v (a value or pointer),
// descending into inline embedded structs.
func setFields(v any) []string {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	var out []string
	rt := rv.Type()
	for i := range rt.NumField() {
		f := rt.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && (name == "" || strings.Contains(opts, "inline")) && f.Type.Kind() == reflect.Struct {
			out = append(out, setFields(rv.Field(i).Interface())...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		if !rv.Field(i).IsZero() {
			out = append(out, name)
		}
	}
	return out
}

// checkAllowed reports every set field of v whose JSON name is not in allowed as
// "must not set the field(s)", Knative's field-mask rule (§2.2).
func checkAllowed(v any, allowed ...string) *FieldError {
	var bad []string
	for _, f := range setFields(v) {
		if !slices.Contains(allowed, f) {
			bad = append(bad, f)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return errDisallowedFields(bad...)
}
