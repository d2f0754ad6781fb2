package tasks

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// allQueuesKey is the Redis set in which asynq lists every queue it has
// written to.
const allQueuesKey = "asynq:queues"

// lookupScript finds, for each task ID of ARGV, the queue holding a task
// with that ID ("" for none), in one round trip. It reads asynq's key layout:
// the set of queues (KEYS[1]) and one hash per task, "asynq:{QUEUE}:t:ID".
// TestLookupFindsAsynqTasks checks that layout against asynq itself.
var lookupScript = redis.NewScript(`
local queues = redis.call('SMEMBERS', KEYS[1])
local out = {}
for i, id in ipairs(ARGV) do
  out[i] = ''
  for _, q in ipairs(queues) do
    if redis.call('EXISTS', 'asynq:{' .. q .. '}:t:' .. id) == 1 then
      out[i] = q
      break
    end
  end
end
return out
`)

// lookupQueues returns, for each of ids, the queue that holds a task with
// that ID, or "" when no queue does.
func lookupQueues(ctx context.Context, sc redis.Scripter, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	argv := make([]any, len(ids))
	for i, id := range ids {
		argv[i] = id
	}
	out, err := lookupScript.Run(ctx, sc, []string{allQueuesKey}, argv...).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("tasks: look up %d task IDs: %w", len(ids), err)
	}
	if len(out) != len(ids) {
		return nil, fmt.Errorf("tasks: look up %d task IDs: %d answers", len(ids), len(out))
	}
	return out, nil
}
