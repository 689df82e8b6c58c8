package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// The bundled catalog: scenario files at catalog/*.yaml, the Knative YAML and traces they share
// under catalog/services/ and catalog/traces/.
//
//go:embed catalog
var catalog embed.FS

// CatalogFile returns a Knative YAML file the catalog scenarios share, by name: "hello.yaml" is
// catalog/services/hello.yaml (Knative's hello-world Service, as the Knative docs give it).
func CatalogFile(name string) ([]byte, error) {
	b, err := catalog.ReadFile(path.Join("catalog/services", name))
	if err != nil {
		return nil, fmt.Errorf("catalog has no service file %q: %w", name, err)
	}
	return b, nil
}

// catalogFiles lists the scenario files of the catalog.
func catalogFiles() []string {
	entries, _ := fs.ReadDir(catalog, "catalog")
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".yaml") {
			out = append(out, path.Join("catalog", e.Name()))
		}
	}
	return out
}

// Catalog loads every bundled scenario, sorted by name. Errors name the file as
// catalog/<file>.yaml.
func Catalog() ([]*Scenario, error) {
	var out []*Scenario
	var errs []error
	for _, f := range catalogFiles() {
		s, err := ParseFS(catalog, f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *Scenario) int { return strings.Compare(a.Metadata.Name, b.Metadata.Name) })
	return out, errors.Join(errs...)
}

// CatalogScenario loads the bundled scenario with the given metadata.name (or file name, with
// or without .yaml).
func CatalogScenario(name string) (*Scenario, error) {
	file := path.Join("catalog", strings.TrimSuffix(name, ".yaml")+".yaml")
	if slices.Contains(catalogFiles(), file) {
		return ParseFS(catalog, file)
	}
	all, err := Catalog()
	for _, s := range all {
		if s.Metadata.Name == name {
			return s, nil
		}
	}
	if err != nil {
		return nil, err
	}
	names := make([]string, len(all))
	for i, s := range all {
		names[i] = s.Metadata.Name
	}
	return nil, fmt.Errorf("the catalog has no scenario %q (it has %s)", name, strings.Join(names, ", "))
}
