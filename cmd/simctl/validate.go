package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/servingsim/servingsim/scenarios"
)

func newValidateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE|NAME...",
		Short: "Check scenario files without running them: every problem, with its line",
		Long: `validate loads each scenario (a file, or the name of a bundled catalog scenario) the way
simctl run does: strict decoding (unknown fields are errors), every field checked against what is
valid, config-* overrides through Knative's own parsing, and the Knative objects of spec.services
(and the objects updateService and setTraffic actions would produce) through Knative's admission
defaulting and validation. All problems are reported at once, sorted by line, each as
FILE:LINE:COLUMN: FIELD PATH: MESSAGE. The format is docs/scenario-format.md; editors can
complete it with docs/scenario.schema.json.

Exit code 0 when every scenario is valid, 2 when one is not (or cannot be read).`,
		Example: `  simctl validate my-scenario.yaml
  simctl validate scenarios/catalog/*.yaml
  simctl validate cold-start              # a bundled catalog scenario, by name

  # a typo in my-scenario.yaml gives, on stderr:
  my-scenario.yaml:18:28: spec.workload[0].phases[0].constant.rate: "fast" is not a rate; use a number per second like 50 or "50/s" (also "3000/m", "1/ms")`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runValidate(args, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
}

// runValidate loads each scenario, printing one line per valid one to out and the problems of
// the others to errOut. Any invalid scenario is an exitError with exitBadInput.
func runValidate(args []string, out, errOut io.Writer) error {
	bad := 0
	for _, arg := range args {
		s, err := loadScenarioArg(arg)
		if err != nil {
			bad++
			fmt.Fprintln(errOut, err)
			continue
		}
		fmt.Fprintf(out, "ok  %s  (%s)\n", arg, summary(s))
	}
	switch {
	case bad == 0:
		return nil
	case len(args) == 1:
		return &exitError{code: exitBadInput, err: fmt.Errorf("%s is not a valid scenario", args[0])}
	}
	return &exitError{code: exitBadInput, err: fmt.Errorf("%d of %d scenarios are not valid", bad, len(args))}
}

// loadScenarioArg loads a scenario named on the command line: a file if one exists at arg,
// else the bundled catalog scenario of that name.
func loadScenarioArg(arg string) (*scenarios.Scenario, error) {
	s, err := scenarios.Load(arg)
	if err == nil || !errors.Is(err, fs.ErrNotExist) || strings.ContainsAny(arg, `/\`) || strings.HasSuffix(arg, ".yaml") {
		return s, err
	}
	if _, statErr := os.Stat(arg); statErr == nil {
		return nil, err
	}
	if s, catErr := scenarios.CatalogScenario(arg); catErr == nil {
		return s, nil
	}
	return nil, fmt.Errorf("%s: no such file, and no catalog scenario of that name (simctl list shows them)", arg)
}

// summary says what a scenario holds: "cold-start: 1 object, 1 stream, 3 expectations, runs 0s".
func summary(s *scenarios.Scenario) string {
	return fmt.Sprintf("%s: %s, %s, %s, %s, runs %s", s.Metadata.Name,
		plural(len(s.Objects()), "Knative object"), plural(len(s.Spec.Workload), "stream"),
		plural(len(s.Spec.Actions), "action"), plural(len(s.Spec.Expect), "expectation"), s.Duration())
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
