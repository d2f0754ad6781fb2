package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"essworker/internal/sharedtest"
)

// submissions is n submissions of one job each, tokens prefix-0 to prefix-(n-1).
func submissions(prefix string, n int) []string {
	bodies := make([]string, n)
	for i := range bodies {
		bodies[i] = fmt.Sprintf(`{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"],"ClientToken":"%s-%d"}`, prefix, i)
	}
	return bodies
}

// postAll sends every body at once from its own goroutine and returns the
// answers in the order of bodies.
func postAll(t *testing.T, a *testAPI, bodies []string) []answer {
	t.Helper()
	answers := make([]chan answer, len(bodies))
	for i, body := range bodies {
		answers[i] = make(chan answer, 1)
		go func() { answers[i] <- a.do(t, "POST", "/v1/detach-jobs", tokenCI, body) }()
	}
	out := make([]answer, len(bodies))
	for i := range answers {
		out[i] = <-answers[i]
	}
	return out
}

// TestConcurrentSubmissionsRedisRefuses: submissions sent together while
// Redis refuses writes all answer 503 and queue nothing; sent again once it
// writes, they are queued.
func TestConcurrentSubmissionsRedisRefuses(t *testing.T) {
	t.Parallel()
	a := startAPI(t, "", nil)
	a.redis.RequireReal(t)
	rdb := a.redis.Client(t)
	ctx := context.Background()
	// Over maxmemory, Redis refuses every write and still answers reads.
	if err := rdb.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	bodies := submissions("refused", 12)
	for _, r := range postAll(t, a, bodies) {
		r.wantError(t, http.StatusServiceUnavailable, codeServiceUnavailable, "")
	}
	if err := rdb.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	if n := a.totalTasks(t); n != 0 {
		t.Fatalf("%d tasks queued by refused submissions, want 0", n)
	}
	for _, r := range postAll(t, a, bodies) {
		r.jobs(t, http.StatusAccepted)
	}
	if n := a.totalTasks(t); n != len(bodies) {
		t.Fatalf("%d tasks queued, want %d", n, len(bodies))
	}
}

// TestShutdownFinishesBatchInFlight: submissions waiting on a round trip to
// Redis when shutdown begins (SIGTERM in cmd/api) are answered 202 once it
// ends, their jobs queued, and Run returns nil.
func TestShutdownFinishesBatchInFlight(t *testing.T) {
	t.Parallel()
	a := startAPI(t, "", nil)
	a.redis.RequireReal(t)
	other := a.runOwn(t, nil)
	// Redis holds every write for a while: the first round trip stays in
	// flight and the other submissions queue behind it.
	rdb := a.redis.Client(t)
	if err := rdb.Do(context.Background(), "CLIENT", "PAUSE", "1500", "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	bodies := submissions("shutdown", 8)
	answered := make(chan []answer, 1)
	go func() { answered <- postAll(t, other.testAPI, bodies) }()
	sharedtest.WaitFor(t, "every submission in flight", 10*time.Second, func() (bool, string) {
		n := other.metrics.inFlight()
		return int(n) == len(bodies), fmt.Sprint(n, " in flight")
	})
	other.cancel()
	for _, r := range <-answered {
		r.jobs(t, http.StatusAccepted)
	}
	other.wait(t)
	if n := a.totalTasks(t); n != len(bodies) {
		t.Fatalf("%d tasks queued, want %d", n, len(bodies))
	}
}
