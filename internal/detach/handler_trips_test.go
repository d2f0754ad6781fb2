package detach_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"essworker/essclient/esstest"
	"essworker/tasks"
)

// slowPipelines is a go-redis hook that holds each pipeline a client sends
// for delay first, and counts those that run a script (the handler's steps;
// go-redis sets up each new connection with a pipeline of CLIENT commands):
// a Redis that answers this late lets the jobs that start meanwhile queue
// behind the round trip in flight.
type slowPipelines struct {
	delay   time.Duration
	scripts atomic.Int64
}

func (h *slowPipelines) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *slowPipelines) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (h *slowPipelines) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if slices.ContainsFunc(cmds, func(c redis.Cmder) bool { return c.Name() == "evalsha" || c.Name() == "eval" }) {
			h.scripts.Add(1)
		}
		time.Sleep(h.delay)
		return next(ctx, cmds)
	}
}

// TestConcurrentJobsShareRoundTrips: jobs running at the same time send
// their first step (lease, job state, rate-limit slot) and their last
// (result, lease freed) in shared round trips: 20 sync jobs on 20 groups,
// all running at once behind a slow Redis, take far fewer round trips than
// the two each would take alone.
func TestConcurrentJobsShareRoundTrips(t *testing.T) {
	t.Parallel()
	const jobs = 20
	hook := &slowPipelines{delay: 20 * time.Millisecond}
	p := startPipeline(t, pipelineOptions{concurrency: jobs, redisHook: hook})
	var enq []tasks.EnqueueResult
	for i := range jobs {
		group := fmt.Sprintf("asg-trip-%02d", i)
		p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: group, LoadBalancerIds: []string{"lb-1", "lb-2"}})
		res, err := tasks.Enqueue(context.Background(), p.client,
			tasks.DetachPayload{ScalingGroupId: group, LoadBalancerIds: []string{"lb-1"}, ClientToken: "tok-" + group})
		if err != nil {
			t.Fatal(err)
		}
		enq = append(enq, res...)
	}
	for i, info := range p.wait(t, enq) {
		if r := result(t, info); info.State != asynq.TaskStateCompleted || r.Outcome != tasks.OutcomeDetached {
			t.Fatalf("job %d: state %s, result %+v", i, info.State, r)
		}
	}
	if s := p.emu.Stats(); s.DetachesApplied != jobs {
		t.Fatalf("%d detaches applied, want %d", s.DetachesApplied, jobs)
	}
	// Alone, each job would send two: 40.
	n := hook.scripts.Load()
	t.Logf("%d round trips for the steps of %d jobs", n, jobs)
	if n > jobs {
		t.Errorf("the handler sent %d round trips for the steps of %d jobs, want at most %d: its jobs do not share them", n, jobs, jobs)
	}
}
