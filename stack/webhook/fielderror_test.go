package webhook

import "testing"

func TestFieldError_PathsAndRendering(t *testing.T) {
	cases := []struct {
		name string
		err  *FieldError
		want string
	}{{
		name: "field, index and key prefixes",
		err:  errMissingField("name").ViaFieldIndex("containers", 2).ViaField("spec", "template", "spec"),
		want: "missing field(s): spec.template.spec.containers[2].name",
	}, {
		name: "current field takes the prefix",
		err:  errMissingField().ViaField("traffic"),
		want: "missing field(s): traffic",
	}, {
		name: "map key",
		err:  errGeneric("bad", "").ViaFieldKey("annotations", "a/b").ViaField("metadata"),
		want: "bad: metadata.annotations[a/b]",
	}, {
		name: "same message merges paths, sorted",
		err:  errDisallowedFields("b").Also(errDisallowedFields("a"), nil).ViaField("spec"),
		want: "must not set the field(s): spec.a, spec.b",
	}, {
		name: "messages sorted, details on their own line",
		err: (&FieldError{Message: "zeta", Paths: []string{"z"}, Details: "why"}).
			Also(errInvalidValue(3, "x")),
		want: "invalid value: 3: x\nzeta: z\nwhy",
	}, {
		name: "out of bounds",
		err:  errOutOfBounds(700, 0, 600, "timeoutSeconds"),
		want: "expected 0 <= 700 <= 600: timeoutSeconds",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.err.Error(); got != c.want {
				t.Errorf("Error() = %q, want %q", got, c.want)
			}
		})
	}
}

func TestFieldError_NilCombines(t *testing.T) {
	var e *FieldError
	if got := e.Also(nil, nil); got != nil {
		t.Errorf("nil.Also(nil, nil) = %v, want nil", got)
	}
	if got := e.ViaField("spec"); got != nil {
		t.Errorf("nil.ViaField(spec) = %v, want nil", got)
	}
	one := errMissingField("x")
	if got := e.Also(one); got != one {
		t.Errorf("nil.Also(e) = %v, want e itself", got)
	}
	// Re-rooting must not change the original.
	_ = one.ViaField("spec")
	if got := one.Error(); got != "missing field(s): x" {
		t.Errorf("after ViaField the original reads %q, want unchanged", got)
	}
}
