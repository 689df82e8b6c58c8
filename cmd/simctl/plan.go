package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/servingsim/servingsim/harness/virtual"
	"github.com/servingsim/servingsim/scenarios"
)

// The files simctl plan writes in --out.
const (
	planCSVFile = "plan.csv"
	planSVGFile = "plan.svg"
)

// planFlags are simctl plan's options.
type planFlags struct {
	scenario    string
	trace       string
	traceFormat string
	function    string
	within      string
	minutes     int
	sets        []string
	out         string
	seed        int64
}

func newPlanCommand() *cobra.Command {
	var f planFlags
	cmd := &cobra.Command{
		Use:   "plan --scenario FILE|NAME [--trace FILE --trace-format FORMAT --function HASH] [--set knob=v1,v2,...]... [--out DIR]",
		Short: "Capacity planning: run a scenario in virtual time once per config variant and compare",
		Long: `plan runs a scenario (a file, or a catalog scenario's name) in virtual time once per config
variant and prints, per variant: pod-seconds, peak and p95 pods, activators, cold starts
(scale-from-zero events), requests that waited for one, requests and errors, latency p50/p95/p99,
and the stack's vCPU and memory at its busiest second by Knative's published footprints (the
install 1.5 vCPU / 1 GiB with one activator, 300 mCPU / 60 MiB per extra activator, 25 mCPU per
pod for the queue-proxy, plus the app containers' requests from the revision template).

Variants cross every --set: --set target=5,10,20 --set activators=1,2 runs six. Knobs:
` + strings.Join(scenarios.PlanKnobs(), ", ") + `.
scale-to-zero-grace-period and activator-capacity set config-autoscaler; container-concurrency
the revision's field; activators the number of activator instances; the rest the revision
annotations autoscaling.knative.dev/<knob> (stable-window: /window) on every initial revision.

--trace replaces the scenario's workload with a recorded trace sent to its first stream's
target: azure2019 (per-minute invocation counts; --within picks how arrivals spread in a minute:
poisson, uniform or equidistant), azure2021 (per-invocation records), vegeta (results, gob; a
run directory's results.bin) or servingsim (a live run's recording.jsonl.gz: its requests' send
times). --function keeps one function (azure2019 HashFunction, azure2021 func or app, vegeta
attack, servingsim stream or target Service).

It writes plan.csv and plan.svg (pods and p95 latency against the first swept knob) in --out
(default out/plan-<scenario>). The same seed gives the same output.`,
		Example: `  simctl plan --scenario burst-to-panic --set target=5,10,20
  simctl plan --scenario scale-to-zero --set scale-to-zero-grace-period=10s,30s,60s --set min-scale=0,1
  simctl plan --scenario burst-to-panic --trace scenarios/traces/azure2019-synthetic.csv \
      --trace-format azure2019 --function 7b9d4e11 --minutes 60 --set target=10,50,100 --out /tmp/plan
  simctl plan --scenario burst-to-panic --trace out/burst-to-panic/recording.jsonl.gz \
      --trace-format servingsim --set target=5,10,20`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runPlan(ctx, f, cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.scenario, "scenario", "", "scenario file or catalog name (required)")
	fl.StringVar(&f.trace, "trace", "", "trace file replacing the scenario's workload")
	fl.StringVar(&f.traceFormat, "trace-format", string(virtual.TraceAzure2019), "trace layout: azure2019, azure2021, vegeta or servingsim")
	fl.StringVar(&f.function, "function", "", "keep only this function's requests (default: all)")
	fl.StringVar(&f.within, "within", string(virtual.WithinPoisson), "azure2019 arrivals within a minute: poisson, uniform or equidistant")
	fl.IntVar(&f.minutes, "minutes", 0, "use only the trace's first N minutes (0: all)")
	fl.StringArrayVar(&f.sets, "set", nil, "knob=v1,v2,... to sweep (repeatable; variants cross every --set)")
	fl.StringVar(&f.out, "out", "", "directory for plan.csv and plan.svg (default out/plan-<scenario>)")
	fl.Int64Var(&f.seed, "seed", 0, "seed of every random stream (default: the scenario's spec.stack.seed, else 1)")
	_ = cmd.MarkFlagRequired("scenario")
	return cmd
}

// runPlan runs the plan and writes its table to out and its files to f.out.
func runPlan(ctx context.Context, f planFlags, out io.Writer) error {
	ctrllog.SetLogger(logr.Discard())
	s, err := loadScenarioArg(f.scenario)
	if err != nil {
		return &exitError{code: exitBadInput, err: err}
	}
	opts := scenarios.PlanOptions{Seed: f.seed}
	for _, arg := range f.sets {
		sw, err := scenarios.ParseSweep(arg)
		if err != nil {
			return &exitError{code: exitBadInput, err: err}
		}
		opts.Sweeps = append(opts.Sweeps, sw)
	}
	if f.trace != "" {
		opts.Trace, err = virtual.LoadTrace(f.trace, virtual.TraceOptions{Format: virtual.TraceFormat(f.traceFormat),
			Function: f.function, Within: virtual.WithinMinute(f.within), Seed: scenarios.RunOptions{Seed: f.seed}.SeedFor(s),
			Minutes: f.minutes})
		if err != nil {
			return &exitError{code: exitBadInput, err: err}
		}
	}
	rows, err := scenarios.Plan(ctx, s, opts)
	if err != nil {
		return &exitError{code: exitBadInput, err: err}
	}
	dir := f.out
	if dir == "" {
		dir = filepath.Join("out", "plan-"+s.Metadata.Name)
	}
	var csvBuf, svgBuf bytes.Buffer
	if err := scenarios.WritePlanCSV(&csvBuf, rows); err != nil {
		return err
	}
	if err := scenarios.WritePlanSVG(&svgBuf, rows); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, planCSVFile), csvBuf.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, planSVGFile), svgBuf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "plan %s: %d variants in virtual time (seed %d)\n\n", s.Metadata.Name, len(rows), seedOf(s, f.seed))
	if err := scenarios.WritePlanTable(out, rows); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nwrote %s and %s\n", filepath.Join(dir, planCSVFile), filepath.Join(dir, planSVGFile))
	return nil
}
