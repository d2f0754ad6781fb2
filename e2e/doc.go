// Package e2e holds the multi-process reliability tests of essworker: the real
// worker, enqueue and ess-emulator binaries, built once per test run, against a
// real redis-server (and redis-sentinel), all on 127.0.0.1.
//
// The package has no non-test code. Its tests kill workers with SIGKILL, stop
// them with SIGTERM, restart Redis, fail over a Sentinel-managed Redis and
// inject ESS faults, and check each time that every job reaches its right final
// state and that the emulator applied every detach exactly once.
//
// TestCrashedWorkerHandsOverPollingJob and TestLatePollDoesNotSlowTheGroup run
// in every `go test ./...` (they are skipped with -short). The heavy tests run
// only with ESSWORKER_E2E=1:
//
//	ESSWORKER_E2E=1 go test -count=1 -timeout 15m -v ./e2e/
//
// Each test ends with a "summary:" log line carrying its figures (jobs, kills,
// faults injected by kind, lost, applied twice); docs/RELIABILITY.md reports the
// last run.
package e2e
