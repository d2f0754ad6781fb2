package tasks

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/hibiken/asynq"
)

// States of an EnqueueResult.
const (
	// StateEnqueued: the job was added to the queue.
	StateEnqueued = "enqueued"
	// StateScheduled: the job was added to the queue to run no earlier than
	// its Schedule's time; until then asynq holds it in state "scheduled".
	StateScheduled = "scheduled"
	// StateDuplicate: a job with the same task ID, and so the same ClientToken,
	// is already in the queue (pending, running, waiting, or finished and kept
	// for its retention); nothing was added.
	StateDuplicate = "duplicate"
)

// EnqueueResult is what Enqueue did with one job. The JSON names are those of
// the `enqueue` command's output lines.
type EnqueueResult struct {
	TaskID      string `json:"task_id"`
	ClientToken string `json:"client_token"`
	Queue       string `json:"queue"`
	State       string `json:"state"` // StateEnqueued, StateScheduled or StateDuplicate
}

// ErrTaskIDOption is returned by Enqueue when it is given an asynq.TaskID
// option: Enqueue derives every task ID from the job's ClientToken (see
// TaskID), which is what makes a repeated request a duplicate.
var ErrTaskIDOption = errors.New("tasks: Enqueue derives task IDs from ClientTokens; do not pass asynq.TaskID")

// Enqueue queues the detach request p, split into jobs of at most
// MaxLoadBalancers load balancers (see SplitDetach), one asynq task each (see
// NewDetachLoadBalancersTask for the defaults opts override).
//
// An asynq.ProcessAt or asynq.ProcessIn option schedules the jobs as
// ScheduleAt and ScheduleIn do: the time is rounded up to a whole second, and
// a time in the past or more than MaxScheduleAhead ahead is an error wrapping
// ErrInvalidSchedule, with nothing queued. Scheduled jobs are reported with
// State StateScheduled.
//
// Every job is validated before any is queued, so an invalid request queues
// nothing; that error wraps ErrInvalidPayload. A job whose task ID is already
// taken (asynq.ErrTaskIDConflict, or asynq.ErrDuplicateTask with a Unique
// option) is reported with State StateDuplicate, not as an error. If queueing
// fails midway (Redis down, ctx done), Enqueue returns the results of the jobs
// queued so far with the error; calling it again with the same p and the same
// ClientToken is safe: what is already queued comes back as duplicates.
//
// Enqueue cannot read the queues: it detects duplicates per queue by task ID
// alone, so the same token enqueued to two queues makes two tasks (ESS's
// ClientToken still makes the second call a replay), and a token reused for
// another request is reported as a duplicate. Producer.Enqueue, which the
// producer API and the enqueue command use, compares payloads and looks in
// every queue.
func Enqueue(ctx context.Context, c *asynq.Client, p DetachPayload, opts ...asynq.Option) ([]EnqueueResult, error) {
	if c == nil {
		return nil, errors.New("tasks: Enqueue: nil asynq client")
	}
	for _, o := range opts {
		if o != nil && o.Type() == asynq.TaskIDOpt {
			return nil, ErrTaskIDOption
		}
	}
	sched, err := scheduleOf(opts, time.Now())
	if err != nil {
		return nil, err
	}
	opts = append(slices.Clone(opts), sched.options()...)
	chunks, err := SplitDetach(p)
	if err != nil {
		return nil, err
	}
	jobs := make([]*asynq.Task, len(chunks))
	for i, chunk := range chunks {
		if jobs[i], err = NewDetachLoadBalancersTask(chunk, opts...); err != nil {
			return nil, err
		}
	}
	queue := queueOf(opts)
	results := make([]EnqueueResult, 0, len(chunks))
	for i, job := range jobs {
		res := EnqueueResult{
			TaskID:      TaskID(chunks[i].ClientToken),
			ClientToken: chunks[i].ClientToken,
			Queue:       queue,
			State:       StateEnqueued,
		}
		info, err := c.EnqueueContext(ctx, job)
		switch {
		case err == nil:
			res.TaskID, res.Queue, res.State = info.ID, info.Queue, stateOf(info.State)
		case errors.Is(err, asynq.ErrTaskIDConflict), errors.Is(err, asynq.ErrDuplicateTask):
			res.State = StateDuplicate
		default:
			return results, fmt.Errorf("tasks: enqueue job %d of %d (task %s, queue %s): %w",
				i+1, len(jobs), res.TaskID, queue, err)
		}
		results = append(results, res)
	}
	return results, nil
}

// queueOf returns the queue the options select, as asynq reads them: the last
// asynq.Queue option wins, DefaultQueue without one.
func queueOf(opts []asynq.Option) string {
	queue := DefaultQueue
	for _, o := range opts {
		if o == nil || o.Type() != asynq.QueueOpt {
			continue
		}
		if name, ok := o.Value().(string); ok {
			queue = name
		}
	}
	return queue
}

// maxLineErrors bounds how many bad lines ParseDetachLines reports; it still
// reads the whole input.
const maxLineErrors = 20

// ParseDetachLines reads detach requests as JSON Lines (one DetachPayload per
// line; blank lines are skipped), as `enqueue --file` takes them.
//
// Each line is decoded as strictly as DecodeDetachPayload and validated like
// SplitDetach validates, so a line may name more than MaxLoadBalancers load
// balancers. Two lines may share a ClientToken only if they are the same
// request. ParseDetachLines reads all of r before it returns; on any error it
// returns no payloads and an error that names each bad line (the first
// maxLineErrors of them), e.g.
// "line 3: invalid payload: ScalingGroupId: required", and wraps
// ErrInvalidPayload when the input was read but is invalid. An input with no
// request at all is an error too.
func ParseDetachLines(r io.Reader) ([]DetachPayload, error) {
	br := bufio.NewReader(r)
	var (
		out     []DetachPayload
		lineOf  []int              // line number of out[i]
		byToken = map[string]int{} // ClientToken -> index in out
		errs    []error
		bad     int
	)
	addError := func(err error) {
		bad++
		if len(errs) < maxLineErrors {
			errs = append(errs, err)
		}
	}
	for lineNo := 1; ; lineNo++ {
		raw, tooLong, err := readLine(br, MaxPayloadSize)
		if err != nil && err != io.EOF {
			return nil, errors.Join(append(errs, fmt.Errorf("tasks: read line %d: %w", lineNo, err))...)
		}
		line := bytes.TrimSpace(raw)
		switch {
		case tooLong:
			addError(fmt.Errorf("line %d: %w", lineNo, payloadError(fmt.Sprintf("line longer than %d bytes", MaxPayloadSize))))
		case len(line) > 0:
			p, verr := DecodeDetachRequest(line)
			if verr == nil && p.ClientToken != "" {
				if j, seen := byToken[p.ClientToken]; seen && !SameRequest(out[j], p) {
					verr = &FieldError{
						Field:  "ClientToken",
						Reason: fmt.Sprintf("also used on line %d for a different request", lineOf[j]),
					}
				}
			}
			if verr != nil {
				addError(fmt.Errorf("line %d: %w", lineNo, verr))
				break
			}
			if p.ClientToken != "" {
				byToken[p.ClientToken] = len(out)
			}
			out = append(out, p)
			lineOf = append(lineOf, lineNo)
		}
		if err == io.EOF {
			break
		}
	}
	if bad > len(errs) {
		errs = append(errs, fmt.Errorf("%w: %d more bad lines not shown", ErrInvalidPayload, bad-len(errs)))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no requests in input", ErrInvalidPayload)
	}
	return out, nil
}

// readLine reads one line without its end of line. A line longer than limit
// bytes is read to its end and dropped: tooLong is true and line is nil.
// err is io.EOF after the last line.
func readLine(br *bufio.Reader, limit int) (line []byte, tooLong bool, err error) {
	for {
		chunk, isPrefix, rerr := br.ReadLine()
		if !tooLong {
			line = append(line, chunk...)
			if len(line) > limit {
				line, tooLong = nil, true
			}
		}
		if rerr != nil || !isPrefix {
			return line, tooLong, rerr
		}
	}
}
