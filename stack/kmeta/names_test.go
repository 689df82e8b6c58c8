package kmeta

import (
	"strings"
	"testing"
)

func TestChildNameCapsAt63(t *testing.T) { // knative-semantics.md §1.1 ChildName
	cases := []struct{ parent, suffix, want string }{
		{"hello", "-00001", "hello-00001"},
		{"hello-00001", "-deployment", "hello-00001-deployment"},
	}
	for _, c := range cases {
		if got := ChildName(c.parent, c.suffix); got != c.want {
			t.Errorf("ChildName(%q, %q) = %q, want %q", c.parent, c.suffix, got, c.want)
		}
	}
	long := strings.Repeat("a", 60)
	got := ChildName(long, "-deployment")
	if len(got) > MaxNameLength || !strings.HasSuffix(got, "-deployment") {
		t.Errorf("ChildName(60×a, -deployment) = %q (len %d), want ≤ 63 chars ending in -deployment", got, len(got))
	}
	if want := strings.Repeat("a", 63-32-len("-deployment")); !strings.HasPrefix(got, want) {
		t.Errorf("ChildName(60×a, -deployment) = %q, want prefix %q", got, want)
	}
}

func TestRevisionName(t *testing.T) {
	if got, want := RevisionName("hello", 2), "hello-00002"; got != want {
		t.Errorf("RevisionName(hello, 2) = %q, want %q", got, want)
	}
}
