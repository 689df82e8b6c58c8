package reports

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// SummaryFile is the run directory's verdict and expectations.
const SummaryFile = "summary.json"

// WriteDir writes the run directory for r into dir (created if missing).
func WriteDir(dir string, r *Run) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report directory: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", SummaryFile, err)
	}
	return os.WriteFile(filepath.Join(dir, SummaryFile), append(b, '\n'), 0o644)
}
