package scenarios

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// Load reads and validates the scenario file at path. Files it names (services entries, traces)
// are read relative to it. An invalid scenario returns an ErrorList naming each problem's line.
func Load(file string) (*Scenario, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return Parse(data, file)
}

// Parse decodes and validates a scenario; filename names it in errors and is the base of the
// relative paths it holds.
func Parse(data []byte, filename string) (*Scenario, error) {
	dir := filepath.Dir(filename)
	return parse(data, filename, files{
		read: func(rel string) ([]byte, error) { return os.ReadFile(joinOS(dir, rel)) },
		name: func(rel string) string { return joinOS(dir, rel) },
	})
}

// ParseFS loads the scenario file name from fsys (e.g. the embedded catalog); relative paths
// it holds are read from fsys too.
func ParseFS(fsys fs.FS, name string) (*Scenario, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	dir := path.Dir(name)
	return parse(data, name, files{
		read: func(rel string) ([]byte, error) { return fs.ReadFile(fsys, path.Join(dir, rel)) },
		name: func(rel string) string { return path.Join(dir, rel) },
	})
}

func joinOS(dir, rel string) string {
	if filepath.IsAbs(rel) {
		return rel
	}
	return filepath.Join(dir, filepath.FromSlash(rel))
}

// files reads the files a scenario refers to, relative to it.
type files struct {
	read func(rel string) ([]byte, error)
	// name is how errors name the file.
	name func(rel string) string
}

func parse(data []byte, filename string, fsys files) (*Scenario, error) {
	root, errs := parseDocument(data, filename, "a Scenario (apiVersion: "+APIVersion+", kind: "+Kind+")")
	if errs != nil {
		return nil, errs
	}
	d := newDecoder(filename)
	s := &Scenario{source: filename}
	d.decode(root, "", reflect.ValueOf(s).Elem())
	s.pos = d.pos
	for i := range s.Spec.Services {
		if svc := &s.Spec.Services[i]; svc.File != "" {
			d.errs = append(d.errs, svc.load(fsys, fieldPath(indexPath("spec.services", i), "file"), d)...)
		}
	}
	for i, st := range s.Spec.Workload {
		for j, p := range st.Phases {
			if p.Trace != nil && p.Trace.File != "" {
				at := fieldPath(fieldPath(indexPath(fieldPath(indexPath("spec.workload", i), "phases"), j), "trace"), "file")
				d.errs = append(d.errs, p.Trace.load(fsys, at, d)...)
			}
		}
	}
	decodeErrs := slices.Clone(d.errs)
	// A field that did not decode is reported once, not again as missing or invalid.
	for _, ve := range s.validate(decodeErrs) {
		if !underAny(ve.Path, decodeErrs) {
			d.errs = append(d.errs, ve)
		}
	}
	if len(d.errs) > 0 {
		return nil, sortErrors(d.errs, filename)
	}
	return s, nil
}

func underAny(p string, errs ErrorList) bool {
	for _, e := range errs {
		if e.Path != "" && (p == e.Path || strings.HasPrefix(p, e.Path+".") || strings.HasPrefix(p, e.Path+"[")) {
			return true
		}
	}
	return false
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseDocument parses data as exactly one YAML document and returns its root node.
func parseDocument(data []byte, filename, want string) (*yaml.Node, ErrorList) {
	docs, errs := parseDocuments(data, filename)
	if errs != nil {
		return nil, errs
	}
	switch len(docs) {
	case 0:
		return nil, ErrorList{{File: filename, Msg: "empty file; want " + want}}
	case 1:
		return docs[0], nil
	}
	return nil, ErrorList{{File: filename, Line: docs[1].Line, Msg: fmt.Sprintf("%d YAML documents; a scenario file holds exactly one", len(docs))}}
}

// parseDocuments parses every non-empty document of a YAML stream.
func parseDocuments(data []byte, filename string) ([]*yaml.Node, ErrorList) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, ErrorList{syntaxError(filename, err)}
		}
		if len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].ShortTag() == tagNull) {
			continue
		}
		out = append(out, doc.Content[0])
	}
}

// syntaxError locates a YAML parser error. yaml leaves the line out for line 1.
func syntaxError(filename string, err error) Error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Error{File: filename, Line: line, Msg: "YAML syntax: " + m[2]}
	}
	return Error{File: filename, Line: 1, Msg: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")}
}

// decodeNode reads a services entry: {file: PATH}, or an inline Knative object.
func (s *Service) decodeNode(d *decoder, n *yaml.Node, p string) {
	if n.Kind != yaml.MappingNode {
		d.errorAt(n, p, "want an inline Knative object (apiVersion, kind, metadata, spec) or {file: PATH}, got %s", nodeKind(n))
		return
	}
	var file *yaml.Node
	keys := 0
	d.mapEntries(n, p, func(key string, k, val *yaml.Node) {
		keys++
		if key == "file" {
			file = val
		}
	})
	if file != nil {
		if keys > 1 {
			d.errorAt(n, p, "a services entry is either {file: PATH} or an inline Knative object, not both")
			return
		}
		d.decode(file, fieldPath(p, "file"), reflect.ValueOf(&s.File).Elem())
		if s.File == "" {
			d.errorAt(file, fieldPath(p, "file"), "want the path of a YAML file of Knative objects, relative to the scenario file")
		}
		return
	}
	if obj, ok := d.toJSON(n, p); ok {
		s.Objects = []map[string]any{obj.(map[string]any)}
	}
}

// load reads the entry's file: every document is one Knative object.
func (s *Service) load(fsys files, at string, ref *decoder) ErrorList {
	data, err := fsys.read(s.File)
	if err != nil {
		return ErrorList{refError(ref, at, "cannot read %s: %v", s.File, unwrapPathError(err))}
	}
	name := fsys.name(s.File)
	docs, errs := parseDocuments(data, name)
	if errs != nil {
		return errs
	}
	if len(docs) == 0 {
		return ErrorList{refError(ref, at, "%s holds no Knative objects", s.File)}
	}
	d := newDecoder(name)
	for _, doc := range docs {
		d.pos = positions{}
		obj, ok := d.toJSON(doc, "")
		if !ok {
			continue
		}
		m, isMap := obj.(map[string]any)
		if !isMap {
			d.errorAt(doc, "", "want a Knative object (apiVersion, kind, metadata, spec), got %s", nodeKind(doc))
			continue
		}
		s.Objects = append(s.Objects, m)
		s.pos = append(s.pos, d.pos)
	}
	s.display = name
	return d.errs
}

// load reads the phase's trace file into Arrivals.
func (t *TracePhase) load(fsys files, at string, ref *decoder) ErrorList {
	data, err := fsys.read(t.File)
	if err != nil {
		return ErrorList{refError(ref, at, "cannot read %s: %v", t.File, unwrapPathError(err))}
	}
	arrivals, errs := parseTrace(data, fsys.name(t.File))
	t.Arrivals = arrivals
	return errs
}

// maxTraceArrivals bounds a trace: an hour at MaxRate.
const maxTraceArrivals = MaxRate * 3600

// parseTrace reads one arrival time per line: decimal seconds or a Go duration; '#' comments.
func parseTrace(data []byte, name string) ([]Duration, ErrorList) {
	var out []Duration
	var errs ErrorList
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		fail := func(format string, args ...any) {
			errs = append(errs, Error{File: name, Line: line, Column: 1, Msg: fmt.Sprintf(format, args...)})
		}
		d, ok := parseArrival(text)
		switch {
		case !ok:
			fail("%q is not an arrival time; use seconds from the phase start (0.25) or a Go duration (250ms)", text)
		case len(out) > 0 && d < out[len(out)-1]:
			fail("arrival %s is before the previous one (%s); arrival times must not decrease", d, out[len(out)-1])
		case len(out) >= maxTraceArrivals:
			fail("more than %d arrivals", maxTraceArrivals)
			return out, errs
		default:
			out = append(out, d)
		}
		if len(errs) >= 20 {
			break
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, Error{File: name, Line: line + 1, Msg: err.Error()})
	}
	if len(out) == 0 && len(errs) == 0 {
		errs = append(errs, Error{File: name, Msg: "no arrival times; want one per line"})
	}
	return out, errs
}

func parseArrival(s string) (Duration, bool) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 || math.IsNaN(f) || f > MaxDuration.Seconds()*2 {
			return 0, false
		}
		return Duration(time.Duration(f * float64(time.Second))), true
	}
	d, err := time.ParseDuration(s)
	return Duration(d), err == nil && d >= 0
}

// refError is an error at the path (in the scenario file) that referred to a file.
func refError(d *decoder, at, format string, args ...any) Error {
	e := Error{File: d.file, Path: at, Msg: fmt.Sprintf(format, args...)}
	if p, ok := d.pos.lookup(at); ok {
		e.Line, e.Column = p.line, p.col
	}
	return e
}

// unwrapPathError drops the path an fs error repeats.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
