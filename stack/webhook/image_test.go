package webhook

import "testing"

func TestParseImageReference_KnativeRule(t *testing.T) { // §2.2 Image
	valid := []string{
		"nginx", "nginx:1.27", "library/nginx", "ghcr.io/knative/helloworld-go:latest",
		"localhost:5000/a/b:v1", "kind.local/app", "dev.local/app:dev",
		"gcr.io/p/img@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"gcr.io/p/img:v1@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"[::1]:5000/img", "a__b/c-d.e_f", "registry.example.com/team/service_name:v1.2.3-rc_1",
	}
	for _, s := range valid {
		if err := parseImageReference(s); err != nil {
			t.Errorf("parseImageReference(%q) = %v, want nil", s, err)
		}
	}
	invalid := []string{
		"UPPER/case", "nginx:bad tag", "nginx:", ":tag", "img@sha256:abc", "img@md5:0123",
		"gcr.io//img", "-img", "img-", "ko://github.com/x/y", "a/b/", "my_registry:5000/img",
		"nginx:-tag",
	}
	for _, s := range invalid {
		if err := parseImageReference(s); err == nil {
			t.Errorf("parseImageReference(%q) = nil, want an error", s)
		}
	}
}
