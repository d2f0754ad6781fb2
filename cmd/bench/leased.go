package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"essworker/essclient"
	"essworker/internal/jobend"
	"essworker/tasks"
)

// plainLeaseTTL is the plain lease's time to live: far longer than a call.
const plainLeaseTTL = time.Minute

// plainEndScript writes a job's result into asynq's task hash and frees its
// group's lease if the job still holds it: a hand-written handler's last step.
//
// KEYS[1] -> the group's plain lease (benchEnv.plainLeaseKey)
// KEYS[2] -> asynq:{<queue>}:t:<task ID> (jobend.TaskKey)
// --
// ARGV[1] -> the job's task ID
// ARGV[2] -> the result field (jobend.ResultField)
// ARGV[3] -> the result
//
// Output:
// Returns 1
var plainEndScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1`)

// measureLeasedCall runs n sync jobs through an asynq server whose handler
// does what a careful hand-written one would around the ESS call: it takes
// its group's lease (SET NX EX, one round trip), makes the call, then writes
// its result and frees the lease (plainEndScript, one round trip), and
// nothing else: no job state, rate limit, shared round trip, shared call,
// log line or metric. The pipeline makes as many round trips of its own.
func measureLeasedCall(ctx context.Context, env *benchEnv, emu *emulator, name string, n int, tm timer) (runFigures, error) {
	jobs, err := syncJobs(emu.Emulator, env.groupPrefix(name), n)
	if err != nil {
		return runFigures{}, err
	}
	return measureCalls(ctx, env, emu.URL, emu.Credentials(), name, jobs, func(ess *essclient.Client) asynq.HandlerFunc {
		return leasedCall(env, ess)
	}, tm)
}

// leasedCall is measureLeasedCall's handler.
func leasedCall(env *benchEnv, ess *essclient.Client) asynq.HandlerFunc {
	rdb := env.redis.rdb
	return func(ctx context.Context, t *asynq.Task) error {
		p, err := tasks.DecodeDetachPayload(t.Payload())
		if err != nil {
			return err
		}
		id, _ := asynq.GetTaskID(ctx)
		queue, _ := asynq.GetQueueName(ctx)
		lease := env.plainLeaseKey(p.ScalingGroupId)
		taken, err := rdb.SetNX(ctx, lease, id, plainLeaseTTL).Result()
		if err != nil {
			return err
		}
		if !taken {
			return fmt.Errorf("group %s is leased", p.ScalingGroupId)
		}
		res, err := detachCall(ctx, ess, p)
		if err != nil {
			return err
		}
		b, err := jobend.EncodeResult(tasks.DetachResult{
			Outcome: tasks.OutcomeDetached, ClientToken: p.ClientToken, ScalingGroupId: p.ScalingGroupId,
			LoadBalancerIds: p.LoadBalancerIds, DetachedIds: p.LoadBalancerIds, RequestIds: []string{res.RequestID}, Attempts: 1,
		})
		if err != nil {
			return err
		}
		return plainEndScript.Run(ctx, rdb, []string{lease, jobend.TaskKey(queue, id)}, id, jobend.ResultField, b).Err()
	}
}
