package reports

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The CSV files of a run directory. Times are seconds since the run's time zero and latencies
// milliseconds, both as exact decimals (nanosecond precision), so reading a file back gives
// the values that were written.
const (
	RequestsFile   = "requests.csv"
	TimeseriesFile = "timeseries.csv"
	DecisionsFile  = "decisions.csv"
	EventsFile     = "events.csv"
)

var (
	requestsHeader   = []string{"stream", "revision", "tag", "coldStart", "timestamp", "latencyMs", "code", "error"}
	timeseriesHeader = []string{"seconds", "namespace", "revision", "desiredPods", "readyPods", "actualPods",
		"stable", "panic", "panicking", "mode", "activatorQueue", "rps", "concurrency", "errors"}
	decisionsHeader = []string{"seconds", "namespace", "revision", "readyPods", "stable", "panic", "target",
		"desiredPods", "excessBurstCapacity", "panicking", "mode"}
	eventsHeader = []string{"seconds", "kind", "subject", "message"}
)

func seconds(d time.Duration) string { return durationDecimal(d, time.Second) }

func writeRequestsCSV(w io.Writer, reqs []Request) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(requestsHeader)
	for i := range reqs {
		q := &reqs[i]
		_ = cw.Write([]string{q.Stream, q.Revision, q.Tag, strconv.FormatBool(q.ColdStart),
			q.Result.Timestamp.UTC().Format(time.RFC3339Nano), durationDecimal(q.Result.Latency, time.Millisecond),
			strconv.Itoa(int(q.Result.Code)), q.Result.Error})
	}
	cw.Flush()
	return cw.Error()
}

func writeTimeseriesCSV(w io.Writer, samples []Sample) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(timeseriesHeader)
	for _, s := range samples {
		_ = cw.Write([]string{seconds(s.Time), s.Namespace, s.Revision, itoa32(s.DesiredPods), itoa32(s.ReadyPods),
			itoa32(s.ActualPods), exactFloat(s.Stable), exactFloat(s.Panic), strconv.FormatBool(s.Panicking), s.Mode,
			strconv.Itoa(s.ActivatorQueue), exactFloat(s.RPS), exactFloat(s.Concurrency), strconv.Itoa(s.Errors)})
	}
	cw.Flush()
	return cw.Error()
}

func writeDecisionsCSV(w io.Writer, decisions []Decision) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(decisionsHeader)
	for _, d := range decisions {
		_ = cw.Write([]string{seconds(d.Time), d.Namespace, d.Revision, itoa32(d.ReadyPods), exactFloat(d.Stable),
			exactFloat(d.Panic), exactFloat(d.Target), itoa32(d.DesiredPods), itoa32(d.ExcessBurstCapacity),
			strconv.FormatBool(d.Panicking), d.Mode})
	}
	cw.Flush()
	return cw.Error()
}

func writeEventsCSV(w io.Writer, events []Event) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(eventsHeader)
	for _, e := range events {
		_ = cw.Write([]string{seconds(e.Time), e.Kind, e.Subject, e.Message})
	}
	cw.Flush()
	return cw.Error()
}

func itoa32(v int32) string { return strconv.FormatInt(int64(v), 10) }

// csvRows reads a CSV file with the given header and calls row for every record; field reads
// through the fieldReader collect the first parse error with its line and column name.
func csvRows(r io.Reader, name string, header []string, row func(f *fieldReader)) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(header)
	cr.ReuseRecord = true
	got, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: empty file, want the header %s", name, strings.Join(header, ","))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if !slices.Equal(got, header) {
		return fmt.Errorf("%s: header %q, want %q", name, strings.Join(got, ","), strings.Join(header, ","))
	}
	f := &fieldReader{header: header}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		f.record = rec
		f.line, _ = cr.FieldPos(0)
		row(f)
		if f.err != nil {
			return fmt.Errorf("%s: %w", name, f.err)
		}
	}
}

// fieldReader parses the columns of one CSV record, remembering the first error.
type fieldReader struct {
	header []string
	record []string
	line   int
	err    error
}

func (f *fieldReader) fail(col int, err error) {
	if f.err == nil {
		f.err = fmt.Errorf("line %d, column %s: %w", f.line, f.header[col], err)
	}
}

func (f *fieldReader) str(col int) string { return f.record[col] }

func (f *fieldReader) boolean(col int) bool {
	v, err := strconv.ParseBool(f.record[col])
	if err != nil {
		f.fail(col, err)
	}
	return v
}

func (f *fieldReader) integer(col, bits int) int64 {
	v, err := strconv.ParseInt(f.record[col], 10, bits)
	if err != nil {
		f.fail(col, err)
	}
	return v
}

func (f *fieldReader) float(col int) float64 {
	v, err := parseFloat(f.record[col])
	if err != nil {
		f.fail(col, err)
	}
	return v
}

func (f *fieldReader) duration(col int, unit time.Duration) time.Duration {
	v, err := parseDurationDecimal(f.record[col], unit)
	if err != nil {
		f.fail(col, err)
	}
	return v
}

func (f *fieldReader) timestamp(col int) time.Time {
	v, err := time.Parse(time.RFC3339Nano, f.record[col])
	if err != nil {
		f.fail(col, err)
	}
	return v
}

// readRequestsCSV reads requests.csv. Result holds the CSV's timestamp, latency, code and
// error; ReadDir replaces it with results.bin's full record when that file exists.
func readRequestsCSV(r io.Reader) ([]Request, error) {
	var out []Request
	err := csvRows(r, RequestsFile, requestsHeader, func(f *fieldReader) {
		out = append(out, Request{
			Stream: f.str(0), Revision: f.str(1), Tag: f.str(2), ColdStart: f.boolean(3),
			Result: vegeta.Result{Timestamp: f.timestamp(4), Latency: f.duration(5, time.Millisecond),
				Code: uint16(f.integer(6, 16)), Error: f.str(7)},
		})
	})
	return out, err
}

func readTimeseriesCSV(r io.Reader) ([]Sample, error) {
	var out []Sample
	err := csvRows(r, TimeseriesFile, timeseriesHeader, func(f *fieldReader) {
		out = append(out, Sample{
			Time: f.duration(0, time.Second), Namespace: f.str(1), Revision: f.str(2),
			DesiredPods: int32(f.integer(3, 32)), ReadyPods: int32(f.integer(4, 32)), ActualPods: int32(f.integer(5, 32)),
			Stable: f.float(6), Panic: f.float(7), Panicking: f.boolean(8), Mode: f.str(9),
			ActivatorQueue: int(f.integer(10, 64)), RPS: f.float(11), Concurrency: f.float(12), Errors: int(f.integer(13, 64)),
		})
	})
	return out, err
}

func readDecisionsCSV(r io.Reader) ([]Decision, error) {
	var out []Decision
	err := csvRows(r, DecisionsFile, decisionsHeader, func(f *fieldReader) {
		out = append(out, Decision{
			Time: f.duration(0, time.Second), Namespace: f.str(1), Revision: f.str(2), ReadyPods: int32(f.integer(3, 32)),
			Stable: f.float(4), Panic: f.float(5), Target: f.float(6), DesiredPods: int32(f.integer(7, 32)),
			ExcessBurstCapacity: int32(f.integer(8, 32)), Panicking: f.boolean(9), Mode: f.str(10),
		})
	})
	return out, err
}

func readEventsCSV(r io.Reader) ([]Event, error) {
	var out []Event
	err := csvRows(r, EventsFile, eventsHeader, func(f *fieldReader) {
		out = append(out, Event{Time: f.duration(0, time.Second), Kind: f.str(1), Subject: f.str(2), Message: f.str(3)})
	})
	return out, err
}
