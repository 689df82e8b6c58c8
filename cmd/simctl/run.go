package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/servingsim/servingsim/harness"
	"github.com/servingsim/servingsim/reports"
	"github.com/servingsim/servingsim/scenarios"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
)

// defaultScenario is what `simctl run` (and `make run`) runs without an argument: a Service
// scaled from zero under a ramp, then a 90/10 rollout, in well under a minute.
const defaultScenario = "quickstart"

// runFlags are simctl run's options.
type runFlags struct {
	seed  int64
	out   string
	mode  string
	junit string
}

func newRunCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [SCENARIO|FILE]... [--out DIR] [--seed N] [--mode live|virtual] [--junit FILE]",
		Short: "Run a scenario (default: the bundled quickstart), check its expectations, write its report",
		Long: `run runs one scenario: a file, or the name of a bundled catalog scenario (simctl list), by
default the quickstart (a Service scaled from zero under a ramp, then a 90/10 rollout).

In live mode (the default) it starts the stack with the scenario's settings, applies its Knative
objects unchanged in a fresh namespace, waits until they are Ready, sends the workload through
the gateway, takes the actions, records pods, autoscaler decisions, SKS modes and every request,
and checks every expectation plus the request accounting. It prints the Services as
'kubectl get ksvc' would, the verdict with each expectation's observed value, and where the
report went: the run directory (--out, default out/<scenario>) holds summary.json, report.md,
report.html, the CSVs and vegeta's results.bin. Progress goes to stderr.

Exit code 0 when every expectation held, 1 when one failed (it and the seed are printed), 2 for
bad input (the scenario's problems, each with its line) or when the stack or run failed.`,
		Example: `  simctl run                                  # the quickstart, report in out/quickstart
  simctl run cold-start --out /tmp/cold        # a catalog scenario by name
  simctl run my-scenario.yaml --seed 7         # a file, with another seed
  simctl run sks-flapping --mode virtual       # in virtual time
  simctl run cold-start blue-green --junit junit.xml  # several, with a JUnit report for CI
  open out/quickstart/report.html`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if len(args) == 0 {
				args = []string{defaultScenario}
			}
			return runScenarios(ctx, args, f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&f.junit, "junit", "", "also write a JUnit XML report (one test case per scenario) to this file")
	cmd.Flags().Int64Var(&f.seed, "seed", 0, "seed of every random stream (default: the scenario's spec.stack.seed, else 1)")
	cmd.Flags().StringVar(&f.out, "out", "", "run directory to write (default out/<scenario name>)")
	cmd.Flags().StringVar(&f.mode, "mode", scenarios.ModeLive, "live (real stack, wall-clock time) or virtual (virtual time)")
	return cmd
}

// runScenarios runs each scenario in turn (with several, each writes out/<name> or
// --out/<name>), writes the JUnit report if asked, and exits with the worst outcome: 2 if any
// scenario was bad input or could not run, else 1 if any expectation failed.
func runScenarios(ctx context.Context, args []string, f runFlags, out, progress io.Writer) error {
	var cases []junitCase
	var worst *exitError
	for _, arg := range args {
		one := f
		if len(args) > 1 {
			one.out = ""
			if f.out != "" {
				one.out = filepath.Join(f.out, scenarioDirName(arg))
			}
		}
		start := time.Now()
		err := runScenario(ctx, arg, one, out, progress)
		c := junitCase{Name: arg, Time: time.Since(start).Seconds()}
		var ee *exitError
		if errors.As(err, &ee) {
			if worst == nil || ee.code > worst.code {
				worst = ee
			}
			if ee.code == exitExpectation {
				c.Failure = &junitMessage{Message: ee.Error()}
			} else {
				c.Error = &junitMessage{Message: ee.Error()}
			}
		} else if err != nil {
			return err
		}
		cases = append(cases, c)
		if ctx.Err() != nil {
			break
		}
	}
	if f.junit != "" {
		if err := writeJUnit(f.junit, cases); err != nil {
			return &exitError{code: exitBadInput, err: err}
		}
	}
	if worst != nil {
		return worst
	}
	return nil
}

// scenarioDirName is a run directory name for a catalog name or a file path.
func scenarioDirName(arg string) string {
	return strings.TrimSuffix(strings.TrimSuffix(filepath.Base(arg), ".yaml"), ".yml")
}

// runScenario loads arg, runs it, prints the outcome to out and progress to progress, and writes
// the run directory. Its error carries the exit code.
func runScenario(ctx context.Context, arg string, f runFlags, out, progress io.Writer) error {
	// The components log through the stack's logger; controller-runtime's global one would only
	// complain at shutdown that it was never set.
	ctrllog.SetLogger(logr.Discard())
	s, err := loadScenarioArg(arg)
	if err != nil {
		fmt.Fprintln(progress, err)
		return &exitError{code: exitBadInput, err: fmt.Errorf("%s is not a valid scenario", arg)}
	}
	dir := f.out
	if dir == "" {
		dir = filepath.Join("out", s.Metadata.Name)
	}
	start := time.Now()
	view := newProgressView(progress) // a bar on a terminal, plain lines elsewhere (progress.go)
	defer view.Close()
	opts := scenarios.RunOptions{Mode: f.mode, Seed: f.seed, OnProgress: view.Report}
	opts.Inspect = func(ctx context.Context, st *harness.Stack, ns string) {
		view.Pause()
		svcs := &servingv1.ServiceList{}
		if err := st.Client.List(ctx, svcs, client.InNamespace(ns)); err != nil || len(svcs.Items) == 0 {
			return
		}
		fmt.Fprintln(out)
		ptrs := make([]*servingv1.Service, len(svcs.Items))
		for i := range svcs.Items {
			ptrs[i] = &svcs.Items[i]
		}
		printServices(out, ptrs...)
	}
	fmt.Fprintf(out, "running %s (%s mode, seed %d)\n", s.Metadata.Name, modeName(f.mode), seedOf(s, f.seed))
	recFile, closeRecording := recordingFile(dir, f.mode, progress) // recording.jsonl.gz (replay.go)
	opts.Recording = recFile
	run, runErr := scenarios.Run(ctx, s, opts)
	view.Close()
	closeRecording()
	writeErr := reports.WriteDir(dir, run)
	printVerdict(out, run, time.Since(start))
	if writeErr != nil {
		fmt.Fprintf(out, "report: not written: %v\n", writeErr)
	} else {
		fmt.Fprintf(out, "report: %s\n", filepath.Join(dir, reports.HTMLFile))
	}
	switch {
	case runErr != nil:
		return &exitError{code: exitBadInput, err: fmt.Errorf("%s did not complete (seed %d): %w", s.Metadata.Name, run.Seed, runErr)}
	case run.Verdict != reports.Pass:
		return &exitError{code: exitExpectation, err: fmt.Errorf("%s failed (seed %d): %s", s.Metadata.Name, run.Seed, firstFailure(run))}
	case writeErr != nil:
		return &exitError{code: exitBadInput, err: writeErr}
	}
	return nil
}

func modeName(m string) string {
	if m == "" {
		return scenarios.ModeLive
	}
	return m
}

func seedOf(s *scenarios.Scenario, flag int64) int64 {
	return scenarios.RunOptions{Seed: flag}.SeedFor(s)
}

// printVerdict prints the verdict and one line per expectation with what was observed.
func printVerdict(out io.Writer, run *reports.Run, took time.Duration) {
	verdict := map[reports.Verdict]string{reports.Pass: "PASS", reports.Fail: "FAIL", reports.Error: "ERROR"}[run.Verdict]
	fmt.Fprintf(out, "\n%s  %s (seed %d) in %s\n", verdict, run.Scenario, run.Seed, took.Round(100*time.Millisecond))
	if run.Error != "" {
		fmt.Fprintf(out, "  error: %s\n", run.Error)
	}
	for _, e := range run.Expectations {
		mark := "✓"
		if !e.Passed {
			mark = "✗"
		}
		fmt.Fprintf(out, "  %s %s: %s\n", mark, e.Description, e.Observed)
		if !e.Passed && e.Detail != "" {
			fmt.Fprintf(out, "      %s\n", e.Detail)
		}
	}
}

// firstFailure names the first expectation that failed, with what was observed.
func firstFailure(run *reports.Run) string {
	for _, e := range run.Expectations {
		if !e.Passed {
			return fmt.Sprintf("%s: %s", e.Description, e.Observed)
		}
	}
	return "no expectation failed"
}

// printServices prints Services with the columns of `kubectl get ksvc`.
func printServices(out io.Writer, svcs ...*servingv1.Service) {
	tw := tabwriter.NewWriter(out, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tURL\tLATESTCREATED\tLATESTREADY\tREADY\tREASON")
	for _, s := range svcs {
		ready, reason := "Unknown", ""
		if c := harness.ReadyCondition(s); c != nil {
			ready, reason = string(c.Status), c.Reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Status.URL, s.Status.LatestCreatedRevisionName, s.Status.LatestReadyRevisionName, ready, reason)
	}
	_ = tw.Flush()
}
