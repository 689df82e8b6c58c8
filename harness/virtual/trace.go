package virtual

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/servingsim/servingsim/scenarios/recording"
	"github.com/servingsim/servingsim/stack/rng"
)

// TraceFormat names a recorded-traffic layout ReadTrace imports.
type TraceFormat string

// The trace layouts (issue 6).
const (
	// TraceAzure2019 is the Azure Functions 2019 public trace's invocations-per-minute CSV:
	// HashOwner,HashApp,HashFunction,Trigger, then one count column per minute 1..1440.
	TraceAzure2019 TraceFormat = "azure2019"
	// TraceAzure2021 is the Azure Functions 2021 trace's per-invocation CSV:
	// app,func,end_timestamp,duration (seconds); a request arrives at end_timestamp − duration.
	TraceAzure2021 TraceFormat = "azure2021"
	// TraceVegeta is vegeta's results (gob, as `vegeta attack` writes them): arrivals are the
	// results' timestamps.
	TraceVegeta TraceFormat = "vegeta"
	// TraceServingsim is the recording a live servingsim run writes (recording.jsonl.gz, see
	// docs/recording-format.md): arrivals are its request records' send times.
	TraceServingsim TraceFormat = "servingsim"
)

// TraceFormats lists the layouts, for help texts.
var TraceFormats = []TraceFormat{TraceAzure2019, TraceAzure2021, TraceVegeta, TraceServingsim}

// WithinMinute is how per-minute counts become arrival times inside their minute.
type WithinMinute string

// The within-minute arrival processes.
const (
	// WithinPoisson is a Poisson process at the minute's rate (count/60s): the number of
	// arrivals varies around the count, as an open-model source's would.
	WithinPoisson WithinMinute = "poisson"
	// WithinUniform places exactly count arrivals at independent uniform times in the minute.
	WithinUniform WithinMinute = "uniform"
	// WithinEquidistant spaces exactly count arrivals evenly, the first at the minute's start.
	WithinEquidistant WithinMinute = "equidistant"
)

// TraceOptions select what ReadTrace takes from a trace.
type TraceOptions struct {
	Format TraceFormat
	// Function keeps only one function's requests: the HashFunction (azure2019), the func or
	// app (azure2021), the attack name (vegeta), or the stream or target Service (servingsim).
	// Empty keeps every request.
	Function string
	// Within is the within-minute process for azure2019. Default WithinPoisson.
	Within WithinMinute
	// Seed seeds the within-minute draws (stream "trace/<function>").
	Seed int64
	// Minutes keeps only the arrivals in the trace's first Minutes minutes; 0 keeps all.
	Minutes int
}

// LoadTrace reads the trace file with ReadTrace.
func LoadTrace(file string, opts TraceOptions) ([]time.Duration, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read-only
	return ReadTrace(f, file, opts)
}

// ReadTrace imports a trace as arrival offsets from the trace's start, sorted, ready for a
// Trace phase. name is the file's name for error messages, which say file:line and the column.
func ReadTrace(r io.Reader, name string, opts TraceOptions) ([]time.Duration, error) {
	var (
		arrivals []time.Duration
		err      error
	)
	switch opts.Format {
	case TraceAzure2019:
		arrivals, err = readAzure2019(r, name, opts)
	case TraceAzure2021:
		arrivals, err = readAzure2021(r, name, opts)
	case TraceVegeta:
		arrivals, err = readVegeta(r, name, opts)
	case TraceServingsim:
		arrivals, err = readServingsim(r, name, opts)
	default:
		return nil, fmt.Errorf("%s: unknown trace format %q (want one of %v)", name, opts.Format, TraceFormats)
	}
	if err != nil {
		return nil, err
	}
	slices.Sort(arrivals)
	if opts.Minutes > 0 {
		end := time.Duration(opts.Minutes) * time.Minute
		n, _ := slices.BinarySearch(arrivals, end)
		arrivals = arrivals[:n]
	}
	if len(arrivals) == 0 {
		if opts.Function != "" {
			return nil, fmt.Errorf("%s: no requests for function %q", name, opts.Function)
		}
		return nil, fmt.Errorf("%s: no requests", name)
	}
	return arrivals, nil
}

// traceError locates a problem in a CSV trace: file, line and column (1-based, as editors and
// encoding/csv count them).
func traceError(name string, line, col int, colName string, err error) error {
	if colName != "" {
		return fmt.Errorf("%s:%d: column %d (%s): %w", name, line, col, colName, err)
	}
	return fmt.Errorf("%s:%d: column %d: %w", name, line, col, err)
}

// csvError turns encoding/csv's errors into the same file:line: column form.
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return traceError(name, pe.Line, pe.Column, "", pe.Err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

func checkHeader(name string, header, want []string) error {
	for i, w := range want {
		if i >= len(header) {
			return traceError(name, 1, i+1, "", fmt.Errorf("missing header %q", w))
		}
		if !strings.EqualFold(strings.TrimSpace(header[i]), w) {
			return traceError(name, 1, i+1, "", fmt.Errorf("header %q, want %q", header[i], w))
		}
	}
	return nil
}

var azure2019Header = []string{"HashOwner", "HashApp", "HashFunction", "Trigger"}

func readAzure2019(r io.Reader, name string, opts TraceOptions) ([]time.Duration, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty trace", name)
		}
		return nil, csvError(name, err)
	}
	header = slices.Clone(header) // ReuseRecord reuses its backing array
	if err := checkHeader(name, header, azure2019Header); err != nil {
		return nil, err
	}
	minutes := len(header) - len(azure2019Header)
	if minutes < 1 || minutes > 1440 {
		return nil, traceError(name, 1, len(header), "", fmt.Errorf("%d minute columns, want 1..1440", minutes))
	}
	for m := 1; m <= minutes; m++ {
		col := len(azure2019Header) + m - 1
		if strings.TrimSpace(header[col]) != strconv.Itoa(m) {
			return nil, traceError(name, 1, col+1, "", fmt.Errorf("header %q, want minute %d", header[col], m))
		}
	}
	counts := make([]int, minutes)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		if opts.Function != "" && rec[2] != opts.Function {
			continue
		}
		for m := range minutes {
			col := len(azure2019Header) + m
			n, err := strconv.Atoi(strings.TrimSpace(rec[col]))
			if err != nil || n < 0 {
				return nil, traceError(name, line, col+1, "minute "+header[col], fmt.Errorf("invocation count %q is not a count", rec[col]))
			}
			counts[m] += n
		}
	}
	within := opts.Within
	if within == "" {
		within = WithinPoisson
	}
	return spreadMinutes(counts, within, rng.New(opts.Seed).Stream("trace/"+opts.Function))
}

// spreadMinutes draws arrival times for per-minute counts.
func spreadMinutes(counts []int, within WithinMinute, r *rng.Stream) ([]time.Duration, error) {
	var out []time.Duration
	for m, n := range counts {
		start := time.Duration(m) * time.Minute
		switch within {
		case WithinEquidistant:
			for i := range n {
				out = append(out, start+time.Minute*time.Duration(i)/time.Duration(n))
			}
		case WithinUniform:
			for range n {
				out = append(out, start+time.Duration(r.Float64()*float64(time.Minute)))
			}
		case WithinPoisson:
			if n == 0 {
				continue
			}
			mean := float64(time.Minute) / float64(n)
			for t := r.ExpFloat64() * mean; t < float64(time.Minute); t += r.ExpFloat64() * mean {
				out = append(out, start+time.Duration(t))
			}
		default:
			return nil, fmt.Errorf("unknown within-minute process %q (want poisson, uniform or equidistant)", within)
		}
	}
	return out, nil
}

var azure2021Header = []string{"app", "func", "end_timestamp", "duration"}

func readAzure2021(r io.Reader, name string, opts TraceOptions) ([]time.Duration, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(azure2021Header)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty trace", name)
		}
		return nil, csvError(name, err)
	}
	if err := checkHeader(name, header, azure2021Header); err != nil {
		return nil, err
	}
	var starts []float64
	first := math.Inf(1)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		end, err := strconv.ParseFloat(strings.TrimSpace(rec[2]), 64)
		if err != nil || math.IsNaN(end) || math.IsInf(end, 0) {
			return nil, traceError(name, line, 3, "end_timestamp", fmt.Errorf("%q is not a time in seconds", rec[2]))
		}
		dur, err := strconv.ParseFloat(strings.TrimSpace(rec[3]), 64)
		if err != nil || dur < 0 || math.IsNaN(dur) || math.IsInf(dur, 0) {
			return nil, traceError(name, line, 4, "duration", fmt.Errorf("%q is not a duration in seconds", rec[3]))
		}
		// Every function's times count from the trace's first arrival, so functions stay aligned.
		first = min(first, end-dur)
		if opts.Function != "" && rec[0] != opts.Function && rec[1] != opts.Function {
			continue
		}
		starts = append(starts, end-dur)
	}
	out := make([]time.Duration, len(starts))
	for i, s := range starts {
		out[i] = time.Duration((s - first) * float64(time.Second))
	}
	return out, nil
}

func readVegeta(r io.Reader, name string, opts TraceOptions) ([]time.Duration, error) {
	dec := vegeta.NewDecoder(r)
	var (
		out   []time.Duration
		first time.Time
	)
	for i := 1; ; i++ {
		var res vegeta.Result
		if err := dec.Decode(&res); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("%s: result %d: %w", name, i, err)
		}
		if first.IsZero() || res.Timestamp.Before(first) {
			// Rebase what was kept so far: vegeta writes results in completion order.
			if !first.IsZero() {
				shift := first.Sub(res.Timestamp)
				for j := range out {
					out[j] += shift
				}
			}
			first = res.Timestamp
		}
		if opts.Function != "" && res.Attack != opts.Function {
			continue
		}
		out = append(out, res.Timestamp.Sub(first))
	}
	return out, nil
}

// readServingsim takes the request records of a live run's recording, as offsets from its first
// request (any stream's, so several streams keep their relative timing).
func readServingsim(r io.Reader, name string, opts TraceOptions) ([]time.Duration, error) {
	rec, err := recording.NewReader(r, name)
	if err != nil {
		return nil, err
	}
	var (
		out   []time.Duration
		first = time.Duration(-1)
	)
	for {
		record, err := rec.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		q := record.Request
		if record.Kind != recording.KindRequest || q == nil {
			continue
		}
		at := time.Duration(record.T)
		if first < 0 {
			first = at // request records are written in time order
		}
		if opts.Function != "" && q.Stream != opts.Function && q.Target != opts.Function {
			continue
		}
		out = append(out, at-first)
	}
	return out, nil
}
