package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/servingsim/servingsim/scenarios"
)

func newListCommand() *cobra.Command {
	var selector string
	cmd := &cobra.Command{
		Use:   "list [--labels SELECTOR]",
		Short: "List the bundled scenario catalog: name, labels and a one-line description",
		Long: `list prints the scenarios bundled with simctl (scenarios/catalog): Knative's own benchmarks,
conformance behaviours, the data-plane and autoscaler acceptance cases and regressions of known
Knative autoscaling bugs. Each runs with 'simctl run NAME' and validates with 'simctl validate NAME'.

--labels filters with Kubernetes label-selector syntax, as kubectl -l: suite=benchmark,
area in (autoscaler,dataplane), !issue.

Exit code 0, or 2 on a malformed selector.`,
		Example: `  simctl list
  simctl list --labels suite=benchmark
  simctl list -l 'area=autoscaler,suite!=regression'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runList(selector, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVarP(&selector, "labels", "l", "", "label selector, e.g. suite=benchmark or 'area in (autoscaler)'")
	return cmd
}

func runList(selector string, out io.Writer) error {
	sel, err := labels.Parse(selector)
	if err != nil {
		return &exitError{code: exitBadInput, err: fmt.Errorf("--labels %q: %w", selector, err)}
	}
	all, err := scenarios.Catalog()
	if err != nil {
		return &exitError{code: exitBadInput, err: err}
	}
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tLABELS\tDESCRIPTION")
	for _, s := range all {
		if !sel.Matches(labels.Set(s.Metadata.Labels)) {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Metadata.Name, formatLabels(s.Metadata.Labels), firstLine(s.Metadata.Description))
	}
	return tw.Flush()
}

// formatLabels renders labels sorted by key: "area=autoscaler,suite=benchmark".
func formatLabels(l map[string]string) string {
	parts := make([]string, 0, len(l))
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, k+"="+l[k])
	}
	return strings.Join(parts, ",")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
