package tasks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

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
// hold only an asynq.Client. Concurrent calls share their round trips to
// Redis (see committer), each checked and queued by one script.
type Producer struct {
	rdb    redis.UniversalClient
	insp   *asynq.Inspector
	commit *committer
}

// NewProducer returns a Producer on rdb. It holds nothing of its own to
// close (its committer's goroutine ends when no call is waiting): rdb stays
// its owner's to close, after the Producer's last call has returned.
func NewProducer(rdb redis.UniversalClient) *Producer {
	return &Producer{
		rdb:    rdb,
		insp:   asynq.NewInspectorFromRedisClient(rdb),
		commit: &committer{rdb: rdb},
	}
}

// Inspector is the Producer's asynq inspector, for WaitResult.
func (p *Producer) Inspector() *asynq.Inspector { return p.insp }

// plannedJob is one job of a call, before it is queued.
type plannedJob struct {
	commitJob
	typ     string
	payload []byte
	res     EnqueueResult
	// kind names what holds a token in a conflict's reason: "job", "drain".
	kind string
	// same reports whether a stored task of type typ with payload is this
	// job's request.
	same func(typ string, payload []byte) bool
}

// newPlannedJob plans the job of type typ with payload under taskID into
// queue, run no earlier than the time of s (at once for the zero Schedule).
func newPlannedJob(typ string, payload []byte, taskID, token, queue string, s Schedule, now time.Time) *plannedJob {
	at := now
	if s.at.After(now) {
		at = s.at
	}
	return &plannedJob{
		commitJob: commitJob{id: taskID, at: at,
			msg: taskMessage{typ: typ, payload: payload, id: taskID, queue: queue, readyAt: at}.encode()},
		typ: typ, payload: payload,
		res: EnqueueResult{TaskID: taskID, ClientToken: token, Queue: queue, State: StateEnqueued},
	}
}

// Enqueue queues reqs, in order, into queue. It is Enqueue's contract
// (validation, SplitDetach, the task of NewDetachLoadBalancersTask, task IDs,
// results) with two more rules, checked for every job of every request before
// any job is queued, so a refused call queues nothing:
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
// The check and the queueing are one Redis script, shared with the calls
// other goroutines make at the same time (see committer): the jobs of a call
// are queued all together or not at all. On an error no job is queued, unless
// the error is the loss of Redis's answer; the same call again is safe, as
// with Enqueue.
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
	now := time.Now()
	var jobs []*plannedJob
	var shadows []string // task IDs whose existence is a conflict: see shadowToken
	var shadowOwners []string
	for _, r := range reqs {
		if r.ClientToken == "" {
			r.ClientToken = uuid.NewString()
		}
		chunks, err := SplitDetach(r)
		if err != nil {
			return nil, err
		}
		for _, c := range chunks {
			payload, err := encodeDetachPayload(c)
			if err != nil {
				return nil, err
			}
			j := newPlannedJob(TypeDetachLoadBalancers, payload, TaskID(c.ClientToken), c.ClientToken, queue, s, now)
			j.kind, j.same = "job", sameDetach(c)
			jobs = append(jobs, j)
		}
		shadows = append(shadows, TaskID(shadowToken(r.ClientToken, len(chunks))))
		shadowOwners = append(shadowOwners, r.ClientToken)
	}
	fresh, err := dedupeRequests(jobs, queue)
	if err != nil {
		return nil, err
	}
	err = p.queueJobs(ctx, queue, fresh, shadows, func(i int, q string) error {
		return &ConflictError{ClientToken: shadowOwners[i], Queue: q, Reason: shadowReason(shadows[i], shadowOwners[i])}
	})
	if err != nil {
		return nil, err
	}
	results := make([]EnqueueResult, len(jobs))
	for i, j := range jobs {
		results[i] = j.res
	}
	return results, nil
}

// sameDetach is a plannedJob's same for the detach job want.
func sameDetach(want DetachPayload) func(string, []byte) bool {
	return func(typ string, payload []byte) bool {
		stored, err := DecodeDetachPayload(payload)
		return typ == TypeDetachLoadBalancers && err == nil && SameRequest(stored, want)
	}
}

// dedupeRequests marks the second and later jobs of one ClientToken in a call
// duplicates and returns the others; the same token for different requests
// is a conflict.
func dedupeRequests(jobs []*plannedJob, queue string) ([]*plannedJob, error) {
	planned := make(map[string]*plannedJob, len(jobs))
	fresh := make([]*plannedJob, 0, len(jobs))
	for _, j := range jobs {
		token := j.res.ClientToken
		if prev, ok := planned[token]; ok {
			if !prev.same(j.typ, j.payload) {
				return nil, &ConflictError{ClientToken: token, Queue: queue, Reason: "given twice for different requests"}
			}
			j.res.State = StateDuplicate
			continue
		}
		planned[token] = j
		fresh = append(fresh, j)
	}
	return fresh, nil
}

// queueJobs queues jobs into queue, all together or none, once no task ID of
// shadows exists in any queue. A job whose task ID exists in queue holding
// the same request (its same) is StateDuplicate and the others are queued;
// another request there, or a task ID in another queue, is a *ConflictError
// and nothing is queued; a shadow ID found is shadowErr's conflict. Each
// round trip finds at least one more job stored or queues the rest, so the
// loop ends after at most len(jobs)+1 of them.
func (p *Producer) queueJobs(ctx context.Context, queue string, jobs []*plannedJob, shadows []string, shadowErr func(i int, q string) error) error {
	for len(jobs) > 0 {
		s := &submission{queue: queue, shadows: shadows, jobs: make([]*commitJob, len(jobs))}
		for i, j := range jobs {
			j.foundIn, j.stored = "", ""
			s.jobs[i] = &j.commitJob
		}
		if err := p.commit.commit(ctx, s); err != nil {
			return err
		}
		if s.refused != "" {
			return fmt.Errorf("tasks: queue %s cannot take jobs: %s", queue, s.refused)
		}
		if s.written {
			for _, j := range jobs {
				j.res.State = StateEnqueued
				if j.scheduled {
					j.res.State = StateScheduled
				}
			}
			return nil
		}
		for i, q := range s.shadowsFound {
			if q != "" {
				return shadowErr(i, q)
			}
		}
		var rest []*plannedJob
		for _, j := range jobs {
			switch j.foundIn {
			case "":
				rest = append(rest, j)
			case queue:
				typ, payload, err := decodeTypeAndPayload([]byte(j.stored))
				if err != nil {
					return fmt.Errorf("tasks: read task %s in queue %s: %w", j.id, queue, err)
				}
				if !j.same(typ, payload) {
					return j.conflict(queue, "taken by a "+j.kind+" with another payload")
				}
				j.res.State = StateDuplicate
			default:
				return j.conflict(j.foundIn, "taken by a "+j.kind+" of another queue")
			}
		}
		jobs = rest
	}
	return nil
}

// conflict is the *ConflictError of j's token, held by a task in queue.
func (j *plannedJob) conflict(queue, reason string) *ConflictError {
	e := &ConflictError{ClientToken: j.res.ClientToken, Queue: queue, Reason: reason}
	if j.res.TaskID != TaskID(j.res.ClientToken) {
		e.TaskID = j.res.TaskID
	}
	return e
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
