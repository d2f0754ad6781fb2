package tasks

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// ErrIdempotencyConflict is wrapped by the error of a request whose
// ClientToken (or the ClientToken of one of its jobs) is already taken by
// another request: a task with that token holds another payload, or sits in
// another queue. Nothing of such a request is queued.
var ErrIdempotencyConflict = errors.New("idempotency conflict")

// ConflictError is an ErrIdempotencyConflict about one ClientToken.
type ConflictError struct {
	ClientToken string // the token that is taken
	Queue       string // the queue of the task that holds it
	Reason      string // e.g. "taken by a job with another payload"
	// TaskID is the task that holds the token; empty means TaskID(ClientToken),
	// a detach job's.
	TaskID string
}

func (e *ConflictError) Error() string {
	id := e.TaskID
	if id == "" {
		id = TaskID(e.ClientToken)
	}
	return fmt.Sprintf("%s: ClientToken %q: %s (task %s in queue %s)",
		ErrIdempotencyConflict, e.ClientToken, e.Reason, id, e.Queue)
}

// Unwrap makes errors.Is(err, ErrIdempotencyConflict) true.
func (e *ConflictError) Unwrap() error { return ErrIdempotencyConflict }

// ErrJobNotFound is wrapped by Producer.Job's error when no queue holds a job
// with the token.
var ErrJobNotFound = errors.New("job not found")

// Producer queues detach requests on one Redis with duplicate and conflict
// detection across every queue of that Redis. The HTTP producer API and the
// enqueue command go through it; tasks.Enqueue is its subset for callers that
// hold only an asynq.Client.
type Producer struct {
	rdb    redis.UniversalClient
	client *asynq.Client
	insp   *asynq.Inspector
}

// NewProducer returns a Producer on rdb. It holds nothing of its own to
// close: rdb stays its owner's to close.
func NewProducer(rdb redis.UniversalClient) *Producer {
	return &Producer{
		rdb:    rdb,
		client: asynq.NewClientFromRedisClient(rdb),
		insp:   asynq.NewInspectorFromRedisClient(rdb),
	}
}

// Inspector is the Producer's asynq inspector, for WaitResult.
func (p *Producer) Inspector() *asynq.Inspector { return p.insp }

// plannedJob is one job of a request, before it is queued.
type plannedJob struct {
	payload DetachPayload
	task    *asynq.Task
	res     EnqueueResult
}

// Enqueue queues reqs, in order, into queue. It is Enqueue's contract
// (validation, SplitDetach, NewDetachLoadBalancersTask, task IDs, results)
// with two more rules, checked for every job of every request before any job
// is queued, so a refused call queues nothing:
//
//   - a job whose task ID exists in queue with the same payload (compared
//     after decoding, the order of load balancers ignored) is StateDuplicate;
//     with another payload, the call fails with a *ConflictError;
//   - a ClientToken is unique across queues: a job whose task ID exists in
//     another queue fails the call with a *ConflictError, whatever its payload.
//     So does a request of one job whose token is also that of a request split
//     into jobs, and the reverse.
//
// A request with no ClientToken gets a new random UUID. Two identical
// requests in reqs give one job, the second reported as a duplicate.
//
// If queueing fails midway (Redis down, ctx done, or a conflicting request
// queued by another producer between the check and the queueing), Enqueue
// returns the results of the jobs queued so far with the error; the same call
// again is safe, as with Enqueue.
func (p *Producer) Enqueue(ctx context.Context, queue string, reqs ...DetachPayload) ([]EnqueueResult, error) {
	return p.EnqueueAt(ctx, queue, Schedule{}, reqs...)
}

// EnqueueAt is Enqueue with the jobs run no earlier than the time of s
// (ScheduleAt, ScheduleIn); the zero Schedule runs them at once. Each job
// queued to wait for its time is StateScheduled. A job already queued is a
// duplicate whatever its time, and keeps that time.
func (p *Producer) EnqueueAt(ctx context.Context, queue string, s Schedule, reqs ...DetachPayload) ([]EnqueueResult, error) {
	if queue == "" {
		return nil, errors.New("tasks: Producer.Enqueue: empty queue name")
	}
	var jobs []*plannedJob
	var shadows []string // task IDs whose existence is a conflict: see shadowToken
	for _, r := range reqs {
		if r.ClientToken == "" {
			r.ClientToken = uuid.NewString()
		}
		chunks, err := SplitDetach(r)
		if err != nil {
			return nil, err
		}
		for _, c := range chunks {
			task, err := NewDetachLoadBalancersTask(c, append([]asynq.Option{asynq.Queue(queue)}, s.options()...)...)
			if err != nil {
				return nil, err
			}
			jobs = append(jobs, &plannedJob{payload: c, task: task, res: EnqueueResult{
				TaskID: TaskID(c.ClientToken), ClientToken: c.ClientToken, Queue: queue, State: StateEnqueued,
			}})
		}
		shadows = append(shadows, TaskID(shadowToken(r.ClientToken, len(chunks))))
	}
	ids := make([]string, 0, len(jobs)+len(shadows))
	for _, j := range jobs {
		ids = append(ids, j.res.TaskID)
	}
	found, err := lookupQueues(ctx, p.rdb, append(ids, shadows...))
	if err != nil {
		return nil, err
	}
	for i, q := range found[len(jobs):] {
		if q != "" {
			return nil, &ConflictError{ClientToken: reqs[i].ClientToken, Queue: q, Reason: shadowReason(shadows[i], reqs[i].ClientToken)}
		}
	}
	if err := p.classify(jobs, found[:len(jobs)], queue); err != nil {
		return nil, err
	}
	results := make([]EnqueueResult, 0, len(jobs))
	for i, j := range jobs {
		if j.res.State == StateEnqueued {
			if err := p.enqueueOne(ctx, j); err != nil {
				return results, fmt.Errorf("tasks: enqueue job %d of %d (task %s, queue %s): %w",
					i+1, len(jobs), j.res.TaskID, queue, err)
			}
		}
		results = append(results, j.res)
	}
	return results, nil
}

// classify marks each job a duplicate or leaves it to queue, given the queue
// that holds its task ID already (found[i], "" for none), and returns the
// first conflict.
func (p *Producer) classify(jobs []*plannedJob, found []string, queue string) error {
	planned := make(map[string]DetachPayload, len(jobs))
	for i, j := range jobs {
		token := j.payload.ClientToken
		if prev, ok := planned[token]; ok {
			if !SameRequest(prev, j.payload) {
				return &ConflictError{ClientToken: token, Queue: queue, Reason: "given twice for different requests"}
			}
			j.res.State = StateDuplicate
			continue
		}
		planned[token] = j.payload
		switch found[i] {
		case "":
		case queue:
			if err := p.compareStored(queue, j.payload); err != nil {
				return err
			}
			j.res.State = StateDuplicate
		default:
			return &ConflictError{ClientToken: token, Queue: found[i], Reason: "taken by a job of another queue"}
		}
	}
	return nil
}

// compareStored returns nil when the task of want's token in queue holds
// want's request, a *ConflictError when it holds another, and the read error
// otherwise.
func (p *Producer) compareStored(queue string, want DetachPayload) error {
	info, err := p.insp.GetTaskInfo(queue, TaskID(want.ClientToken))
	if err != nil {
		return fmt.Errorf("tasks: read task %s in queue %s: %w", TaskID(want.ClientToken), queue, err)
	}
	stored, err := DecodeDetachPayload(info.Payload)
	if info.Type != TypeDetachLoadBalancers || err != nil || !SameRequest(stored, want) {
		return &ConflictError{ClientToken: want.ClientToken, Queue: queue, Reason: "taken by a job with another payload"}
	}
	return nil
}

// enqueueOne queues a job the check found new. When another producer queued
// the same task ID meanwhile, the stored task decides, as in classify.
func (p *Producer) enqueueOne(ctx context.Context, j *plannedJob) error {
	info, err := p.client.EnqueueContext(ctx, j.task)
	if err == nil {
		j.res.State = stateOf(info.State)
		return nil
	}
	if !errors.Is(err, asynq.ErrTaskIDConflict) {
		return err
	}
	if err := p.compareStored(j.res.Queue, j.payload); err != nil {
		return err
	}
	j.res.State = StateDuplicate
	return nil
}

// shadowToken is the token whose task must not exist for a request with
// token that was cut into n jobs: a request of one job keeps its token, so
// chunk 0 of a split request with that token must not exist; a split request
// gives its token to no job, so a job with that token must not exist.
func shadowToken(token string, n int) string {
	if n == 1 {
		return ChunkToken(token, 0)
	}
	return token
}

// shadowReason explains a conflict found through shadowToken.
func shadowReason(shadowID, token string) string {
	if shadowID == TaskID(token) {
		return "taken by a job of one request, and this request is split into jobs"
	}
	return "taken by a request split into jobs, and this request is one job"
}

// SameRequest reports whether a and b are the same job: equal fields, the
// order of load balancers ignored.
func SameRequest(a, b DetachPayload) bool {
	if a.RegionId != b.RegionId || a.ScalingGroupId != b.ScalingGroupId || a.ForceDetach != b.ForceDetach ||
		a.Async != b.Async || a.ClientToken != b.ClientToken || len(a.LoadBalancerIds) != len(b.LoadBalancerIds) {
		return false
	}
	x, y := slices.Clone(a.LoadBalancerIds), slices.Clone(b.LoadBalancerIds)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// Job returns the task of the job whose ClientToken is token, in whichever
// queue holds it. When none does, the error wraps ErrJobNotFound, and says so
// when token is that of a request split into jobs (whose tokens are
// ChunkToken(token, i)).
func (p *Producer) Job(ctx context.Context, token string) (*asynq.TaskInfo, error) {
	found, err := lookupQueues(ctx, p.rdb, []string{TaskID(token), TaskID(ChunkToken(token, 0))})
	if err != nil {
		return nil, err
	}
	if found[0] == "" {
		if found[1] != "" {
			return nil, fmt.Errorf("%w: ClientToken %q is that of a request split into jobs, not of a job: ask for each job by the client_token its submission answered", ErrJobNotFound, token)
		}
		return nil, fmt.Errorf("%w: no job has ClientToken %q", ErrJobNotFound, token)
	}
	info, err := p.insp.GetTaskInfo(found[0], TaskID(token))
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return nil, fmt.Errorf("%w: no job has ClientToken %q", ErrJobNotFound, token)
	}
	if err != nil {
		return nil, fmt.Errorf("tasks: read task %s in queue %s: %w", TaskID(token), found[0], err)
	}
	return info, nil
}
