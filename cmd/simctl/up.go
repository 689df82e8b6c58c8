package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/servingsim/servingsim/harness"
)

func newUpCommand() *cobra.Command {
	var kubeconfig string
	var seed int64
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the whole stack and keep it running until interrupted",
		Long: `up starts a real kube-apiserver and etcd with Knative's CRDs, the admission webhook, every
reconciler, the pod runtime and the gateway, writes a kubeconfig for kubectl and runs until
Ctrl-C, which stops everything and removes etcd's and the API server's temporary directories.`,
		Example: `  simctl up --kubeconfig /tmp/servingsim.kubeconfig &
  export KUBECONFIG=/tmp/servingsim.kubeconfig
  kubectl apply -f hello.yaml && kubectl get ksvc`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			out := cmd.OutOrStdout()
			st, err := startStack(ctx, seed)
			if err != nil {
				return &exitError{code: exitBadInput, err: err}
			}
			if err := writeKubeconfig(st, kubeconfig); err != nil {
				_ = st.Stop()
				return &exitError{code: exitBadInput, err: err}
			}
			abs, _ := filepath.Abs(kubeconfig)
			fmt.Fprintf(out, "servingsim is up (seed %d)\n  kubeconfig: %s\n  gateway:    %s (external hosts), %s (cluster-local hosts)\n  autoscaler: http://%s/metrics\n"+
				"  try:        KUBECONFIG=%s kubectl get ksvc -A\n              curl -H 'Host: <name>.<namespace>.%s' http://%s/\nPress Ctrl-C to stop.\n",
				seed, abs, st.System.GatewayAddress(), st.System.InternalGatewayAddress(), st.System.AutoscalerMetricsAddress(), abs, harness.DefaultDomain, st.System.GatewayAddress())
			<-ctx.Done()
			fmt.Fprintln(out, "stopping...")
			if err := st.Stop(); err != nil {
				return &exitError{code: exitBadInput, err: err}
			}
			fmt.Fprintln(out, "stopped")
			return nil
		},
	}
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "servingsim.kubeconfig", "where to write the kubeconfig")
	cmd.Flags().Int64Var(&seed, "seed", 1, "seed of every random stream")
	return cmd
}

func startStack(ctx context.Context, seed int64) (*harness.Stack, error) {
	opts := harness.Options{}
	opts.System.Seed = seed
	return harness.Start(ctx, opts)
}

func writeKubeconfig(st *harness.Stack, path string) error {
	if err := st.WriteKubeconfig(path); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return nil
}
