package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/servingsim/servingsim/harness/cluster"
)

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print simctl's version and the Kubernetes and etcd versions it runs",
		Example: "  simctl version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := "(devel)"
			if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
				v = bi.Main.Version
			}
			fmt.Fprintf(cmd.OutOrStdout(), "simctl %s\nkube-apiserver v%s, etcd v%s (built from source by hack/envtest-assets.sh)\n",
				v, cluster.KubernetesVersion, cluster.EtcdVersion)
			return nil
		},
	}
}
