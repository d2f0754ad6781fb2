package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"essworker/tasks"
)

// TypeNotify is the asynq task type of a notice.
const TypeNotify = "essworker:notify"

// NoticeType is the type field of every notice's body.
const NoticeType = "essworker.job.finished"

// States of a job in a notice.
const (
	StateCompleted = "completed"
	StateArchived  = "archived"
)

// TaskIDPrefix prefixes the job's task ID to make its notice's task ID.
const TaskIDPrefix = "notify:"

// Notice is the body POSTed to the receiver, its fields in this order.
type Notice struct {
	Type        string          `json:"type"`
	TaskID      string          `json:"task_id"`
	ClientToken string          `json:"client_token"`
	Queue       string          `json:"queue"`
	State       string          `json:"state"`
	Result      json.RawMessage `json:"result"`
	// Time is when the job ended, RFC 3339 in UTC.
	Time string `json:"time"`
}

// payload is a notice task's payload: the exact bytes to send and the
// delivery ID of every try.
type payload struct {
	DeliveryId string
	Body       json.RawMessage
}

// Job is a job at its final answer.
type Job struct {
	TaskID      string
	ClientToken string
	Queue       string
	// Archived is true when the job ends archived, false when completed.
	Archived bool
	// Result is the job's result JSON.
	Result []byte
}

// JobEnded enqueues the notice of the job that ctx's asynq task ends with
// result; archived says whether it ends archived. Call it at a handler's final
// answer, after writing the result. It never fails the job: a notice that
// cannot be enqueued within Config.EnqueueTimeout is logged and given up.
func (n *Notifier) JobEnded(ctx context.Context, clientToken string, archived bool, result []byte) {
	taskID, _ := asynq.GetTaskID(ctx)
	queue, _ := asynq.GetQueueName(ctx)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.cfg.EnqueueTimeout)
	defer cancel()
	j := Job{TaskID: taskID, ClientToken: clientToken, Queue: queue, Archived: archived, Result: result}
	if err := n.Enqueue(ctx, j, time.Now()); err != nil {
		n.cfg.Logger.Error("notice not enqueued", "task_id", taskID, "client_token", clientToken, "err", err)
	}
}

// Enqueue enqueues the notice of j, ended at end, in j's queue. A notice of
// the same job already enqueued (a replay of its last attempt) is kept, and
// Enqueue returns nil.
func (n *Notifier) Enqueue(ctx context.Context, j Job, end time.Time) error {
	state := StateCompleted
	if j.Archived {
		state = StateArchived
	}
	body, err := json.Marshal(Notice{
		Type: NoticeType, TaskID: j.TaskID, ClientToken: j.ClientToken, Queue: j.Queue,
		State: state, Result: j.Result, Time: end.UTC().Format(time.RFC3339Nano),
	})
	if err != nil {
		return fmt.Errorf("encode notice: %w", err)
	}
	delivery, err := uuid.NewRandom()
	if err != nil {
		return fmt.Errorf("delivery ID: %w", err)
	}
	p, err := json.Marshal(payload{DeliveryId: delivery.String(), Body: body})
	if err != nil {
		return fmt.Errorf("encode notice task: %w", err)
	}
	_, err = n.client.EnqueueContext(ctx, asynq.NewTask(TypeNotify, p),
		asynq.TaskID(TaskIDPrefix+j.TaskID),
		asynq.Queue(j.Queue),
		asynq.MaxRetry(n.maxRetry()),
		asynq.Timeout(n.cfg.Timeout+5*time.Second),
		// Kept after delivery as long as the finished job, so that a replay of
		// the job's last attempt still finds it.
		asynq.Retention(tasks.DefaultRetention),
	)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("enqueue notice: %w", err)
	}
	return nil
}

// maxRetry lets asynq retry a notice at least as long as the budget lasts
// (waits are never shorter than half the first retry), so that the handler,
// not asynq, decides when it is dropped.
func (n *Notifier) maxRetry() int {
	return int(2*n.cfg.Budget/n.cfg.FirstRetry) + 2
}
