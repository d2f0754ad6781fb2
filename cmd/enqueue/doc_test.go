package main

import (
	"testing"

	"essworker/internal/sharedtest"
)

// TestDocNamesEveryFlag keeps doc.go in step with the command line: every flag
// of the FlagSet, and the environment variable its usage names if any.
func TestDocNamesEveryFlag(t *testing.T) {
	t.Parallel()
	fs := newFlagSet(&options{given: map[string]bool{}}, func(string) (string, bool) { return "", false })
	sharedtest.DocNamesEveryFlag(t, fs, false)
}
