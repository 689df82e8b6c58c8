package webhook

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// FieldError is one or more validation failures, each a message with the field paths it
// concerns. A nil *FieldError means "valid". Errors combine with Also and are re-rooted with the
// Via* methods; Error renders one "message: path1, path2" line per distinct message.
type FieldError struct {
	Message string
	Paths   []string
	// Details is an optional second line (a diff, a hint).
	Details string

	errs []*FieldError // set on a combined error; then the fields above are unused
}

// leaves returns the single errors e holds.
func (e *FieldError) leaves() []*FieldError {
	switch {
	case e == nil:
		return nil
	case e.errs != nil:
		return e.errs
	default:
		return []*FieldError{e}
	}
}

// Also returns e combined with more; nil arguments are ignored.
func (e *FieldError) Also(more ...*FieldError) *FieldError {
	all := slices.Clone(e.leaves())
	for _, m := range more {
		all = append(all, m.leaves()...)
	}
	switch len(all) {
	case 0:
		return nil
	case 1:
		return all[0]
	default:
		return &FieldError{errs: all}
	}
}

// via returns a copy of e with prefix prepended to every path.
func (e *FieldError) via(prefix string) *FieldError {
	if e == nil {
		return nil
	}
	var out []*FieldError
	for _, l := range e.leaves() {
		c := *l
		c.Paths = make([]string, len(l.Paths))
		for i, p := range l.Paths {
			switch {
			case p == "":
				c.Paths[i] = prefix
			case strings.HasPrefix(p, "["):
				c.Paths[i] = prefix + p
			default:
				c.Paths[i] = prefix + "." + p
			}
		}
		if len(c.Paths) == 0 {
			c.Paths = []string{prefix}
		}
		out = append(out, &c)
	}
	return (*FieldError)(nil).Also(out...)
}

// ViaField roots e's paths under the given field names (outermost first): "spec", "template".
func (e *FieldError) ViaField(fields ...string) *FieldError {
	for i := len(fields) - 1; i >= 0; i-- {
		e = e.via(fields[i])
	}
	return e
}

// ViaIndex roots e's paths under a list index: "[3]".
func (e *FieldError) ViaIndex(i int) *FieldError { return e.via(fmt.Sprintf("[%d]", i)) }

// ViaFieldIndex roots e's paths under field[i].
func (e *FieldError) ViaFieldIndex(field string, i int) *FieldError {
	return e.ViaIndex(i).ViaField(field)
}

// ViaKey roots e's paths under a map key: "[autoscaling.knative.dev/min-scale]".
func (e *FieldError) ViaKey(key string) *FieldError { return e.via("[" + key + "]") }

// ViaFieldKey roots e's paths under field[key].
func (e *FieldError) ViaFieldKey(field, key string) *FieldError { return e.ViaKey(key).ViaField(field) }

// Error renders the errors sorted by message; errors with the same message and details are
// merged into one line listing all their paths.
func (e *FieldError) Error() string {
	type group struct {
		msg, details string
		paths        []string
	}
	var groups []*group
	for _, l := range e.leaves() {
		i := slices.IndexFunc(groups, func(g *group) bool { return g.msg == l.Message && g.details == l.Details })
		if i < 0 {
			groups = append(groups, &group{msg: l.Message, details: l.Details})
			i = len(groups) - 1
		}
		groups[i].paths = append(groups[i].paths, l.Paths...)
	}
	sort.Slice(groups, func(i, j int) bool {
		if groups[i].msg != groups[j].msg {
			return groups[i].msg < groups[j].msg
		}
		return groups[i].details < groups[j].details
	})
	lines := make([]string, 0, len(groups))
	for _, g := range groups {
		slices.Sort(g.paths)
		g.paths = slices.Compact(g.paths)
		line := g.msg
		if len(g.paths) > 0 {
			line += ": " + strings.Join(g.paths, ", ")
		}
		if g.details != "" {
			line += "\n" + g.details
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// Knative's standard messages (knative-semantics.md §2.2).

func errMissingField(paths ...string) *FieldError {
	return &FieldError{Message: "missing field(s)", Paths: paths}
}

func errDisallowedFields(paths ...string) *FieldError {
	return &FieldError{Message: "must not set the field(s)", Paths: paths}
}

func errInvalidValue(value any, path string, details ...string) *FieldError {
	return &FieldError{Message: fmt.Sprint("invalid value: ", value), Paths: []string{path},
		Details: strings.Join(details, ", ")}
}

func errOutOfBounds(value, lower, upper any, path string) *FieldError {
	return &FieldError{Message: fmt.Sprintf("expected %v <= %v <= %v", lower, value, upper), Paths: []string{path}}
}

func errMultipleOneOf(paths ...string) *FieldError {
	return &FieldError{Message: "expected exactly one, got both", Paths: paths}
}

func errMissingOneOf(paths ...string) *FieldError {
	return &FieldError{Message: "expected exactly one, got neither", Paths: paths}
}

func errGeneric(msg string, paths ...string) *FieldError {
	return &FieldError{Message: msg, Paths: paths}
}

func errInvalidKeyName(key, path string, details ...string) *FieldError {
	return &FieldError{Message: fmt.Sprintf("invalid key name %q", key), Paths: []string{path},
		Details: strings.Join(details, ", ")}
}
