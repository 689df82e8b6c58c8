package main

import (
	"github.com/spf13/cobra"
)

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "simctl",
		Short: "Run Knative Serving in one process, for testing and simulation",
		Long: `simctl runs servingsim: Knative Serving's control plane (real kube-apiserver and etcd,
Knative's CRDs, reconcilers and admission webhook) with simulated pods, in one process.`,
		Example: `  simctl up                      # start the stack; use kubectl against it
  simctl run                     # run the embedded quickstart
  simctl version`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newUpCommand(), newRunCommand(), newVersionCommand(), newDecideCommand())
	root.AddCommand(newValidateCommand())
	root.AddCommand(newListCommand())
	root.AddCommand(newReportCommand())
	root.AddCommand(newCompareCommand())
	root.AddCommand(newPlanCommand())
	root.AddCommand(newReplayCommand())
	return root
}
