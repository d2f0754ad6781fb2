package detach_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"essworker/essclient/esstest"
	"essworker/internal/ratelimit"
	"essworker/internal/redistest"
	"essworker/tasks"
)

// scriptCalls counts the scripts a go-redis client runs.
type scriptCalls struct{ n atomic.Int64 }

func (h *scriptCalls) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *scriptCalls) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h *scriptCalls) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "evalsha" || cmd.Name() == "eval" {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

// TestCallSlotTakenWithTheLease runs sync jobs with a rate limiter whose own
// reservations are counted, and checks that every job's DetachLoadBalancers
// call went on the slot its lease script reserved: the limiter, which every
// call waits on, never asked Redis itself.
func TestCallSlotTakenWithTheLease(t *testing.T) {
	t.Parallel()
	own := &scriptCalls{}
	p := startPipeline(t, pipelineOptions{limiter: func(rs *redistest.Server) *ratelimit.Limiter {
		c := rs.Client(t)
		c.AddHook(own)
		l, err := ratelimit.New(c, ratelimit.DefaultKey, 50)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}})
	const jobs = 4
	var enq []tasks.EnqueueResult
	for i := range jobs {
		g := fmt.Sprintf("asg-rl-%d", i)
		p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: g, LoadBalancerIds: []string{"lb-1", "lb-2"}})
		res, err := tasks.Enqueue(context.Background(), p.client, tasks.DetachPayload{ScalingGroupId: g, LoadBalancerIds: []string{"lb-1"}})
		if err != nil {
			t.Fatal(err)
		}
		enq = append(enq, res...)
	}
	for _, info := range p.wait(t, enq) {
		if r := result(t, info); r.Outcome != tasks.OutcomeDetached {
			t.Fatalf("job %s: result %+v", info.ID, r)
		}
	}
	if s := p.emu.Stats(); s.DetachesApplied != jobs {
		t.Fatalf("stats %+v, want %d detaches", s, jobs)
	}
	if n := own.n.Load(); n != 0 {
		t.Errorf("the limiter reserved on its own %d times, want 0 (every call's slot came with its lease)", n)
	}
}
