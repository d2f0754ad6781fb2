package main

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"essworker/internal/redistest"
	"essworker/tasks"
)

// failGroup is the scaling group whose jobs the test handler fails.
const failGroup = "asg-fail"

// startTestWorker runs an asynq server on s with a stand-in for the real
// handler: it writes a tasks.DetachResult and completes the job, or, for
// failGroup, writes one and archives the job (asynq.SkipRetry).
func startTestWorker(t *testing.T, s *redistest.Server) {
	t.Helper()
	srv := asynq.NewServer(asynq.RedisClientOpt{Addr: s.Addr}, asynq.Config{
		Concurrency: 2,
		Queues:      map[string]int{tasks.DefaultQueue: 1},
		LogLevel:    asynq.FatalLevel,
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(tasks.TypeDetachLoadBalancers, func(ctx context.Context, task *asynq.Task) error {
		p, err := tasks.DecodeDetachPayload(task.Payload())
		if err != nil {
			return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
		}
		res := tasks.DetachResult{
			Outcome: tasks.OutcomeDetached, ClientToken: p.ClientToken, ScalingGroupId: p.ScalingGroupId,
			LoadBalancerIds: p.LoadBalancerIds, RequestIds: []string{"req-" + p.ClientToken}, Attempts: 1,
		}
		if p.ScalingGroupId == failGroup {
			res.Outcome, res.ErrorCode, res.ErrorMessage = tasks.OutcomeFailed, "Forbidden.Unauthorized", "not allowed"
		}
		b, err := json.Marshal(res)
		if err != nil {
			return err
		}
		if _, err := task.ResultWriter().Write(b); err != nil {
			return err
		}
		if p.ScalingGroupId == failGroup {
			return fmt.Errorf("detach refused: Forbidden.Unauthorized: %w", asynq.SkipRetry)
		}
		return nil
	})
	if err := srv.Start(mux); err != nil {
		t.Fatalf("start asynq server: %v", err)
	}
	t.Cleanup(srv.Shutdown)
}

func TestWait(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{})
	startTestWorker(t, s)

	t.Run("completed", func(t *testing.T) {
		t.Parallel()
		r := runCmd(t, s.URL(0), "", "--group", "asg-ok", "--lb", "lb-1,lb-2,lb-3,lb-4,lb-5,lb-6",
			"--token", "wait-ok", "--wait", "--wait-timeout", "20s")
		r.wantCode(t, 0)
		lines := r.lines(t)
		if len(lines) != 4 {
			t.Fatalf("got %d lines, want 2 enqueued and 2 final:\n%s", len(lines), r.stdout)
		}
		final := map[string]map[string]any{}
		for _, l := range lines[2:] {
			final[l["task_id"].(string)] = l
		}
		for i, l := range lines[:2] {
			token := tasks.ChunkToken("wait-ok", i)
			if l["state"] != "enqueued" || l["client_token"] != token {
				t.Errorf("line %d = %v; want enqueued with token %s", i, l, token)
			}
			f, ok := final[tasks.TaskID(token)]
			if !ok {
				t.Fatalf("no final line for %s:\n%s", tasks.TaskID(token), r.stdout)
			}
			if f["state"] != "completed" {
				t.Errorf("final line %v: want state completed", f)
			}
			if _, has := f["error"]; has {
				t.Errorf("final line %v: want no error", f)
			}
			res := decodeResult(t, f)
			if res.Outcome != tasks.OutcomeDetached || res.ClientToken != token || res.ScalingGroupId != "asg-ok" {
				t.Errorf("result %+v: want outcome detached for token %s", res, token)
			}
		}
	})

	t.Run("archived", func(t *testing.T) {
		t.Parallel()
		r := runCmd(t, s.URL(0), "", "--group", failGroup, "--lb", "lb-9", "--token", "wait-fail",
			"--wait", "--wait-timeout", "20s")
		r.wantCode(t, 1)
		lines := r.lines(t)
		if len(lines) != 2 || lines[0]["state"] != "enqueued" {
			t.Fatalf("got %v, want an enqueued line and a final line", lines)
		}
		f := lines[1]
		if f["task_id"] != "detach:wait-fail" || f["state"] != "archived" {
			t.Fatalf("final line %v: want task detach:wait-fail archived", f)
		}
		if msg, _ := f["error"].(string); !strings.Contains(msg, "detach refused: Forbidden.Unauthorized") {
			t.Errorf("final line error %q: want the job's last error", msg)
		}
		res := decodeResult(t, f)
		want := tasks.DetachResult{Outcome: tasks.OutcomeFailed, ClientToken: "wait-fail", ScalingGroupId: failGroup,
			LoadBalancerIds: []string{"lb-9"}, ErrorCode: "Forbidden.Unauthorized", ErrorMessage: "not allowed",
			RequestIds: []string{"req-wait-fail"}, Attempts: 1}
		if !reflect.DeepEqual(res, want) {
			t.Errorf("result %+v, want %+v", res, want)
		}
	})
}

func TestWaitTimesOut(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{}) // no worker: the job stays pending
	r := runCmd(t, s.URL(0), "", "--group", "asg-1", "--lb", "lb-1", "--token", "wait-slow",
		"--wait", "--wait-timeout", "1s")
	r.wantCode(t, 1)
	lines := r.lines(t)
	want := map[string]any{"task_id": "detach:wait-slow", "state": "pending", "error": "wait timed out"}
	if len(lines) != 2 || lines[0]["state"] != "enqueued" || !reflect.DeepEqual(lines[1], want) {
		t.Fatalf("got %v, want an enqueued line, then %v", lines, want)
	}
}

// decodeResult reads the result object of a final line.
func decodeResult(t *testing.T, line map[string]any) tasks.DetachResult {
	t.Helper()
	obj, ok := line["result"].(map[string]any)
	if !ok {
		t.Fatalf("final line %v: result is not a JSON object", line)
	}
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tasks.DecodeDetachResult(b)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
