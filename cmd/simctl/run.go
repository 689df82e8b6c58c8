package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/servingsim/servingsim/harness"
	"github.com/servingsim/servingsim/scenarios"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
)

func newRunCommand() *cobra.Command {
	var seed int64
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the embedded quickstart: Knative's hello-world Service from create to Ready",
		Long: `run starts the stack, applies Knative's hello-world Service (bundled in the catalog) in a
fresh namespace, waits until it is Ready, prints it as 'kubectl get ksvc' would, and stops.
Exit code 0 when the Service became Ready, 1 when it did not, 2 when the stack failed.`,
		Example: "  simctl run\n  simctl run --seed 7 --timeout 1m",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runQuickstart(ctx, cmd.OutOrStdout(), seed, timeout)
		},
	}
	cmd.Flags().Int64Var(&seed, "seed", 1, "seed of every random stream")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "how long the Service may take to become Ready")
	return cmd
}

func runQuickstart(ctx context.Context, out io.Writer, seed int64, timeout time.Duration) error {
	start := time.Now()
	fmt.Fprintf(out, "starting servingsim (seed %d)...\n", seed)
	st, err := startStack(ctx, seed)
	if err != nil {
		return &exitError{code: exitBadInput, err: err}
	}
	defer func() { _ = st.Stop() }()
	fmt.Fprintf(out, "stack up in %s\n", time.Since(start).Round(time.Millisecond))

	data, err := scenarios.CatalogFile("hello.yaml")
	if err != nil {
		return &exitError{code: exitBadInput, err: err}
	}
	objs, err := harness.DecodeYAML("catalog/hello.yaml", data)
	if err != nil {
		return &exitError{code: exitBadInput, err: err}
	}
	ns, err := st.NewNamespace(ctx, "quickstart")
	if err != nil {
		return &exitError{code: exitBadInput, err: err}
	}
	created := time.Now()
	if err := st.Apply(ctx, ns, objs...); err != nil {
		return &exitError{code: exitBadInput, err: err}
	}
	ksvc := &servingv1.Service{}
	ksvc.Namespace, ksvc.Name = ns, objs[0].GetName()
	if err := st.WaitReady(ctx, ksvc, timeout); err != nil {
		return &exitError{code: exitExpectation, err: err}
	}
	fmt.Fprintf(out, "service %s/%s Ready %s after create\n\n", ns, ksvc.Name, time.Since(created).Round(time.Millisecond))
	printServices(out, ksvc)
	return nil
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
