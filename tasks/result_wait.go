package tasks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// DefaultWaitPoll is how often WaitResult looks at a task.
const DefaultWaitPoll = 250 * time.Millisecond

// WaitResult blocks until the task ends (completed or archived) or ctx is done,
// looking every poll, and returns its final info (Result holds a DetachResult).
// A task that disappears (deleted, or expired past its retention) is an error.
func WaitResult(ctx context.Context, insp *asynq.Inspector, queue, taskID string, poll time.Duration) (*asynq.TaskInfo, error) {
	if poll <= 0 {
		poll = DefaultWaitPoll
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		info, err := insp.GetTaskInfo(queue, taskID)
		switch {
		case errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound):
			return nil, fmt.Errorf("task %s in queue %s: %w", taskID, queue, err)
		case err == nil && (info.State == asynq.TaskStateCompleted || info.State == asynq.TaskStateArchived):
			return info, nil
		}
		// Other errors (Redis briefly away) are retried until ctx ends.
		select {
		case <-ctx.Done():
			if err != nil {
				return nil, fmt.Errorf("wait for task %s: %w (last error: %v)", taskID, ctx.Err(), err)
			}
			return info, fmt.Errorf("wait for task %s (state %s): %w", taskID, info.State, ctx.Err())
		case <-t.C:
		}
	}
}
