package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"essworker/internal/redistest"
)

// A worker with no credentials anywhere exits 1 at start, naming what to set,
// instead of running on and failing every job. The SDK's default chain reads
// the real environment, so the test empties it; the ECS metadata service is
// switched off, so nothing leaves loopback.
func TestWorkerWithoutCredentialsExits(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "ALIBABA_CLOUD_") {
			t.Setenv(name, "") // restores the old value at cleanup
			os.Unsetenv(name)
		}
	}
	t.Setenv("HOME", t.TempDir())
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")

	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run([]string{"--redis-url", rs.URL(0), "--metrics-addr", "127.0.0.1:0", "--ess-endpoint", "http://127.0.0.1:1"},
		envOf(nil), &stdout, &stderr)
	took := time.Since(start)
	if code != 1 {
		t.Fatalf("exit code %d, want 1; stderr:\n%s", code, stderr.String())
	}
	if took > 10*time.Second {
		t.Errorf("the worker took %v to give up, want under 10 s", took)
	}
	for _, name := range []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"} {
		if !strings.Contains(stderr.String(), name) {
			t.Errorf("stderr does not name %s:\n%s", name, stderr.String())
		}
	}
	t.Logf("stderr: %s", stderr.String())
}
