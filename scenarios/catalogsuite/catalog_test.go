package catalogsuite_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/servingsim/servingsim/harness"
	"github.com/servingsim/servingsim/reports"
	"github.com/servingsim/servingsim/scenarios"
	"github.com/servingsim/servingsim/scenarios/matchers"
)

// OutEnv names a directory to write each scenario's run directory into (CI artifacts).
const OutEnv = "SERVINGSIM_CATALOG_OUT"

func TestCatalog(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every catalog scenario live")
	}
	ctrllog.SetLogger(logr.Discard()) // components log through their stack's logger
	RegisterFailHandler(Fail)
	RunSpecs(t, "servingsim scenario catalog (live)")
}

var _ = Describe("The scenario catalog", func() {
	all, err := scenarios.Catalog()
	It("loads", func() { Expect(err).NotTo(HaveOccurred()) })
	for _, s := range all {
		// A run stops by itself (duration + request timeout + grace); the spec timeout adds stack start-up.
		timeout := s.Duration() + scenarios.RequestTimeout + 3*time.Minute
		It(s.Metadata.Name+": "+firstLine(s.Metadata.Description), Label(labels(s)...), NodeTimeout(timeout), func(ctx SpecContext) {
			opts := scenarios.RunOptions{Progress: GinkgoWriter}
			if len(scenarios.OwnStackSettings(s)) == 0 {
				var err error
				opts.Stack, err = sharedStack(ctx)
				Expect(err).NotTo(HaveOccurred(), "start the shared stack")
			}
			start := time.Now()
			run, err := scenarios.Run(ctx, s, opts)
			AddReportEntry("run time", time.Since(start).Round(100*time.Millisecond).String())
			if dir := os.Getenv(OutEnv); dir != "" {
				Expect(reports.WriteDir(filepath.Join(dir, s.Metadata.Name), run)).To(Succeed())
			}
			Expect(err).NotTo(HaveOccurred(), "%s could not run (seed %d)", s.Metadata.Name, run.Seed)
			Expect(run).To(matchers.Pass())
		})
	}
})

// shared is the stack the scenarios without stack settings of their own share (Run applies and
// restores their config overrides and deletes their objects), started by the first that needs it:
// one API server start instead of one each.
var shared struct {
	once sync.Once
	st   *harness.Stack
	err  error
}

func sharedStack(ctx context.Context) (*harness.Stack, error) {
	shared.once.Do(func() {
		opts := harness.Options{}
		opts.System.Seed = scenarios.DefaultSeed
		shared.st, shared.err = harness.Start(ctx, opts)
	})
	return shared.st, shared.err
}

var _ = AfterSuite(func() {
	if shared.st != nil {
		Expect(shared.st.Stop()).To(Succeed())
	}
})

// labels turns metadata.labels into ginkgo label sets, KEY:VALUE.
func labels(s *scenarios.Scenario) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(s.Metadata.Labels)) {
		out = append(out, fmt.Sprintf("%s:%s", k, s.Metadata.Labels[k]))
	}
	return out
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
