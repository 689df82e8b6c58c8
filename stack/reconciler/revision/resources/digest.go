package resources

import (
	"crypto/sha256"
	"fmt"
	"strings"
)

const digestInfix = "@sha256:"

// Registry returns the registry host of an image reference, Docker Hub's index.docker.io when
// the first path component is not a host (no '.', no ':', not localhost).
func Registry(image string) string {
	first, _, found := strings.Cut(image, "/")
	if !found || (!strings.ContainsAny(first, ".:") && first != "localhost") {
		return "index.docker.io"
	}
	return first
}

// ResolveDigest models tag-to-digest resolution (§1.5) without a registry: an image already
// pinned by digest is kept, an image from a registry in skip is left unresolved (digest ""),
// anything else "resolves" immediately to <repository>@sha256:<sha256 of the reference>, a fake
// but deterministic digest.
func ResolveDigest(image string, skip map[string]struct{}) string {
	if strings.Contains(image, digestInfix) {
		return image
	}
	if _, ok := skip[Registry(image)]; ok {
		return ""
	}
	repo := image
	if slash := strings.LastIndex(image, "/"); strings.LastIndex(image, ":") > slash {
		repo = image[:strings.LastIndex(image, ":")]
	}
	return fmt.Sprintf("%s%s%x", repo, digestInfix, sha256.Sum256([]byte(image)))
}
