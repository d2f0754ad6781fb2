package detach

import (
	"context"
	"fmt"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"essworker/internal/jobend"
)

// resultReleaseScript ends a job's turn on its group (handOffFunc) and, when
// the group is freed or no longer the job's, writes the job's result into
// asynq's task hash, as asynq's ResultWriter does: a job's last step costs
// Redis one call. When jobs wait for the group, it writes nothing and
// returns them, the lease kept: the job hands the group on first, then
// writes its result.
//
// KEYS[1] -> <prefix>lease:<scaling group ID> (groupLeases.key), a string:
// the holder's task ID or a shared call's token
// KEYS[2] -> <prefix>waiting:<scaling group ID> (waitingJobs.setKey)
// KEYS[3] -> <prefix>waiting-jobs:<scaling group ID> (waitingJobs.jobsKey)
// KEYS[4] -> asynq:{<queue>}:t:<task ID> (jobend.TaskKey), asynq's task hash;
// without it no result is written
// --
// ARGV[1] -> the holder of the job's lease: its task ID or its shared call's token
// ARGV[2] -> the oldest last-seen time of a waiting job still fresh, Unix ms
// ARGV[3] -> the result field (jobend.ResultField)
// ARGV[4] -> the result
//
// Output:
// Returns {} when the result is written
// Returns the waitEntry JSON of every fresh waiting job, no result written
var resultReleaseScript = redis.NewScript(handOffFunc + `
local waiting = handOff(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2])
if waiting and #waiting > 0 then return waiting end
if KEYS[4] then
  redis.call('HSET', KEYS[4], ARGV[3], ARGV[4])
end
return {}`)

// writeEnd writes a job's final result and, in the same round trip (shared
// with other jobs'), ends its turn on its group, takes its activity off the
// in-flight set and folds in the activity length it learned. When jobs wait
// for the group, the job first hands it on to them (passOn), which sends
// their call, and then writes its result: the result always comes right
// before asynq marks the task done, so a failover is unlikely to keep one and
// lose the other. If the round trip fails the attempt fails (the next one
// renews the lease and writes again); if only the bookkeeping fails, the
// lease expires by itself, the mark is dropped after the wait bound, and the
// estimate misses one sample.
func (h *Handler) writeEnd(ctx context.Context, j *job, result []byte) error {
	if !j.leased {
		return writeResult(j.task, result)
	}
	if err := ctx.Err(); err != nil {
		// As asynq's ResultWriter: an attempt that ends with its context (a
		// shutdown) writes nothing, and asynq hands the job back.
		return fmt.Errorf("write result: %w", err)
	}
	p := j.payload
	keys := []string{h.leases.key(p.ScalingGroupId), h.waiting.setKey(p.ScalingGroupId), h.waiting.jobsKey(p.ScalingGroupId)}
	// Outside an asynq server (no queue, no ResultWriter) there is no task
	// hash: the group is freed all the same.
	if queue, ok := asynq.GetQueueName(ctx); ok {
		keys = append(keys, jobend.TaskKey(queue, j.taskID))
	}
	var ended, observed *pipedScript
	var finished redis.Cmder
	h.trips.Do(func(pipe redis.Pipeliner) {
		ended = queueScript(ctx, pipe, resultReleaseScript, keys, j.holder, h.waiting.cutoff(), jobend.ResultField, result)
		if j.polling {
			inFlight := j.token
			if j.shared != nil {
				inFlight = j.holder
			}
			finished = h.records.finish(ctx, pipe, inFlight)
			if j.sample > 0 {
				observed = h.estimates.observe(ctx, pipe, p.ScalingGroupId, j.sample)
			}
		}
	})
	waiting, err := waitersResult(ended.result(ctx, h.cfg.Redis))
	if err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	if finished != nil && finished.Err() != nil {
		j.log.Warn("in-flight mark or activity estimate not written", "err", finished.Err())
	}
	if observed != nil {
		if err := observed.result(ctx, h.cfg.Redis).Err(); err != nil {
			j.log.Warn("in-flight mark or activity estimate not written", "err", err)
		}
	}
	if len(waiting) == 0 {
		return nil
	}
	h.passOn(ctx, p.ScalingGroupId, j.holder, waiting, j.knownEstimate(), j.log)
	return writeResult(j.task, result)
}

// writeResult writes result with t's ResultWriter, when it has one.
func writeResult(t *asynq.Task, result []byte) error {
	if w := t.ResultWriter(); w != nil {
		if _, err := w.Write(result); err != nil {
			return fmt.Errorf("write result: %w", err)
		}
	}
	return nil
}
