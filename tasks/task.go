package tasks

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
)

// TypeDetachLoadBalancers is the asynq task type of a detach job.
const TypeDetachLoadBalancers = "ess:detach_load_balancers"

// HeaderEnqueuedAt is the task header holding the enqueue time (Unix
// nanoseconds), from which the worker measures a job's duration. A scheduled
// job holds its scheduled time instead, so its wait is not counted.
const HeaderEnqueuedAt = "essworker-enqueued-at"

// Defaults that NewDetachLoadBalancersTask puts on every task; a caller's
// asynq options override them.
const (
	// DefaultMaxRetry is how many times asynq retries a job after real failures.
	// Waiting for a scaling activity or a busy group snoozes and does not count.
	DefaultMaxRetry = 25
	// DefaultRetention is how long a finished job and its result stay in Redis,
	// readable by `enqueue --wait`, asynqmon and the Inspector. While they stay,
	// its task ID stays taken, so enqueueing the same ClientToken again is a
	// reported duplicate, not a second detach.
	DefaultRetention = 24 * time.Hour
	// DefaultQueue is the asynq queue jobs go to.
	DefaultQueue = "default"
)

// taskIDPrefix namespaces detach jobs among other task IDs in the same queue.
const taskIDPrefix = "detach:"

// TaskID returns the asynq task ID of the job with this ClientToken:
// "detach:" followed by the token. The mapping is one to one, so a job's ID
// is stable across retries and a second enqueue of the same token conflicts
// with the first (asynq.ErrTaskIDConflict) instead of queueing a second detach.
func TaskID(clientToken string) string {
	return taskIDPrefix + clientToken
}

// NewDetachLoadBalancersTask returns the asynq task for one detach job.
//
// p must pass Validate, so it names at most MaxLoadBalancers load balancers
// (SplitDetach or Enqueue cut longer lists); otherwise the error wraps
// ErrInvalidPayload and the task is nil. An empty ClientToken is replaced by a
// new random UUID, which is then the token of every attempt.
//
// The task carries the header HeaderEnqueuedAt (for the job duration metric),
// asynq.TaskID(TaskID(token)), asynq.MaxRetry(DefaultMaxRetry),
// asynq.Retention(DefaultRetention) and asynq.Queue(DefaultQueue); opts come
// after these, so they win. Overriding the task ID breaks the duplicate
// detection described at TaskID.
func NewDetachLoadBalancersTask(p DetachPayload, opts ...asynq.Option) (*asynq.Task, error) {
	if p.ClientToken == "" {
		p.ClientToken = uuid.NewString()
	}
	payload, err := encodeDetachPayload(p)
	if err != nil {
		return nil, err
	}
	return newTask(TypeDetachLoadBalancers, payload, TaskID(p.ClientToken), opts), nil
}

// encodeDetachPayload validates p and returns the payload of its task.
func encodeDetachPayload(p DetachPayload) ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	payload, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("tasks: encode payload: %w", err)
	}
	return payload, nil
}

// newTask is the asynq task of typ with payload: under taskID, with the
// contract's DefaultMaxRetry, DefaultRetention and DefaultQueue before opts,
// and the header HeaderEnqueuedAt holding when the job may first run (its
// ProcessAt or ProcessIn, else now), so a scheduled job's duration does not
// count its wait.
func newTask(typ string, payload []byte, taskID string, opts []asynq.Option) *asynq.Task {
	all := make([]asynq.Option, 0, 4+len(opts))
	all = append(all,
		asynq.TaskID(taskID),
		asynq.MaxRetry(DefaultMaxRetry),
		asynq.Retention(DefaultRetention),
		asynq.Queue(DefaultQueue),
	)
	all = append(all, opts...)
	headers := map[string]string{HeaderEnqueuedAt: strconv.FormatInt(readyAt(all, time.Now()).UnixNano(), 10)}
	return asynq.NewTaskWithHeaders(typ, payload, headers, all...)
}

// readyAt is when a task with opts may first run: the time the last
// asynq.ProcessAt or asynq.ProcessIn asks for when later than now, else now.
func readyAt(opts []asynq.Option, now time.Time) time.Time {
	at := now
	for _, o := range opts {
		if o == nil {
			continue
		}
		switch v := o.Value().(type) {
		case time.Time:
			if o.Type() == asynq.ProcessAtOpt {
				at = v
			}
		case time.Duration:
			if o.Type() == asynq.ProcessInOpt {
				at = now.Add(v)
			}
		}
	}
	if at.Before(now) {
		return now
	}
	return at
}
