package main

import (
	"context"
	"fmt"

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
	c := asynq.NewClient(r.opt)
	defer c.Close()
	ids := make([]string, 0, len(jobs))
	for i, p := range jobs {
		res, err := tasks.Enqueue(ctx, c, p, asynq.Queue(queue))
		if err != nil {
			return nil, fmt.Errorf("enqueue job %d: %w", i, err)
		}
		for _, x := range res {
			ids = append(ids, x.TaskID)
		}
	}
	return ids, nil
}
