package tasks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
)

// EnqueueDrain queues the drain p with NewDrainTask (opts override its
// defaults, except asynq.TaskID: ErrTaskIDOption). A drain whose task ID is
// already taken in the queue is StateDuplicate, as with Enqueue; an invalid
// p queues nothing and the error wraps ErrInvalidPayload. Producer.EnqueueDrain
// also compares payloads and looks in every queue.
func EnqueueDrain(ctx context.Context, c *asynq.Client, p DrainPayload, opts ...asynq.Option) (EnqueueResult, error) {
	if c == nil {
		return EnqueueResult{}, errors.New("tasks: EnqueueDrain: nil asynq client")
	}
	for _, o := range opts {
		if o != nil && o.Type() == asynq.TaskIDOpt {
			return EnqueueResult{}, ErrTaskIDOption
		}
	}
	if p.ClientToken == "" {
		p.ClientToken = uuid.NewString()
	}
	task, err := NewDrainTask(p, opts...)
	if err != nil {
		return EnqueueResult{}, err
	}
	res := EnqueueResult{TaskID: DrainTaskID(p.ClientToken), ClientToken: p.ClientToken, Queue: queueOf(opts), State: StateEnqueued}
	_, err = c.EnqueueContext(ctx, task)
	switch {
	case err == nil:
	case errors.Is(err, asynq.ErrTaskIDConflict), errors.Is(err, asynq.ErrDuplicateTask):
		res.State = StateDuplicate
	default:
		return EnqueueResult{}, fmt.Errorf("tasks: enqueue drain (task %s, queue %s): %w", res.TaskID, res.Queue, err)
	}
	return res, nil
}

// EnqueueDrain queues the drain p into queue, with the rules of
// Producer.Enqueue: a drain whose task ID exists in queue with the same
// payload is StateDuplicate; with another payload, or in another queue, the
// call fails with a *ConflictError and queues nothing. A drain with no
// ClientToken gets a new random UUID. Drains and detach jobs have task IDs of
// their own ("drain:", "detach:"), so they never conflict with each other.
func (p *Producer) EnqueueDrain(ctx context.Context, queue string, d DrainPayload) (EnqueueResult, error) {
	return p.EnqueueDrainAt(ctx, queue, Schedule{}, d)
}

// EnqueueDrainAt is EnqueueDrain with the drain run no earlier than the time
// of s (the zero Schedule runs it at once); it fans out when it runs, and its
// detach jobs run at once. A drain queued to wait for its time is
// StateScheduled; one already queued is a duplicate and keeps its time.
func (p *Producer) EnqueueDrainAt(ctx context.Context, queue string, s Schedule, d DrainPayload) (EnqueueResult, error) {
	if queue == "" {
		return EnqueueResult{}, errors.New("tasks: Producer.EnqueueDrain: empty queue name")
	}
	if d.ClientToken == "" {
		d.ClientToken = uuid.NewString()
	}
	payload, err := encodeDrainPayload(d)
	if err != nil {
		return EnqueueResult{}, err
	}
	j := newPlannedJob(TypeDrainLoadBalancer, payload, DrainTaskID(d.ClientToken), d.ClientToken, queue, s, time.Now())
	j.kind = "drain"
	j.same = func(typ string, payload []byte) bool {
		stored, err := DecodeDrainPayload(payload)
		return typ == TypeDrainLoadBalancer && err == nil && stored == d
	}
	if err := p.queueJobs(ctx, queue, []*plannedJob{j}, nil, nil); err != nil {
		return EnqueueResult{}, err
	}
	return j.res, nil
}

// DrainJob returns the task of the drain whose ClientToken is token, in
// whichever queue holds it; when none does, the error wraps ErrJobNotFound.
func (p *Producer) DrainJob(ctx context.Context, token string) (*asynq.TaskInfo, error) {
	id := DrainTaskID(token)
	found, err := lookupQueues(ctx, p.rdb, []string{id})
	if err != nil {
		return nil, err
	}
	if found[0] == "" {
		return nil, fmt.Errorf("%w: no drain has ClientToken %q", ErrJobNotFound, token)
	}
	info, err := p.insp.GetTaskInfo(found[0], id)
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return nil, fmt.Errorf("%w: no drain has ClientToken %q", ErrJobNotFound, token)
	}
	if err != nil {
		return nil, fmt.Errorf("tasks: read task %s in queue %s: %w", id, found[0], err)
	}
	return info, nil
}

// JobQueues returns, for each ClientToken, the queue holding the detach job
// with that token, or "" when no queue does, in one round trip. A drain uses
// it to list the jobs an earlier run queued for groups that no longer hold
// its load balancer.
func (p *Producer) JobQueues(ctx context.Context, tokens ...string) ([]string, error) {
	ids := make([]string, len(tokens))
	for i, t := range tokens {
		ids[i] = TaskID(t)
	}
	return lookupQueues(ctx, p.rdb, ids)
}
