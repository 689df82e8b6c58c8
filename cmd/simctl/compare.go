package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/servingsim/servingsim/reports"
)

func newCompareCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "compare A B [--format text|md|json]",
		Short: "Compare two run directories: verdict, latency, errors, cold starts, pods, decisions",
		Long: `compare reads two run directories (written by simctl run) and prints how run B differs
from run A: verdict, expectations met, requests, error rate, throughput, latency p50/p95/p99,
cold starts and their latency, pod-seconds, max pods (in all and per revision), SKS mode
switches, and the first autoscaler tick where the desired scale differs.

Where a metric is a sample it carries a significance test: Mann-Whitney U on the latency
distributions (and on cold-start latencies), a two-proportion z test on the error rate and on
the share of cold starts. p < 0.05 is marked with *. Differences in scenario, seed or mode are
noted below the table.

Exit code 0 when both directories were read and compared (whatever differs), 2 when one is
not a readable run directory.`,
		Example: `  simctl compare out/before out/after
  simctl run load-test --seed 1 --out a && simctl run load-test --seed 2 --out b && simctl compare a b
  simctl compare out/tbc-200 out/tbc-211 --format md >> "$GITHUB_STEP_SUMMARY"`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCompare(args[0], args[1], format, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "text", "output format: text, md or json")
	return cmd
}

func runCompare(dirA, dirB, format string, out io.Writer) error {
	if format != "text" && format != "md" && format != "json" {
		return &exitError{code: exitBadInput, err: fmt.Errorf("--format %q: use text, md or json", format)}
	}
	a, err := reports.ReadDir(dirA)
	if err != nil {
		return &exitError{code: exitBadInput, err: err}
	}
	b, err := reports.ReadDir(dirB)
	if err != nil {
		return &exitError{code: exitBadInput, err: err}
	}
	c := reports.Compare(a, b, dirA, dirB)
	switch format {
	case "md":
		err = c.WriteMarkdown(out)
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		err = enc.Encode(c)
	default:
		err = c.WriteText(out)
	}
	return err
}
