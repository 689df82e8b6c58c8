package reports

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// The files of a run directory besides the CSVs and results.bin.
const (
	SummaryFile  = "summary.json"
	MarkdownFile = "report.md"
	HTMLFile     = "report.html"
)

// summary is summary.json: the Run's JSON fields plus its computed Stats.
type summary struct {
	*Run
	Stats Stats `json:"stats"`
}

// WriteDir writes the run directory for r into dir (created if missing): summary.json,
// results.bin, requests.csv, timeseries.csv, decisions.csv, events.csv, report.md and
// report.html. The same Run always gives byte-identical files.
func WriteDir(dir string, r *Run) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report directory: %w", err)
	}
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{ResultsFile, func(w io.Writer) error { return writeResults(w, r.Requests) }},
		{RequestsFile, func(w io.Writer) error { return writeRequestsCSV(w, r.Requests) }},
		{TimeseriesFile, func(w io.Writer) error { return writeTimeseriesCSV(w, r.Series) }},
		{DecisionsFile, func(w io.Writer) error { return writeDecisionsCSV(w, r.Decisions) }},
		{EventsFile, func(w io.Writer) error { return writeEventsCSV(w, r.Events) }},
	}
	for _, f := range files {
		if err := writeFile(dir, f.name, f.write); err != nil {
			return err
		}
	}
	return WriteReports(dir, r)
}

// WriteReports (re-)renders the files derived from r into dir: summary.json, report.md and
// report.html. simctl report uses it after ReadDir.
func WriteReports(dir string, r *Run) error {
	st := Summarize(r)
	renderers := []struct {
		name   string
		render func(io.Writer, *Run, *Stats) error
	}{
		{SummaryFile, writeSummary},
		{MarkdownFile, writeMarkdown},
		{HTMLFile, writeHTML},
	}
	for _, f := range renderers {
		if err := writeFile(dir, f.name, func(w io.Writer) error { return f.render(w, r, &st) }); err != nil {
			return err
		}
	}
	return nil
}

// WriteSummary writes summary.json's content: the Run (verdict, expectations, accounting)
// and its Stats, indented.
func WriteSummary(w io.Writer, r *Run) error {
	st := Summarize(r)
	return writeSummary(w, r, &st)
}

// WriteMarkdown writes report.md's content, sized for a GitHub Actions step summary.
func WriteMarkdown(w io.Writer, r *Run) error {
	st := Summarize(r)
	return writeMarkdown(w, r, &st)
}

// WriteHTML writes report.html's content: one self-contained page (inline CSS and SVG plots,
// no scripts, nothing fetched from the network).
func WriteHTML(w io.Writer, r *Run) error {
	st := Summarize(r)
	return writeHTML(w, r, &st)
}

func writeSummary(w io.Writer, r *Run, st *Stats) error {
	b, err := json.MarshalIndent(summary{Run: r, Stats: *st}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", SummaryFile, err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// writeFile writes dir/name through a buffer into a temporary file and renames it into
// place, so a reader never sees half a file.
func writeFile(dir, name string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(dir, "."+name+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<16)
	if err := write(bw); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
