package reports

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ReadDir reads a run directory written by WriteDir back into a Run, so its reports can be
// re-rendered and compared: summary.json (required), the CSVs (each optional: a missing one is
// an empty record) and results.bin (the requests' full vegeta results; without it they come
// from requests.csv's timestamp, latency, code and error).
func ReadDir(dir string) (*Run, error) {
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s is not a run directory: no %s", dir, SummaryFile)
		}
		return nil, err
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, SummaryFile), err)
	}
	if r.Version != FormatVersion {
		return nil, fmt.Errorf("%s: version %q, this simctl reads %q", filepath.Join(dir, SummaryFile), r.Version, FormatVersion)
	}
	if r.Requests, err = readOptional(dir, RequestsFile, readRequestsCSV); err != nil {
		return nil, err
	}
	if r.Series, err = readOptional(dir, TimeseriesFile, readTimeseriesCSV); err != nil {
		return nil, err
	}
	if r.Decisions, err = readOptional(dir, DecisionsFile, readDecisionsCSV); err != nil {
		return nil, err
	}
	if r.Events, err = readOptional(dir, EventsFile, readEventsCSV); err != nil {
		return nil, err
	}
	results, err := readOptional(dir, ResultsFile, readResults)
	switch {
	case err != nil:
		return nil, err
	case results == nil:
	case len(results) != len(r.Requests):
		return nil, fmt.Errorf("%s: %s holds %d results but %s %d requests", dir, ResultsFile, len(results), RequestsFile, len(r.Requests))
	default:
		for i := range results {
			r.Requests[i].Result = results[i]
		}
	}
	return &r, nil
}

// readOptional reads dir/name with read; a missing file gives the zero value.
func readOptional[T any](dir, name string, read func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return zero, nil
	}
	if err != nil {
		return zero, err
	}
	defer func() { _ = f.Close() }()
	v, err := read(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return zero, fmt.Errorf("%s: %w", dir, err)
	}
	return v, nil
}
