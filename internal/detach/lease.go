package detach

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// groupLeases keeps one call at a time per scaling group across the fleet. A
// lease belongs to a task ID, or to the token of a call that jobs share (see
// waitingJobs), not to a process, so a job that snoozes or is picked up by
// another worker after a crash still holds it; it expires if nobody renews it.
type groupLeases struct {
	prefix string
	ttl    time.Duration
}

// acquireScript takes the lease if free, renews it if the caller holds it,
// and otherwise returns the holder. A job a claim took into a shared call
// does not take the lease for itself: it renews the call's, if the call
// still holds the group or nobody does. A waiting job that takes the lease
// leaves its group's waiting set in the same step, so no claim takes it in.
//
// KEYS[1] -> <prefix>lease:<scaling group ID>, a string: the holder's task ID or call token
// KEYS[2] -> <prefix>activity:<ClientToken>, the job's hash (fields joined, waiting)
// KEYS[3] -> <prefix>waiting:<scaling group ID> (waitingJobs.setKey)
// KEYS[4] -> <prefix>waiting-jobs:<scaling group ID> (waitingJobs.jobsKey)
// --
// ARGV[1] -> the caller's task ID
// ARGV[2] -> the lease's time to live, in milliseconds
// ARGV[3] -> the caller's ClientToken
//
// Output:
// Returns {"taken", ""} when the caller holds the lease (taken or renewed)
// Returns {"held", holder} when another job or call holds it
// Returns {"joined", call token} when the caller is a member of that call
var acquireScript = redis.NewScript(`
local mine = redis.call('HMGET', KEYS[2], 'joined', 'waiting')
local holder = redis.call('GET', KEYS[1])
if mine[1] then
  if holder == false or holder == mine[1] then
    redis.call('SET', KEYS[1], mine[1], 'PX', ARGV[2])
  end
  return {'joined', mine[1]}
end
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  if mine[2] then
    redis.call('ZREM', KEYS[3], ARGV[3])
    redis.call('HDEL', KEYS[4], ARGV[3])
    redis.call('HDEL', KEYS[2], 'waiting')
  end
  return {'taken', ''}
end
return {'held', holder}`)

// releaseScript frees the lease if the caller still holds it.
//
// KEYS[1] -> <prefix>lease:<scaling group ID>
// --
// ARGV[1] -> the caller's task ID
//
// Output:
// Returns 1 when it freed the lease
// Returns 0 when another job holds it or nobody does
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

func (l groupLeases) key(groupID string) string { return l.prefix + "lease:" + groupID }

// States of a lease for a job, as acquire finds it.
const (
	leaseTaken  = "taken"  // the job holds the group
	leaseHeld   = "held"   // another job or call does
	leaseJoined = "joined" // the job is a member of a shared call
)

// leaseAnswer is what acquire found: the state and, unless taken, the holder
// or the call joined.
type leaseAnswer struct {
	state  string
	holder string
}

// acquire queues on sc (a client or a pipeline) the taking or renewal of the
// lease of groupID for the job with task ID holder, its hash at jobKey and
// ClientToken token; leaseResult reads the answer.
func (l groupLeases) acquire(ctx context.Context, sc redis.Scripter, w waitingJobs, groupID, holder, jobKey, token string) *redis.Cmd {
	keys := []string{l.key(groupID), jobKey, w.setKey(groupID), w.jobsKey(groupID)}
	return acquireScript.Eval(ctx, sc, keys, holder, l.ttl.Milliseconds(), token)
}

// leaseResult reads an acquire.
func leaseResult(cmd *redis.Cmd, groupID string) (leaseAnswer, error) {
	res, err := cmd.StringSlice()
	if err != nil {
		return leaseAnswer{}, fmt.Errorf("acquire lease of group %s: %w", groupID, err)
	}
	if len(res) != 2 {
		return leaseAnswer{}, fmt.Errorf("acquire lease of group %s: %d values, want 2", groupID, len(res))
	}
	return leaseAnswer{state: res[0], holder: res[1]}, nil
}

// release queues on sc the freeing of the lease, if holder still has it.
func (l groupLeases) release(ctx context.Context, sc redis.Scripter, groupID, holder string) *redis.Cmd {
	return releaseScript.Eval(ctx, sc, []string{l.key(groupID)}, holder)
}
