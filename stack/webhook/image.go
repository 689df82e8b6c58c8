package webhook

import (
	"fmt"
	"regexp"
	"strings"
)

// Image reference grammar (the Docker distribution one, which Knative's parser follows):
// [registry[:port]/]path[:tag][@digest], with a lowercase path of components separated by
// '/', each component alphanumerics joined by '.', '_', '__' or dashes.
var (
	registryRE  = regexp.MustCompile(`^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?$|^\[[0-9a-fA-F:.]+\](?::[0-9]+)?$`)
	componentRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	tagRE       = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)
	digestRE    = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

// parseImageReference checks that s is a valid image reference: a registry is optional (Docker
// Hub), and so are the tag (latest) and the digest.
func parseImageReference(s string) error {
	name := s
	if at := strings.LastIndex(name, "@"); at >= 0 {
		if d := name[at+1:]; !digestRE.MatchString(d) {
			return fmt.Errorf("invalid digest %q: want sha256: followed by 64 lowercase hex digits", d)
		}
		name = name[:at]
	}
	if c := strings.LastIndex(name, ":"); c > strings.LastIndex(name, "/") {
		if t := name[c+1:]; !tagRE.MatchString(t) {
			return fmt.Errorf("invalid tag %q: want at most 128 of [A-Za-z0-9_.-], not starting with '.' or '-'", t)
		}
		name = name[:c]
	}
	if name == "" {
		return fmt.Errorf("missing repository")
	}
	if len(name) > 255 {
		return fmt.Errorf("repository name longer than 255 characters")
	}
	parts := strings.Split(name, "/")
	if len(parts) > 1 && (strings.ContainsAny(parts[0], ".:[") || parts[0] == "localhost") {
		if !registryRE.MatchString(parts[0]) {
			return fmt.Errorf("invalid registry %q", parts[0])
		}
		parts = parts[1:]
	}
	for _, p := range parts {
		if !componentRE.MatchString(p) {
			return fmt.Errorf("invalid repository component %q: want lowercase letters and digits separated by '.', '_', '__' or '-'", p)
		}
	}
	return nil
}
