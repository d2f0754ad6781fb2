package workertest

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials/provider"

	"essworker/internal/worker"
)

// readyWithin bounds the wait for a started worker's /readyz.
const readyWithin = 10 * time.Second

// getTimeout bounds one Get.
const getTimeout = 3 * time.Second

// Run runs a worker with cfg and creds, logging to logs at cfg.LogLevel in
// cfg.LogFormat, until the test ends, and returns once it is ready.
func Run(t testing.TB, cfg worker.Config, creds provider.Provider, logs io.Writer) *worker.Worker {
	t.Helper()
	w, err := worker.New(context.Background(), cfg, creds, worker.NewLogger(logs, cfg.LogLevel, cfg.LogFormat))
	if err != nil {
		t.Fatalf("worker.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker Run: %v", err)
		}
	})
	deadline := time.Now().Add(readyWithin)
	for {
		code, _, err := Get("http://" + w.MetricsAddr() + "/readyz")
		if err == nil && code == http.StatusOK {
			return w
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker not ready within %v: status %d, %v", readyWithin, code, err)
		}
		time.Sleep(50 * time.Millisecond) // polling interval
	}
}

// Get fetches url with a short timeout and returns the status and the body.
func Get(url string) (int, string, error) {
	c := http.Client{Timeout: getTimeout}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}
