package deploytest

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"essworker/internal/apiserver"
	"essworker/internal/logcapture"
	"essworker/internal/redistest"
	"essworker/internal/worker"
)

// startLiveAPI runs the producer API in the test process on a real Redis,
// submits one job through it, and returns one scrape of its /metrics.
func startLiveAPI(t *testing.T) string {
	t.Helper()
	rs := redistest.Start(t, redistest.Options{})
	logs := &logcapture.Buffer{}
	srv, err := apiserver.New(context.Background(), apiserver.Config{
		Addr: "127.0.0.1:0", RedisURL: rs.URL(0), InsecureNoAuth: true,
	}, worker.NewLogger(logs, "info", "json"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("api Run: %v", err)
		}
	})
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post(srv.URL()+"/v1/detach-jobs", "application/json",
		strings.NewReader(`{"ScalingGroupId":"asg-deploy-1","LoadBalancerIds":["lb-1"]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("submission through the live API: %d", resp.StatusCode)
	}
	resp, err = client.Get(srv.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
