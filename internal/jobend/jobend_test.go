package jobend_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/essclient"
	"essworker/internal/jobend"
	"essworker/tasks"
)

func TestFailure(t *testing.T) {
	t.Parallel()
	code, msg, id := jobend.Failure(&essclient.Error{Action: "DetachLoadBalancers", Code: "Forbidden.RAM", Message: "no", RequestID: "R-1"})
	if code != "Forbidden.RAM" || msg != "no" || id != "R-1" {
		t.Errorf("ESS error: %q %q %q", code, msg, id)
	}
	code, msg, id = jobend.Failure(errors.New("redis: connection refused"))
	if code != "" || msg != "redis: connection refused" || id != "" {
		t.Errorf("other error: %q %q %q", code, msg, id)
	}
}

func TestArchive(t *testing.T) {
	t.Parallel()
	cause := errors.New("scaling group gone")
	err := jobend.Archive(cause)
	if !errors.Is(err, asynq.SkipRetry) || !errors.Is(err, cause) || err.Error() != cause.Error() {
		t.Errorf("Archive(%v) = %v: want SkipRetry and the cause, with the cause's text", cause, err)
	}
}

func TestSinceEnqueue(t *testing.T) {
	t.Parallel()
	at := time.Now().Add(-time.Minute)
	task := asynq.NewTaskWithHeaders(tasks.TypeDetachLoadBalancers, nil, map[string]string{tasks.HeaderEnqueuedAt: strconv.FormatInt(at.UnixNano(), 10)})
	if d := jobend.SinceEnqueue(task); d < time.Minute || d > time.Minute+10*time.Second {
		t.Errorf("SinceEnqueue = %v, want about a minute", d)
	}
	if d := jobend.SinceEnqueue(asynq.NewTask(tasks.TypeDetachLoadBalancers, nil)); d >= 0 {
		t.Errorf("SinceEnqueue without the header = %v, want negative", d)
	}
}
