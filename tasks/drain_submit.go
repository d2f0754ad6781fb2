package tasks

import (
	"context"
	"errors"
	"fmt"

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
	task, err := NewDrainTask(d, append([]asynq.Option{asynq.Queue(queue)}, s.options()...)...)
	if err != nil {
		return EnqueueResult{}, err
	}
	res := EnqueueResult{TaskID: DrainTaskID(d.ClientToken), ClientToken: d.ClientToken, Queue: queue, State: StateEnqueued}
	found, err := lookupQueues(ctx, p.rdb, []string{res.TaskID})
	if err != nil {
		return EnqueueResult{}, err
	}
	switch found[0] {
	case "":
		info, err := p.client.EnqueueContext(ctx, task)
		if err == nil {
			res.State = stateOf(info.State)
			return res, nil
		}
		if !errors.Is(err, asynq.ErrTaskIDConflict) {
			return EnqueueResult{}, fmt.Errorf("tasks: enqueue drain (task %s, queue %s): %w", res.TaskID, queue, err)
		}
		// Another producer queued it meanwhile: the stored task decides.
	case queue:
	default:
		return EnqueueResult{}, &ConflictError{ClientToken: d.ClientToken, Queue: found[0], Reason: "taken by a drain of another queue", TaskID: res.TaskID}
	}
	if err := p.compareStoredDrain(queue, d); err != nil {
		return EnqueueResult{}, err
	}
	res.State = StateDuplicate
	return res, nil
}

// compareStoredDrain returns nil when the drain of want's token in queue
// holds want, a *ConflictError when it holds another payload, and the read
// error otherwise.
func (p *Producer) compareStoredDrain(queue string, want DrainPayload) error {
	id := DrainTaskID(want.ClientToken)
	info, err := p.insp.GetTaskInfo(queue, id)
	if err != nil {
		return fmt.Errorf("tasks: read task %s in queue %s: %w", id, queue, err)
	}
	stored, err := DecodeDrainPayload(info.Payload)
	if info.Type != TypeDrainLoadBalancer || err != nil || stored != want {
		return &ConflictError{ClientToken: want.ClientToken, Queue: queue, Reason: "taken by a drain with another payload", TaskID: id}
	}
	return nil
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
