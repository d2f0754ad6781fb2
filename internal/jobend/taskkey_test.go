package jobend_test

import (
	"context"
	"testing"

	"github.com/hibiken/asynq"

	"essworker/internal/jobend"
	"essworker/internal/redistest"
)

// TestTaskKeyIsAsynqs writes a result at TaskKey's ResultField and reads it
// back through asynq's Inspector, for tasks asynq itself enqueued in two
// queues.
func TestTaskKeyIsAsynqs(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t, redistest.Options{})
	opt := asynq.RedisClientOpt{Addr: rs.Addr}
	client, insp := asynq.NewClient(opt), asynq.NewInspector(opt)
	t.Cleanup(func() { client.Close(); insp.Close() })
	rdb := rs.Client(t)
	ctx := context.Background()
	for _, q := range []string{"alpha", "beta"} {
		id := "detach:in-" + q
		if _, err := client.Enqueue(asynq.NewTask("x", nil), asynq.TaskID(id), asynq.Queue(q)); err != nil {
			t.Fatal(err)
		}
		want := `{"Outcome":"detached","Queue":"` + q + `"}`
		if err := rdb.HSet(ctx, jobend.TaskKey(q, id), jobend.ResultField, want).Err(); err != nil {
			t.Fatal(err)
		}
		info, err := insp.GetTaskInfo(q, id)
		if err != nil {
			t.Fatal(err)
		}
		if string(info.Result) != want {
			t.Errorf("queue %s: TaskInfo.Result = %q, want %q", q, info.Result, want)
		}
	}
}
