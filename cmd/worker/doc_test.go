package main

import (
	"io"
	"testing"

	"essworker/internal/sharedtest"
)

// TestDocNamesEveryFlag keeps doc.go in step with the command line: every flag
// of the FlagSet, and the environment variable its usage names, beside it.
func TestDocNamesEveryFlag(t *testing.T) {
	t.Parallel()
	var o options
	sharedtest.DocNamesEveryFlag(t, newCommandLine(&o, envOf(nil), io.Discard).fs, true)
}
