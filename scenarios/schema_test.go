package scenarios

import (
	"bytes"
	"encoding/json"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/servingsim/servingsim/stack/config"
)

// The JSON Schema of the scenario format (docs/scenario.schema.json) is generated here from the
// Go types: properties from the json tags, descriptions from the doc comments. Regenerate with
//
//	go test ./scenarios -run TestSchema -update

var update = flag.Bool("update", false, "rewrite docs/scenario.schema.json")

const schemaPath = "../docs/scenario.schema.json"

// TestSchema_UpToDate fails when the committed schema differs from what the types generate.
func TestSchema_UpToDate(t *testing.T) {
	got, err := generateSchema()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(schemaPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatalf("%v (run go test ./scenarios -run TestSchema -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go test ./scenarios -run TestSchema -update", schemaPath)
	}
}

// TestSchema_CoversEveryField checks the generated schema has a described property for every
// field of every kind, so editors complete and explain all of them.
func TestSchema_CoversEveryField(t *testing.T) {
	b, err := generateSchema()
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	defs := s["$defs"].(map[string]any)
	for _, name := range []string{"ConstantPhase", "ColdStartExpect", "TrafficSplitExpect", "UpdateService", "Stack", "LatencyExpect"} {
		def, ok := defs[name].(map[string]any)
		if !ok {
			t.Errorf("schema $defs lacks %s", name)
			continue
		}
		props := def["properties"].(map[string]any)
		for pname, p := range props {
			if d, _ := p.(map[string]any)["description"].(string); d == "" {
				t.Errorf("schema %s.%s has no description", name, pname)
			}
		}
	}
	if lat := defs["LatencyExpect"].(map[string]any)["properties"].(map[string]any); lat["stream"] == nil || lat["percentiles"] == nil {
		t.Errorf("LatencyExpect properties = %v, want the inlined Scope fields and percentiles", lat)
	}
}

// schemaGen builds draft 2020-12 definitions from Go types.
type schemaGen struct {
	docs map[string]string // "Type" and "Type.Field" → doc comment
	defs map[string]any
}

func generateSchema() ([]byte, error) {
	docs, err := packageDocs(".")
	if err != nil {
		return nil, err
	}
	g := &schemaGen{docs: docs, defs: map[string]any{}}
	root := g.structSchema(reflect.TypeFor[Scenario]())
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = "https://servingsim.dev/schemas/scenario-v1alpha1.json"
	root["title"] = "servingsim Scenario (" + APIVersion + ")"
	root["$defs"] = g.defs
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// packageDocs reads the doc comments of the package's types and struct fields.
func packageDocs(dir string) (map[string]string, error) {
	fset := token.NewFileSet()
	matches, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	docs := map[string]string{}
	for _, m := range matches {
		if strings.HasSuffix(m, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, m, nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				doc := ts.Doc
				if doc == nil {
					doc = gd.Doc
				}
				docs[ts.Name.Name] = cleanDoc(doc, "")
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				for _, fld := range st.Fields.List {
					for _, n := range fld.Names {
						docs[ts.Name.Name+"."+n.Name] = cleanDoc(fld.Doc, n.Name)
					}
				}
			}
		}
	}
	return docs, nil
}

// cleanDoc joins a comment's lines into one paragraph, dropping the Go-specific parts: code
// examples, and a field comment's leading "Name is" / "Name:".
func cleanDoc(cg *ast.CommentGroup, field string) string {
	if cg == nil {
		return ""
	}
	text := strings.TrimSpace(cg.Text())
	var lines []string
	for l := range strings.SplitSeq(text, "\n") {
		if strings.HasPrefix(l, "\t") { // code examples
			continue
		}
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	doc := strings.Join(lines, " ")
	if field == "" {
		return doc
	}
	for _, prefix := range []string{field + " is ", field + " are ", field + ": "} {
		if rest, ok := strings.CutPrefix(doc, prefix); ok && rest != "" {
			return strings.ToUpper(rest[:1]) + rest[1:]
		}
	}
	return doc
}

// Schemas of the scalar value types: what setScalar accepts.
var scalarSchemas = map[reflect.Type]map[string]any{
	reflect.TypeFor[Duration](): {"type": "string", "pattern": `^-?([0-9]+(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+$|^0$`,
		"examples": []string{"30s", "1m30s", "250ms"}},
	reflect.TypeFor[Rate](): {"oneOf": []any{
		map[string]any{"type": "number", "minimum": 0},
		map[string]any{"type": "string", "pattern": `^\s*[0-9]+(\.[0-9]*)?\s*(/\s*([0-9]*(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+)?\s*$`},
	}, "examples": []any{50, "50/s", "3000/m"}},
	reflect.TypeFor[Distribution](): {"type": "string",
		"examples": []string{"2s", "uniform(1s,3s)", "exponential(500ms)", "lognormal(1.2s,0.3)", "empirical(10ms:50,100ms:30,1s:20)"}},
	reflect.TypeFor[Count](): {"oneOf": []any{
		map[string]any{"type": "integer", "minimum": 0},
		map[string]any{"type": "string", "pattern": `^\s*([0-9]+|[0-9]+\s*\.\.\s*[0-9]+|>=\s*[0-9]+|<=\s*[0-9]+)\s*$`},
	}, "examples": []any{3, "2..5", ">=3", "<=2"}},
	reflect.TypeFor[Bound](): {"type": "string", "examples": []string{"1s", "100ms..110ms", "<=1s", ">=100ms"}},
	reflect.TypeFor[Fraction](): {"oneOf": []any{
		map[string]any{"type": "number", "minimum": 0, "maximum": 1},
		map[string]any{"type": "string", "pattern": `^\s*[0-9]+(\.[0-9]*)?\s*%$`},
	}, "examples": []any{0.001, "0.1%"}},
}

// fieldExtras adds enums and constants to single fields.
var fieldExtras = map[string]map[string]any{
	"Scenario.APIVersion":         {"const": APIVersion},
	"Scenario.Kind":               {"const": Kind},
	"Stack.ConfigOverrides":       {"propertyNames": map[string]any{"enum": config.Names}},
	"SetConfig.ConfigMap":         {"enum": config.Names},
	"AppModel.Overflow":           {"enum": []string{"queue", "reject"}},
	"Condition.SKSMode":           {"enum": []string{SKSModeServe, SKSModeProxy}},
	"PodsExpect.Measure":          {"enum": []string{MeasureReady, MeasureDesired, MeasureActual}},
	"MaxPodsExpect.Measure":       {"enum": []string{MeasureReady, MeasureDesired, MeasureActual}},
	"ReachesExpect.Measure":       {"enum": []string{MeasureReady, MeasureDesired, MeasureActual}},
	"StatusCodesExpect.Codes":     {"propertyNames": map[string]any{"pattern": `^([1-5][0-9][0-9]|[1-5]xx|error)$`}},
	"ColdStartExpect.Percentiles": {"propertyNames": map[string]any{"pattern": `^(p[0-9]{1,2}(\.[0-9]+)?|min|mean|max)$`}},
	"LatencyExpect.Percentiles":   {"propertyNames": map[string]any{"pattern": `^(p[0-9]{1,2}(\.[0-9]+)?|min|mean|max)$`}},
}

// oneKind lists the unions whose YAML object has exactly one key.
var oneKind = map[reflect.Type]bool{reflect.TypeFor[Phase](): true, reflect.TypeFor[Expectation](): true}

func (g *schemaGen) typeSchema(t reflect.Type) map[string]any {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := scalarSchemas[t]; ok {
		return g.ref(t, func() map[string]any {
			out := map[string]any{"description": g.docs[t.Name()]}
			for k, v := range s {
				out[k] = v
			}
			return out
		})
	}
	switch t {
	case reflect.TypeFor[Service]():
		return g.ref(t, func() map[string]any {
			return map[string]any{"description": g.docs["Service"], "type": "object", "oneOf": []any{
				map[string]any{"required": []string{"file"}, "additionalProperties": false,
					"properties": map[string]any{"file": map[string]any{"type": "string", "description": "A YAML file of Knative objects, relative to the scenario file."}}},
				map[string]any{"required": []string{"apiVersion", "kind", "metadata"}, "not": map[string]any{"required": []string{"file"}},
					"description": "An inline Knative Service, Configuration or Route.",
					"properties": map[string]any{"apiVersion": map[string]any{"const": "serving.knative.dev/v1"},
						"kind": map[string]any{"enum": []string{"Service", "Configuration", "Route"}}}},
			}}
		})
	case reflect.TypeFor[Percentiles]():
		return map[string]any{"type": "object", "additionalProperties": g.typeSchema(reflect.TypeFor[Bound]())}
	}
	switch t.Kind() {
	case reflect.Struct:
		return g.ref(t, func() map[string]any { return g.structSchema(t) })
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.typeSchema(t.Elem())}
	case reflect.Map:
		if t.Elem().Kind() == reflect.Interface {
			return map[string]any{"type": "object"}
		}
		return map[string]any{"type": "object", "additionalProperties": g.typeSchema(t.Elem())}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Interface:
		return map[string]any{}
	}
	panic("schema: unsupported type " + t.String())
}

// ref defines t once under $defs and refers to it.
func (g *schemaGen) ref(t reflect.Type, build func() map[string]any) map[string]any {
	if _, ok := g.defs[t.Name()]; !ok {
		g.defs[t.Name()] = map[string]any{} // placeholder against recursion
		g.defs[t.Name()] = build()
	}
	return map[string]any{"$ref": "#/$defs/" + t.Name()}
}

func (g *schemaGen) structSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	fields := fieldsOf(t)
	for _, name := range fields.names {
		f := fields.byName[name]
		owner := t
		if len(f.index) > 1 {
			owner = t.FieldByIndex(f.index[:len(f.index)-1]).Type
		}
		key := owner.Name() + "." + f.field.Name
		p := map[string]any{}
		inner := g.typeSchema(f.field.Type)
		if _, isRef := inner["$ref"]; isRef {
			p["allOf"] = []any{inner} // keep the field's own description beside the $ref
		} else {
			for k, v := range inner {
				p[k] = v
			}
		}
		p["description"] = g.docs[key]
		for k, v := range fieldExtras[key] {
			p[k] = v
		}
		props[name] = p
		if !f.omitempty {
			required = append(required, name)
		}
	}
	out := map[string]any{"type": "object", "description": g.docs[t.Name()], "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		out["required"] = required
	}
	if oneKind[t] {
		out["minProperties"], out["maxProperties"] = 1, 1
	}
	if t == reflect.TypeFor[Action]() {
		var kinds []any
		for _, name := range fields.names {
			if name != "at" && name != "when" {
				kinds = append(kinds, map[string]any{"required": []string{name}})
			}
		}
		out["allOf"] = []any{
			map[string]any{"oneOf": []any{map[string]any{"required": []string{"at"}}, map[string]any{"required": []string{"when"}}}},
			map[string]any{"oneOf": kinds},
		}
	}
	return out
}
