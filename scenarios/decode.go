package scenarios

import (
	"cmp"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	yaml "go.yaml.in/yaml/v3"
)

// The strict decoder: it walks the yaml.Node tree into the Go types by their json tags, so every
// unknown field, duplicate key and malformed value is reported with its line, column and field
// path, all at once, instead of stopping at the first like encoding/json does.

// Error is one problem with a scenario, located in its file.
type Error struct {
	// File is the file the problem is in ("" for a scenario built in Go).
	File string
	// Line and Column are 1-based; 0 when unknown.
	Line, Column int
	// Path is the field path, e.g. spec.workload[0].phases[1].constant.rate.
	Path string
	// Msg says what is wrong and what is valid.
	Msg string
}

// Error renders "file:line:col: path: msg", leaving out what is unknown.
func (e Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
			if e.Column > 0 {
				b.WriteString(":" + strconv.Itoa(e.Column))
			}
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in a scenario, sorted by file and line. Load, Parse and
// Validate return one (as error) when the scenario is invalid.
type ErrorList []Error

// Error renders one problem per line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sortErrors orders errors by file (the scenario file first), line, column and path, and drops
// exact duplicates.
func sortErrors(l ErrorList, mainFile string) ErrorList {
	slices.SortStableFunc(l, func(a, b Error) int {
		if a.File != b.File {
			if a.File == mainFile {
				return -1
			}
			if b.File == mainFile {
				return 1
			}
			return strings.Compare(a.File, b.File)
		}
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column), strings.Compare(a.Path, b.Path),
			strings.Compare(a.Msg, b.Msg))
	})
	return slices.Compact(l)
}

// position is where a node is written; for a field or map entry, keyLine and keyCol are where
// its key is (line and col may point at its value).
type position struct{ line, col, keyLine, keyCol int }

// positions maps field paths to where they are written.
type positions map[string]position

// lookup returns the position of path or of its nearest ancestor that has one.
func (p positions) lookup(path string) (position, bool) {
	for {
		if pos, ok := p[path]; ok {
			return pos, true
		}
		if path == "" {
			return position{}, false
		}
		path = parentPath(path)
	}
}

// parentPath strips the last segment: a.b[2] → a.b → a → "".
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// fieldPath appends a field or map key to path: a.key, or a[odd/key] for keys that are not
// plain names (as Knative's webhook writes annotation paths).
func fieldPath(path, key string) string {
	switch {
	case !plainKey.MatchString(key):
		return path + "[" + key + "]"
	case path == "":
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// maxNodes bounds the nodes one document may expand to (YAML aliases can multiply them).
const maxNodes = 200_000

// decoder walks one document.
type decoder struct {
	file  string
	pos   positions
	errs  ErrorList
	nodes int
	// overflow is set once maxNodes is exceeded; decoding stops.
	overflow bool
}

func newDecoder(file string) *decoder { return &decoder{file: file, pos: positions{}} }

func (d *decoder) errorAt(n *yaml.Node, path, format string, args ...any) {
	e := Error{File: d.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

// resolve follows aliases and counts the node against maxNodes; nil means stop.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for hops := 0; n != nil && n.Kind == yaml.AliasNode; hops++ {
		if hops > 100 {
			return nil
		}
		n = n.Alias
	}
	if n == nil || d.overflow {
		return nil
	}
	d.nodes++
	if d.nodes > maxNodes {
		d.overflow = true
		d.errorAt(n, "", "document expands to more than %d nodes (through aliases?); a scenario is much smaller", maxNodes)
		return nil
	}
	return n
}

// markField records where a field or map entry is: at its value when that is a scalar (what a
// message talks about), else at its key (a block mapping's value starts on the next line).
func (d *decoder) markField(path string, k, val *yaml.Node) {
	if _, ok := d.pos[path]; ok {
		return
	}
	at := k
	if val != nil && val.Kind == yaml.ScalarNode {
		at = val
	}
	d.pos[path] = position{at.Line, at.Column, k.Line, k.Column}
}

func (d *decoder) mark(path string, n *yaml.Node) {
	if _, ok := d.pos[path]; !ok && n != nil {
		d.pos[path] = position{n.Line, n.Column, n.Line, n.Column}
	}
}

// nodeDecoder is a type that decodes its own node (services entries).
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node, path string)
}

var scalarType = reflect.TypeFor[scalarValue]()

// decode sets v (settable) from n, recording positions under path and errors in d.
func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value) {
	if n = d.resolve(n); n == nil {
		return
	}
	d.mark(path, n)
	if v.CanAddr() {
		if nd, ok := v.Addr().Interface().(nodeDecoder); ok {
			nd.decodeNode(d, n, path)
			return
		}
	}
	isNull := n.Kind == yaml.ScalarNode && n.ShortTag() == tagNull
	if v.Kind() == reflect.Pointer {
		if isNull && v.Type().Elem().Kind() != reflect.Struct {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		if isNull {
			return
		}
		d.decode(n, path, v.Elem())
		return
	}
	if isNull {
		return
	}
	if v.CanAddr() && v.Addr().Type().Implements(scalarType) {
		if n.Kind != yaml.ScalarNode {
			d.errorAt(n, path, "want a single value, got %s", nodeKind(n))
			return
		}
		if err := v.Addr().Interface().(scalarValue).setScalar(n.Value, n.ShortTag()); err != nil {
			d.errorAt(n, path, "%s", err.Error())
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, path, v)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorAt(n, path, "want a list, got %s", nodeKind(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, indexPath(path, i), s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		d.decodeMap(n, path, v)
	case reflect.Interface:
		if val, ok := d.toJSON(n, path); ok {
			if val != nil {
				v.Set(reflect.ValueOf(val))
			}
		}
	default:
		d.decodeScalar(n, path, v)
	}
}

func (d *decoder) decodeScalar(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.errorAt(n, path, "want a single value, got %s", nodeKind(n))
		return
	}
	tag := n.ShortTag()
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if tag != tagBool || n.Decode(&b) != nil {
			d.errorAt(n, path, "%s is not a boolean; use true or false", quoteScalar(n.Value, tag))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		var i int64
		if tag != tagInt || n.Decode(&i) != nil || v.OverflowInt(i) {
			d.errorAt(n, path, "%s is not a whole number", quoteScalar(n.Value, tag))
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		var f float64
		if (tag != tagInt && tag != tagFloat) || n.Decode(&f) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.errorAt(n, path, "%s is not a number", quoteScalar(n.Value, tag))
			return
		}
		v.SetFloat(f)
	default:
		d.errorAt(n, path, "cannot decode into %s", v.Type())
	}
}

// mapEntries checks that n is a mapping with plain, unique keys and calls f for each entry.
func (d *decoder) mapEntries(n *yaml.Node, path string, f func(key string, k, val *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		d.errorAt(n, path, "want a mapping (key: value lines), got %s", nodeKind(n))
		return
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := d.resolve(n.Content[i])
		if k == nil {
			return
		}
		if k.Kind != yaml.ScalarNode {
			d.errorAt(k, path, "keys must be plain names, got %s", nodeKind(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			d.errorAt(k, path, "merge keys (<<) are not supported; write the fields out")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.errorAt(k, fieldPath(path, k.Value), "duplicate key (first at line %d)", first.Line)
			continue
		}
		seen[k.Value] = k
		f(k.Value, k, n.Content[i+1])
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, path string, v reflect.Value) {
	fields := fieldsOf(v.Type())
	d.mapEntries(n, path, func(key string, k, val *yaml.Node) {
		fp := fieldPath(path, key)
		f, ok := fields.byName[key]
		if !ok {
			d.errorAt(k, fp, "%s", unknownField(key, fields.names))
			return
		}
		d.markField(fp, k, val)
		d.decode(val, fp, v.FieldByIndex(f.index))
	})
}

func (d *decoder) decodeMap(n *yaml.Node, path string, v reflect.Value) {
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		d.errorAt(n, path, "cannot decode into %s", t)
		return
	}
	m := reflect.MakeMap(t)
	d.mapEntries(n, path, func(key string, k, val *yaml.Node) {
		fp := fieldPath(path, key)
		d.markField(fp, k, val)
		elem := reflect.New(t.Elem()).Elem()
		d.decode(val, fp, elem)
		m.SetMapIndex(reflect.ValueOf(key).Convert(t.Key()), elem)
	})
	v.Set(m)
}

// toJSON converts n to a JSON-compatible value (map[string]any, []any, string, int64, float64,
// bool, nil) as sigs.k8s.io/yaml would, recording positions. ok is false after an error.
func (d *decoder) toJSON(n *yaml.Node, path string) (any, bool) {
	if n = d.resolve(n); n == nil {
		return nil, false
	}
	d.mark(path, n)
	switch n.Kind {
	case yaml.MappingNode:
		out := map[string]any{}
		ok := true
		before := len(d.errs)
		d.mapEntries(n, path, func(key string, k, val *yaml.Node) {
			fp := fieldPath(path, key)
			d.markField(fp, k, val)
			if v, good := d.toJSON(val, fp); good {
				out[key] = v
			} else {
				ok = false
			}
		})
		return out, ok && len(d.errs) == before
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		ok := true
		for i, item := range n.Content {
			v, good := d.toJSON(item, indexPath(path, i))
			ok = ok && good
			out = append(out, v)
		}
		return out, ok
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case tagNull:
			return nil, true
		case tagBool:
			var b bool
			if n.Decode(&b) == nil {
				return b, true
			}
		case tagInt:
			var i int64
			if n.Decode(&i) == nil {
				return i, true
			}
			var f float64
			if n.Decode(&f) == nil && !math.IsInf(f, 0) {
				return f, true
			}
		case tagFloat:
			var f float64
			if n.Decode(&f) == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
				return f, true
			}
			d.errorAt(n, path, "%s has no JSON form; quote it to mean a string", n.Value)
			return nil, false
		default:
			return n.Value, true
		}
		return n.Value, true
	}
	d.errorAt(n, path, "unsupported YAML node %s", nodeKind(n))
	return nil, false
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "the value " + quoteScalar(n.Value, n.ShortTag())
	case yaml.DocumentNode:
		return "a document"
	}
	return "an alias"
}

// structFields is the json-tag view of a struct type.
type structFields struct {
	byName map[string]structField
	names  []string // in declaration order
}

type structField struct {
	name      string
	index     []int
	omitempty bool
	field     reflect.StructField
}

var fieldCache sync.Map // reflect.Type → *structFields

// fieldsOf returns t's fields by json name, with anonymous struct fields flattened as
// encoding/json does.
func fieldsOf(t reflect.Type) *structFields {
	if c, ok := fieldCache.Load(t); ok {
		return c.(*structFields)
	}
	sf := &structFields{byName: map[string]structField{}}
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(slices.Clone(index), i)
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type, idx)
				continue
			}
			if !f.IsExported() || name == "" {
				continue
			}
			sf.byName[name] = structField{name: name, index: idx, omitempty: strings.Contains(opts, "omitempty"), field: f}
			sf.names = append(sf.names, name)
		}
	}
	walk(t, nil)
	fieldCache.Store(t, sf)
	return sf
}

// unknownField says a key is not a field, suggesting the closest one.
func unknownField(key string, valid []string) string {
	msg := fmt.Sprintf("unknown field %q", key)
	best, bestDist := "", 3
	for _, v := range valid {
		if dist := editDistance(strings.ToLower(key), strings.ToLower(v)); dist < bestDist {
			best, bestDist = v, dist
		}
	}
	if best != "" {
		msg += fmt.Sprintf("; did you mean %q?", best)
	}
	return msg + " (valid: " + strings.Join(valid, ", ") + ")"
}

// editDistance is the Levenshtein distance of a and b (short strings only).
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
