package harness_test

import "github.com/servingsim/servingsim/harness"

func benchOptions() harness.Options {
	return harness.Options{}
}
