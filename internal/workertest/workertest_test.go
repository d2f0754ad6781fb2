package workertest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"essworker/essclient/esstest"
	"essworker/internal/logcapture"
	"essworker/internal/redistest"
	"essworker/internal/worker"
	"essworker/internal/workertest"
)

// TestRunIsReadyAndLogs runs a worker and checks that it is ready when Run
// returns, that Get reaches its endpoints, and that it logs to the writer given.
func TestRunIsReadyAndLogs(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t, redistest.Options{})
	emu := esstest.NewServer(esstest.Config{})
	t.Cleanup(emu.Close)
	logs := &logcapture.Buffer{}
	cfg := worker.Config{
		RedisURL: rs.URL(0), ESSEndpoint: emu.URL, MetricsAddr: "127.0.0.1:0",
		ShutdownTimeout: 5 * time.Second, LogLevel: "info", LogFormat: "json",
	}
	w := workertest.Run(t, cfg, emu.Credentials(), logs)
	for _, path := range []string{"/readyz", "/healthz", "/metrics"} {
		code, body, err := workertest.Get("http://" + w.MetricsAddr() + path)
		if err != nil || code != http.StatusOK {
			t.Errorf("GET %s: status %d, %v", path, code, err)
		}
		if path == "/metrics" && !strings.Contains(body, "essworker_jobs_total") {
			t.Errorf("/metrics lacks essworker_jobs_total")
		}
	}
	if !strings.Contains(logs.String(), `"msg":"worker started"`) {
		t.Errorf("no JSON start line in the log:\n%s", logs.String())
	}
}
