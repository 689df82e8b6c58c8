package scenarios

import (
	"embed"
	"fmt"
)

//go:embed catalog/*.yaml
var catalog embed.FS

// CatalogFile returns a bundled catalog file by name (e.g. "hello.yaml").
func CatalogFile(name string) ([]byte, error) {
	b, err := catalog.ReadFile("catalog/" + name)
	if err != nil {
		return nil, fmt.Errorf("catalog has no %q: %w", name, err)
	}
	return b, nil
}
