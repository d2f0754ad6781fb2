package main

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"essworker/tasks"
)

// maxWaiters bounds how many jobs --wait watches at once, and so the load it
// puts on Redis: each watched job is looked at every tasks.DefaultWaitPoll.
const maxWaiters = 32

// stateUnknown is a final line's state when the job could not be read.
const stateUnknown = "unknown"

// errWaitTimedOut is the cause of the wait's context when --wait-timeout ends
// it, and the error text of the lines it prints then.
var errWaitTimedOut = errors.New("wait timed out")

// waitBudget is how long --wait waits: timeout, counted from the later of now
// and the jobs' scheduled time.
func waitBudget(timeout time.Duration, s tasks.Schedule, now time.Time) time.Duration {
	if at := s.Time(); at.After(now) {
		return at.Sub(now) + timeout
	}
	return timeout
}

// waitAll waits for every job to end, all within timeout, and prints each
// job's final line as soon as the job is seen to end. Up to maxWaiters jobs
// are watched at once, taken in the order they were queued, so lines come in
// the order jobs end among those watched. When the timeout passes (or ctx
// ends), each job not yet ended is looked at once more and printed with its
// state then. It reports whether every job completed.
func waitAll(ctx context.Context, insp *asynq.Inspector, jobs []tasks.EnqueueResult, timeout time.Duration, out *output) bool {
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errWaitTimedOut)
	defer cancel()
	todo := make(chan tasks.EnqueueResult)
	done := make(chan finalLine)
	var wg sync.WaitGroup
	for range min(len(jobs), maxWaiters) {
		wg.Go(func() {
			for job := range todo {
				done <- waitOne(ctx, insp, job)
			}
		})
	}
	go func() {
		for _, job := range jobs {
			todo <- job
		}
		close(todo)
		wg.Wait()
		close(done)
	}()
	allCompleted := true
	for line := range done {
		out.line(line)
		allCompleted = allCompleted && line.State == asynq.TaskStateCompleted.String()
	}
	return allCompleted
}

// waitOne waits for one job (tasks.WaitResult) and returns its final line.
func waitOne(ctx context.Context, insp *asynq.Inspector, job tasks.EnqueueResult) finalLine {
	info, err := tasks.WaitResult(ctx, insp, job.Queue, job.TaskID, tasks.DefaultWaitPoll)
	line := finalLine{TaskID: job.TaskID, State: stateUnknown}
	if info != nil {
		line.State = info.State.String()
		if json.Valid(info.Result) {
			line.Result = info.Result
		}
	}
	switch {
	case err != nil && ctx.Err() != nil:
		line.Error = stopReason(ctx)
		if info == nil {
			line.Error += ": " + err.Error()
		}
	case err != nil:
		line.Error = err.Error()
	case info.State == asynq.TaskStateArchived:
		line.Error = info.LastErr
		if line.Error == "" {
			line.Error = "archived"
		}
	}
	return line
}

// stopReason says why the wait's context ended.
func stopReason(ctx context.Context) string {
	if errors.Is(context.Cause(ctx), errWaitTimedOut) {
		return errWaitTimedOut.Error()
	}
	return "wait interrupted"
}
