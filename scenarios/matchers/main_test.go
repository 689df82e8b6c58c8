package matchers

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that the live example leaves no goroutine behind (ginkgo's own interrupt
// handler stays for the process).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/onsi/ginkgo/v2/internal/interrupt_handler.(*InterruptHandler).registerForInterrupts.func2"))
}
