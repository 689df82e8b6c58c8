package reports_test

import (
	"io"
	"testing"

	"github.com/servingsim/servingsim/reports"
	"github.com/servingsim/servingsim/reports/reportstest"
)

// BenchmarkWriteDir_100kRequests renders a complete run directory (summary, vegeta results,
// CSVs, Markdown, HTML with plots) for a run of 100,000 requests.
func BenchmarkWriteDir_100kRequests(b *testing.B) {
	run := reportstest.SplitRollout(reportstest.Options{Requests: 100_000})
	dir := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		if err := reports.WriteDir(dir, run); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteHTML_100kRequests is the HTML report alone (statistics and five plots).
func BenchmarkWriteHTML_100kRequests(b *testing.B) {
	run := reportstest.SplitRollout(reportstest.Options{Requests: 100_000})
	b.ReportAllocs()
	for b.Loop() {
		if err := reports.WriteHTML(io.Discard, run); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadDir_100kRequests reads such a run directory back.
func BenchmarkReadDir_100kRequests(b *testing.B) {
	run := reportstest.SplitRollout(reportstest.Options{Requests: 100_000})
	dir := b.TempDir()
	if err := reports.WriteDir(dir, run); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reports.ReadDir(dir); err != nil {
			b.Fatal(err)
		}
	}
}
