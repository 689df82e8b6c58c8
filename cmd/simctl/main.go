// Command simctl drives servingsim: Knative Serving re-implemented in one Go process.
package main

import (
	"errors"
	"fmt"
	"os"
)

// Exit codes shared by every subcommand.
const (
	exitOK          = 0
	exitExpectation = 1 // an expectation failed
	exitBadInput    = 2 // bad input, or the stack failed
)

// exitError carries an exit code out of a cobra command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "simctl:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(exitBadInput)
	}
	os.Exit(exitOK)
}
