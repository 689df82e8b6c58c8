package webhook

import (
	"strings"
	"testing"

	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
)

func TestDecodeStrict_UnknownFieldsNamed(t *testing.T) { // §2.2: schemaless spec, strict webhook
	cases := []struct {
		name, raw string
		want      []string // substrings of the error; none means success
	}{
		{"valid", `{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}`, nil},
		{"unknown container field", `{"spec":{"template":{"spec":{"containers":[{"image":"x","imagee":"y"}]}}}}`,
			[]string{`unknown field "spec.template.spec.containers[0].imagee"`}},
		{"unknown spec field", `{"spec":{"traffic":[],"foo":1,"template":{}}}`, []string{`unknown field "spec.foo"`}},
		{"wrong case", `{"spec":{"Template":{}}}`, []string{`unknown field "spec.Template"`}},
		{"duplicate field", `{"spec":{"template":{},"template":{}}}`, []string{`duplicate field "spec.template"`}},
		{"two unknown fields", `{"spec":{"a":1,"b":2}}`, []string{`"spec.a"`, `"spec.b"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := decodeStrict([]byte(c.raw), &servingv1.Service{})
			if len(c.want) == 0 {
				if err != nil {
					t.Errorf("decodeStrict(%s) = %v, want nil", c.raw, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("decodeStrict(%s) = nil, want error containing %q", c.raw, c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("decodeStrict(%s) = %v, want it to contain %q", c.raw, err, w)
				}
			}
		})
	}
}
