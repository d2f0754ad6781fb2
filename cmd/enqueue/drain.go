package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"essworker/tasks"
)

// flagOfDrainField names the flag that sets each drain payload field.
var flagOfDrainField = map[string]string{
	"RegionId":       "region",
	"LoadBalancerId": "lb",
	"ClientToken":    "token",
}

// loadDrains builds one drain per --lb and validates each, so that nothing is
// queued unless all are valid. Each leaves with a ClientToken (--token, or a
// new random UUID), so a failed run can be finished with the printed token.
func loadDrains(o *options) ([]tasks.DrainPayload, error) {
	drains := make([]tasks.DrainPayload, len(o.lbs))
	for i, lb := range o.lbs {
		d := tasks.DrainPayload{RegionId: o.region, LoadBalancerId: lb, ForceDetach: o.force, Async: o.async, ClientToken: o.token}
		if d.ClientToken == "" {
			d.ClientToken = uuid.NewString()
		}
		if err := d.Validate(); err != nil {
			var fe *tasks.FieldError
			if errors.As(err, &fe) && flagOfDrainField[fe.Field] != "" {
				return nil, fmt.Errorf("--%s: %s: %s", flagOfDrainField[fe.Field], fe.Field, fe.Reason)
			}
			return nil, err
		}
		drains[i] = d
	}
	return drains, nil
}

// enqueueDrains queues the drains with tasks.Producer, to run no earlier than
// the time of s, and prints one line per drain. After a failure it returns the drains queued so far with the error.
func enqueueDrains(ctx context.Context, p *tasks.Producer, drains []tasks.DrainPayload, queue string, s tasks.Schedule, out *output) ([]tasks.EnqueueResult, error) {
	var queued []tasks.EnqueueResult
	for _, d := range drains {
		res, err := p.EnqueueDrainAt(ctx, queue, s, d)
		if err != nil {
			if errors.Is(err, tasks.ErrIdempotencyConflict) && len(queued) == 0 {
				return nil, fmt.Errorf("%w; nothing was queued", err)
			}
			return queued, fmt.Errorf("%w; the %d drains printed before this error are queued", err, len(queued))
		}
		out.line(res)
		queued = append(queued, res)
	}
	return queued, nil
}

// waitDrains waits for each drain to end and prints its final line, then
// waits for every detach job the drains made (their results list them) and
// prints theirs, all within timeout. It reports whether the drains and all
// their jobs completed.
func waitDrains(ctx context.Context, insp *asynq.Inspector, drains []tasks.EnqueueResult, timeout time.Duration, out *output) bool {
	deadline := time.Now().Add(timeout)
	waitCtx, cancel := context.WithDeadlineCause(ctx, deadline, errWaitTimedOut)
	defer cancel()
	allCompleted := true
	var jobs []tasks.EnqueueResult
	for _, d := range drains {
		line := waitOne(waitCtx, insp, d)
		out.line(line)
		allCompleted = allCompleted && line.State == asynq.TaskStateCompleted.String()
		if line.Result == nil {
			continue
		}
		res, err := tasks.DecodeDrainResult(line.Result)
		if err != nil {
			allCompleted = false
			continue
		}
		for _, g := range res.Groups {
			jobs = append(jobs, tasks.EnqueueResult{TaskID: g.TaskId, ClientToken: g.ClientToken, Queue: d.Queue})
		}
	}
	if len(jobs) == 0 {
		return allCompleted
	}
	return waitAll(ctx, insp, jobs, time.Until(deadline), out) && allCompleted
}
