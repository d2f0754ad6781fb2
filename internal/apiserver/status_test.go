package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/tasks"
)

// jobOf decodes a GET answer, after checking its status.
func (r answer) jobOf(t testing.TB) map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("answer %d %s; want 200", r.status, r.body)
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer %s: %v", r.body, err)
	}
	return m
}

func TestStatusPendingAndWaitEnds(t *testing.T) {
	t.Parallel()
	a := startAPI(t, "", nil)
	a.do(t, "POST", "/v1/detach-jobs?queue=work", tokenCI, oneJob).jobs(t, http.StatusAccepted)
	got := a.do(t, "GET", "/v1/detach-jobs/req-1", tokenBot, "").jobOf(t)
	want := map[string]any{"task_id": "detach:req-1", "client_token": "req-1", "queue": "work", "state": "pending"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pending job %v, want %v", got, want)
	}
	began := time.Now()
	got = a.do(t, "GET", "/v1/detach-jobs/req-1?wait=300ms", tokenBot, "").jobOf(t)
	if waited := time.Since(began); got["state"] != "pending" || waited < 300*time.Millisecond {
		t.Fatalf("after a wait of %v: %v; want the pending job after at least 300ms", waited, got)
	}

	// A worker that completes the job with a result while a GET waits.
	entered, release := make(chan struct{}), make(chan struct{})
	srv := asynq.NewServer(asynq.RedisClientOpt{Addr: a.redis.Addr}, asynq.Config{
		Queues: map[string]int{"work": 1}, Concurrency: 1, LogLevel: asynq.FatalLevel,
		RetryDelayFunc:           func(int, error, *asynq.Task) time.Duration { return 0 },
		DelayedTaskCheckInterval: 50 * time.Millisecond,
	})
	mux := asynq.NewServeMux()
	attempts := 0
	mux.HandleFunc(tasks.TypeDetachLoadBalancers, func(ctx context.Context, task *asynq.Task) error {
		if attempts++; attempts == 1 {
			return errors.New("first attempt fails")
		}
		close(entered)
		<-release
		res, _ := json.Marshal(tasks.DetachResult{Outcome: tasks.OutcomeDetached, ClientToken: "req-1", Async: true, Attempts: 1})
		_, err := task.ResultWriter().Write(res)
		return err
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	<-entered
	done := make(chan answer, 1)
	began = time.Now()
	go func() { done <- a.do(t, "GET", "/v1/detach-jobs/req-1?wait=20s", tokenCI, "") }()
	close(release)
	got = (<-done).jobOf(t)
	if waited := time.Since(began); waited > 10*time.Second {
		t.Errorf("the wait answered after %v, not at the job's end", waited)
	}
	result, _ := got["result"].(map[string]any)
	if got["state"] != "completed" || result["Outcome"] != "detached" || got["error"] != nil {
		t.Fatalf("waited job %v; want completed with its result and no error", got)
	}
}

// TestStatusArchivedCarriesError: an archived job answers its last error.
func TestStatusArchivedCarriesError(t *testing.T) {
	t.Parallel()
	a := startAPI(t, "", nil)
	a.do(t, "POST", "/v1/detach-jobs?queue=fail", tokenCI, oneJob).jobs(t, http.StatusAccepted)
	srv := asynq.NewServer(asynq.RedisClientOpt{Addr: a.redis.Addr}, asynq.Config{
		Queues: map[string]int{"fail": 1}, Concurrency: 1, LogLevel: asynq.FatalLevel,
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(tasks.TypeDetachLoadBalancers, func(ctx context.Context, task *asynq.Task) error {
		return asynq.SkipRetry
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	got := a.do(t, "GET", "/v1/detach-jobs/req-1?wait=20s", tokenCI, "").jobOf(t)
	if got["state"] != "archived" || got["error"] == nil || got["result"] != nil {
		t.Fatalf("archived job %v; want its error and no result", got)
	}
}
