package recording

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/servingsim/servingsim/stack/apis/serving"
)

// isAutoscalingKey says whether an annotation is one of Knative's autoscaling ones.
func isAutoscalingKey(k string) bool { return strings.HasPrefix(k, serving.AutoscalingGroup+"/") }

// Writer writes a recording: gzip, the header line, then one JSON line per record.
type Writer struct {
	gz  *gzip.Writer
	buf *bufio.Writer
	enc *json.Encoder
}

// NewWriter writes h (its Format set to FormatVersion) to w and returns a Writer for the records.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	h.Format = FormatVersion
	gz := gzip.NewWriter(w)
	wr := &Writer{gz: gz, buf: bufio.NewWriterSize(gz, 64<<10)}
	wr.enc = json.NewEncoder(wr.buf)
	wr.enc.SetEscapeHTML(false)
	if err := wr.enc.Encode(h); err != nil {
		return nil, err
	}
	return wr, nil
}

// Write appends one record.
func (w *Writer) Write(r Record) error { return w.enc.Encode(r) }

// Close flushes the records and ends the gzip stream; it does not close the underlying writer.
func (w *Writer) Close() error {
	return errors.Join(w.buf.Flush(), w.gz.Close())
}

// maxLine bounds one line of a recording (the header holds the scenario).
const maxLine = 16 << 20

// Reader reads a recording, gzip-compressed or plain JSON lines, one record at a time.
type Reader struct {
	name   string
	sc     *bufio.Scanner
	gz     *gzip.Reader
	line   int
	header Header
}

// NewReader reads the header of the recording in r; name (the file name) prefixes every error,
// with the line number: "rec.jsonl.gz:12: ...".
func NewReader(r io.Reader, name string) (*Reader, error) {
	br := bufio.NewReader(r)
	rd := &Reader{name: name}
	src := io.Reader(br)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		rd.gz, src = gz, gz
	}
	rd.sc = bufio.NewScanner(src)
	rd.sc.Buffer(make([]byte, 64<<10), maxLine)
	b, err := rd.nextLine()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty, want the header line {\"format\":%q,...}", name, FormatVersion)
	}
	if err != nil {
		return nil, err
	}
	var h Header
	if err := strictUnmarshal(b, &h); err != nil {
		return nil, rd.errorf("header: %v", err)
	}
	if h.Format != FormatVersion {
		return nil, rd.errorf("format %q, want %q", h.Format, FormatVersion)
	}
	if h.Start.IsZero() {
		return nil, rd.errorf("header has no start time")
	}
	rd.header = h
	return rd, nil
}

// Header is the recording's header.
func (r *Reader) Header() Header { return r.header }

// Line is the line number of the record Next returned last (the header is line 1).
func (r *Reader) Line() int { return r.line }

// Name is the name errors carry.
func (r *Reader) Name() string { return r.name }

// Next returns the next record, io.EOF after the last. A record that does not parse, or lacks
// what its kind needs, is an error naming the file and line.
func (r *Reader) Next() (Record, error) {
	b, err := r.nextLine()
	if err != nil {
		return Record{}, err
	}
	var rec Record
	if err := strictUnmarshal(b, &rec); err != nil {
		return Record{}, r.errorf("%v", err)
	}
	if err := rec.check(); err != nil {
		return Record{}, r.errorf("%v", err)
	}
	return rec, nil
}

// nextLine is the next non-blank line.
func (r *Reader) nextLine() ([]byte, error) {
	for r.sc.Scan() {
		r.line++
		if b := bytes.TrimSpace(r.sc.Bytes()); len(b) > 0 {
			return b, nil
		}
	}
	if err := r.sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", r.name, r.line+1, err)
	}
	return nil, io.EOF
}

// errorf is an error at the current line.
func (r *Reader) errorf(format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", r.name, r.line, fmt.Sprintf(format, args...))
}

func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value on the line")
	}
	return nil
}

// check verifies that r carries what its kind needs.
func (r *Record) check() error {
	need := func(ok bool, what string) error {
		if !ok {
			return fmt.Errorf("%s record without %s", r.Kind, what)
		}
		return nil
	}
	perRev := func(ok bool, what string) error {
		if r.Rev == "" {
			return fmt.Errorf("%s record without rev", r.Kind)
		}
		return need(ok, what)
	}
	switch r.Kind {
	case KindZero:
		return nil
	case KindConfig:
		return need(r.Config != nil && r.Config.Name != "", "config.name")
	case KindPA:
		return perRev(r.PA != nil, "pa")
	case KindCollector:
		return perRev(r.Collector != nil, "collector")
	case KindDecider:
		return perRev(r.Decider != nil, "decider")
	case KindStat:
		if err := perRev(r.Stat != nil, "stat"); err != nil {
			return err
		}
		if r.Stat.Src != SrcScrape && r.Stat.Src != SrcActivator {
			return fmt.Errorf("stat src %q, want %s or %s", r.Stat.Src, SrcScrape, SrcActivator)
		}
		return nil
	case KindTick:
		return perRev(r.Tick != nil, "tick")
	case KindDrop:
		return perRev(true, "")
	case KindPod:
		return need(r.Pod != nil && r.Pod.Name != "", "pod.name")
	case KindRequest:
		return need(r.Request != nil, "request")
	case "":
		return errors.New("record without kind")
	}
	return fmt.Errorf("unknown record kind %q", r.Kind)
}
