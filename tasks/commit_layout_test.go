package tasks

import (
	"context"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/internal/redistest"
	"essworker/internal/sharedtest"
)

// TestCommitLayoutMatchesAsynq pins the task layout commitScript writes by
// hand against asynq itself: a job queued by the Producer and its twin queued
// by asynq's Client (the same task of NewDetachLoadBalancersTask) read back
// the same through asynq's Inspector, pending and scheduled, and the message
// is asynq's encoding byte for byte.
func TestCommitLayoutMatchesAsynq(t *testing.T) {
	t.Parallel()
	p, client, insp := newTestProducer(t)
	ctx := context.Background()
	later, err := ScheduleIn(time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		sched Schedule
		state asynq.TaskState
	}{
		{"pending", Schedule{}, asynq.TaskStatePending},
		{"scheduled", later, asynq.TaskStateScheduled},
	} {
		req := contractPayload()
		req.ClientToken = "layout-" + tc.name
		res, err := p.EnqueueAt(ctx, "ours", tc.sched, req)
		if err != nil {
			t.Fatal(err)
		}
		wantState := map[asynq.TaskState]string{asynq.TaskStatePending: StateEnqueued, asynq.TaskStateScheduled: StateScheduled}[tc.state]
		if len(res) != 1 || res[0].State != wantState {
			t.Fatalf("%s: results %+v, want one job %s", tc.name, res, wantState)
		}
		twin, err := NewDetachLoadBalancersTask(req, append([]asynq.Option{asynq.Queue("theirs")}, tc.sched.options()...)...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Enqueue(twin); err != nil {
			t.Fatal(err)
		}
		ours, err := insp.GetTaskInfo("ours", TaskID(req.ClientToken))
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := insp.GetTaskInfo("theirs", TaskID(req.ClientToken))
		if err != nil {
			t.Fatal(err)
		}
		if ours.State != tc.state || theirs.State != tc.state {
			t.Fatalf("%s: states %v (ours) and %v (asynq's), want %v", tc.name, ours.State, theirs.State, tc.state)
		}
		if tc.state == asynq.TaskStateScheduled && !ours.NextProcessAt.Equal(tc.sched.Time()) {
			t.Errorf("%s: next process time %v, want %v", tc.name, ours.NextProcessAt, tc.sched.Time())
		}
		// Times taken at enqueue differ by how far apart the two enqueues
		// ran; the rest must be equal.
		for _, info := range []*asynq.TaskInfo{ours, theirs} {
			at, err := strconv.ParseInt(info.Headers[HeaderEnqueuedAt], 10, 64)
			if err != nil {
				t.Fatalf("%s: header %s: %v", tc.name, HeaderEnqueuedAt, err)
			}
			if d := time.Unix(0, at).Sub(info.NextProcessAt); d < -time.Second || d > 10*time.Second {
				t.Errorf("%s: header %s %v, %v from the next process time %v", tc.name, HeaderEnqueuedAt, time.Unix(0, at), d, info.NextProcessAt)
			}
			info.Queue, info.NextProcessAt, info.Headers[HeaderEnqueuedAt] = "", time.Time{}, ""
		}
		if !reflect.DeepEqual(ours, theirs) {
			t.Errorf("%s: the Inspector reads\n%+v\nfrom the Producer's task, and\n%+v\nfrom asynq's", tc.name, ours, theirs)
		}
		if ours.MaxRetry != DefaultMaxRetry || ours.Retention != DefaultRetention || ours.Timeout != asynqDefaultTimeout || ours.Type != TypeDetachLoadBalancers {
			t.Errorf("%s: task %+v lacks the contract's defaults", tc.name, ours)
		}

		stored, err := p.rdb.HGet(ctx, asynqKey("theirs", "t:"+TaskID(req.ClientToken)), "msg").Bytes()
		if err != nil {
			t.Fatal(err)
		}
		hdr, err := strconv.ParseInt(twin.Headers()[HeaderEnqueuedAt], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		mine := taskMessage{typ: twin.Type(), payload: twin.Payload(), id: TaskID(req.ClientToken), queue: "theirs", readyAt: time.Unix(0, hdr)}.encode()
		if !slices.Equal(mine, stored) {
			t.Errorf("%s: encoded message\n%x\nasynq's\n%x", tc.name, mine, stored)
		}
		typ, payload, err := decodeTypeAndPayload(stored)
		if err != nil || typ != twin.Type() || !slices.Equal(payload, twin.Payload()) {
			t.Errorf("%s: asynq's message decodes to %q, %s, %v", tc.name, typ, payload, err)
		}
	}
	for _, list := range []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){insp.ListPendingTasks, insp.ListScheduledTasks} {
		tasks, err := list("ours")
		if err != nil {
			t.Fatal(err)
		}
		if len(tasks) != 1 {
			t.Errorf("the Inspector lists %d tasks, want 1 pending and 1 scheduled", len(tasks))
		}
	}
}

// TestCommittedTasksRun: jobs the Producer writes itself, pending and
// scheduled, are run by a real asynq server with their payloads, the
// scheduled one no earlier than its time, and are kept completed.
func TestCommittedTasksRun(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	rdb := srv.Client(t)
	p := NewProducer(rdb)
	opt := asynq.RedisClientOpt{Addr: srv.Addr}
	type run struct {
		p  DetachPayload
		at time.Time
	}
	ran := make(chan run, 4)
	server := asynq.NewServer(opt, asynq.Config{
		Queues:                   map[string]int{"run": 1},
		Concurrency:              2,
		LogLevel:                 asynq.FatalLevel,
		DelayedTaskCheckInterval: 100 * time.Millisecond,
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeDetachLoadBalancers, func(ctx context.Context, task *asynq.Task) error {
		d, err := DecodeDetachPayload(task.Payload())
		if err != nil {
			return err
		}
		ran <- run{d, time.Now()}
		return nil
	})
	if err := server.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(server.Shutdown)

	now := req("run-now")
	soon := req("run-soon")
	sched, err := ScheduleIn(time.Second, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.Enqueue(ctx, "run", now); err != nil {
		t.Fatal(err)
	}
	if _, err := p.EnqueueAt(ctx, "run", sched, soon); err != nil {
		t.Fatal(err)
	}
	got := map[string]run{}
	sharedtest.WaitFor(t, "both jobs run", 20*time.Second, func() (bool, string) {
		for len(ran) > 0 {
			r := <-ran
			got[r.p.ClientToken] = r
		}
		return len(got) == 2, strconv.Itoa(len(got)) + " ran"
	})
	if !SameRequest(got[now.ClientToken].p, now) || !SameRequest(got[soon.ClientToken].p, soon) {
		t.Errorf("ran %+v, want %+v and %+v", got, now, soon)
	}
	if at := got[soon.ClientToken].at; at.Before(sched.Time()) {
		t.Errorf("the scheduled job ran at %v, before its time %v", at, sched.Time())
	}
	insp := p.Inspector()
	sharedtest.WaitFor(t, "both jobs completed", 20*time.Second, func() (bool, string) {
		for _, r := range []DetachPayload{now, soon} {
			info, err := insp.GetTaskInfo("run", TaskID(r.ClientToken))
			if err != nil {
				return false, err.Error()
			}
			if info.State != asynq.TaskStateCompleted {
				return false, r.ClientToken + " " + info.State.String()
			}
		}
		return true, ""
	})
}

// req is the contract's payload with token.
func req(token string) DetachPayload {
	p := contractPayload()
	p.ClientToken = token
	return p
}
