package harness_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/servingsim/servingsim/harness"
)

// One stack for the suite, a fresh namespace per spec (style.md: kubebuilder suite_test).
var (
	stack    *harness.Stack
	suiteCtx context.Context
)

func TestControlPlane(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "servingsim control plane (real kube-apiserver)")
}

var _ = BeforeSuite(func() {
	suiteCtx = context.Background()
	opts := harness.Options{}
	opts.System.Seed = GinkgoRandomSeed()
	var err error
	stack, err = harness.Start(suiteCtx, opts)
	Expect(err).NotTo(HaveOccurred(), "start stack (seed %d)", GinkgoRandomSeed())
	SetDefaultEventuallyTimeout(60 * time.Second)
	SetDefaultEventuallyPollingInterval(50 * time.Millisecond)
})

var _ = AfterSuite(func() {
	if stack != nil {
		Expect(stack.Stop()).To(Succeed())
	}
})

var _ = ReportAfterSuite("seed", func(r Report) {
	if !r.SuiteSucceeded {
		fmt.Printf("servingsim seed for this run: %d (rerun with --ginkgo.seed=%d)\n", r.SuiteConfig.RandomSeed, r.SuiteConfig.RandomSeed)
	}
})

func newNamespace() string {
	ns, err := stack.NewNamespace(suiteCtx, "spec")
	Expect(err).NotTo(HaveOccurred())
	return ns
}
