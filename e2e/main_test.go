package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"

	"essworker/internal/sharedtest"
)

// EnvE2E, set to "1", runs the heavy end-to-end tests.
const EnvE2E = "ESSWORKER_E2E"

// binaries are the product's programs, built once by TestMain.
var binaries struct {
	worker, enqueue, emulator string
}

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() && os.Getenv(EnvE2E) != "1" {
		// Every test here skips: do not spend a build on them.
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "essworker-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	code := buildAndRun(m, dir)
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func buildAndRun(m *testing.M, dir string) int {
	paths, err := sharedtest.BuildBinaries(context.Background(), dir, nil,
		"essworker/cmd/worker", "essworker/cmd/enqueue", "essworker/cmd/ess-emulator")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	binaries.worker, binaries.enqueue, binaries.emulator = paths[0], paths[1], paths[2]
	return m.Run()
}

// light skips t under -short: it starts processes, but is quick enough for
// every `go test ./...`.
func light(t *testing.T) {
	t.Helper()
	if testing.Short() && os.Getenv(EnvE2E) != "1" {
		t.Skip("end-to-end test skipped with -short")
	}
}

// heavy skips t unless ESSWORKER_E2E=1.
func heavy(t *testing.T) {
	t.Helper()
	if os.Getenv(EnvE2E) != "1" {
		t.Skipf("heavy end-to-end test; run it with: %s=1 go test -count=1 -timeout 15m -run '^%s$' -v ./e2e/", EnvE2E, t.Name())
	}
}
