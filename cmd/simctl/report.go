package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/servingsim/servingsim/reports"
)

func newReportCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "report DIR [--format md|html|json]",
		Short: "Re-render the reports of a run directory (report.md, report.html, summary.json)",
		Long: `report reads a run directory written by simctl run (summary.json, requests.csv,
timeseries.csv, decisions.csv, events.csv and results.bin) and renders its reports again with
this simctl: report.md (sized for a CI step summary), report.html (one self-contained page with
plots: pods and load, latency over time, cold starts, traffic share, SKS mode) and summary.json
(verdict, expectations, accounting and key numbers).

Without --format it writes the three files into DIR and prints their paths. With --format it
writes only that rendering to stdout and leaves DIR unchanged. The same directory always
renders to the same bytes.

Exit code 0 when rendered, 2 when DIR is not a readable run directory.`,
		Example: `  simctl report out/quickstart                     # rewrite report.md, report.html, summary.json
  simctl report out/quickstart --format md >> "$GITHUB_STEP_SUMMARY"
  simctl report out/quickstart --format html > /tmp/quickstart.html
  simctl report out/quickstart --format json | jq .stats.latency`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReport(args[0], format, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "print one rendering to stdout instead of writing files: md, html or json")
	return cmd
}

func runReport(dir, format string, out io.Writer) error {
	render := map[string]func(io.Writer, *reports.Run) error{
		"md": reports.WriteMarkdown, "markdown": reports.WriteMarkdown,
		"html": reports.WriteHTML,
		"json": reports.WriteSummary,
	}[format]
	if format != "" && render == nil {
		return &exitError{code: exitBadInput, err: fmt.Errorf("--format %q: use md, html or json", format)}
	}
	run, err := reports.ReadDir(dir)
	if err != nil {
		return &exitError{code: exitBadInput, err: err}
	}
	if render != nil {
		if err := render(out, run); err != nil {
			return &exitError{code: exitBadInput, err: err}
		}
		return nil
	}
	if err := reports.WriteReports(dir, run); err != nil {
		return &exitError{code: exitBadInput, err: err}
	}
	for _, name := range []string{reports.MarkdownFile, reports.HTMLFile, reports.SummaryFile} {
		fmt.Fprintln(out, filepath.Join(dir, name))
	}
	return nil
}
