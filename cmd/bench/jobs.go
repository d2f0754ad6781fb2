package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"essworker/essclient/esstest"
	"essworker/tasks"
)

// oneJobPerLB is a detach job for each load balancer of each group, in
// round-robin order over the groups (job i is on group i mod len(groups)).
func oneJobPerLB(groups []esstest.ScalingGroup, async bool) []tasks.DetachPayload {
	var out []tasks.DetachPayload
	for j := 0; ; j++ {
		added := false
		for _, g := range groups {
			if j < len(g.LoadBalancerIds) {
				out = append(out, tasks.DetachPayload{ScalingGroupId: g.ScalingGroupId, LoadBalancerIds: []string{g.LoadBalancerIds[j]}, Async: async})
				added = true
			}
		}
		if !added {
			return out
		}
	}
}

// enqueue queues the jobs on queue through the producer API and returns their
// task IDs.
func enqueue(ctx context.Context, r *redisTarget, queue string, jobs []tasks.DetachPayload) ([]string, error) {
	return enqueueSpaced(ctx, r, queue, jobs, 0, 1)
}

// enqueueSpaced is enqueue with job i held back (i/every)*gap: with
// oneJobPerLB's order and every the number of groups, each group's jobs come
// gap apart.
func enqueueSpaced(ctx context.Context, r *redisTarget, queue string, jobs []tasks.DetachPayload, gap time.Duration, every int) ([]string, error) {
	c := asynq.NewClient(r.opt)
	defer c.Close()
	ids := make([]string, 0, len(jobs))
	for i, p := range jobs {
		opts := []asynq.Option{asynq.Queue(queue)}
		if d := time.Duration(i/every) * gap; d > 0 {
			opts = append(opts, asynq.ProcessIn(d))
		}
		res, err := tasks.Enqueue(ctx, c, p, opts...)
		if err != nil {
			return nil, fmt.Errorf("enqueue job %d: %w", i, err)
		}
		for _, x := range res {
			ids = append(ids, x.TaskID)
		}
	}
	return ids, nil
}
