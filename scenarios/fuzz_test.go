package scenarios

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"sigs.k8s.io/yaml"
)

// FuzzParse: the loader never panics; it either returns a scenario that marshals and loads back,
// or an ErrorList whose every entry names the file, with a line inside it when it has one.
//
//	go test ./scenarios -run '^$' -fuzz FuzzParse -fuzztime 60s
func FuzzParse(f *testing.F) {
	for _, name := range catalogFiles() {
		b, err := catalog.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(baseScenario + onePhase + "        - constant: {rate: fast, duration: 30}\n"))
	f.Add([]byte(baseScenario + "    - file: svc.yaml\n  workload:\n    - target: {service: split}\n      phases: [{trace: {file: trace.txt}}]\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("spec: {services: [{file: \"\"}], workload: [{phases: [{}]}]}\n"))
	svc, err := catalog.ReadFile("catalog/services/hello.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{
			"s.yaml":              {Data: data},
			"services/hello.yaml": {Data: svc},
			"svc.yaml":            {Data: []byte("apiVersion: serving.knative.dev/v1\nkind: Route\nmetadata: {name: split}\n")},
			"trace.txt":           {Data: []byte("0\n0.5\n1\n")},
		}
		s, err := ParseFS(fsys, "s.yaml")
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("ParseFS() = %v (%T), want an ErrorList", err, err)
			}
			lines := strings.Count(string(data), "\n") + strings.Count(string(data), "\r") + 2 // YAML also breaks lines at \r
			for _, e := range list {
				if e.File == "" || e.Msg == "" || (e.File == "s.yaml" && e.Line > lines) {
					t.Fatalf("error %#v: want a file, a message and a line within the %d-line input", e, lines)
				}
			}
			return
		}
		out, err := yaml.Marshal(s)
		if err != nil {
			t.Fatalf("Marshal(valid scenario) = %v", err)
		}
		fsys["s.yaml"] = &fstest.MapFile{Data: out}
		if _, err := ParseFS(fsys, "s.yaml"); err != nil {
			t.Fatalf("a valid scenario does not load back after marshalling: %v\ninput:\n%s\nmarshalled:\n%s", err, data, out)
		}
	})
}
