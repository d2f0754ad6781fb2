package detach

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"essworker/internal/ratelimit"
)

// leaseStateScript is a job's first step, one call to Redis: it reads the
// job's state and takes the group lease if free, or renews it if the caller
// holds it; for a job about to call DetachLoadBalancers (no activity record)
// with a rate limiter, it also reserves that call's slot. A job that a claim
// took into a shared call does not take the lease for itself: it renews the
// call's, if the call still holds the group or nobody does. A waiting job
// that takes the lease leaves its group's waiting set in the same step, so no
// claim takes it in.
//
// KEYS[1] -> <prefix>lease:<scaling group ID> (groupLeases.key), a string:
// the holder's task ID or a shared call's token
// KEYS[2] -> <prefix>activity:<ClientToken> (activityRecords.key), the job's
// hash, with the fields "joined" and "waiting" besides its state
// KEYS[3] -> <prefix>waiting:<scaling group ID> (waitingJobs.setKey)
// KEYS[4] -> <prefix>waiting-jobs:<scaling group ID> (waitingJobs.jobsKey)
// KEYS[5] -> the rate limiter's timeline (ratelimit.Limiter.Key); without it
// no slot is reserved
// --
// ARGV[1] -> the caller's task ID
// ARGV[2] -> the lease's time to live, in milliseconds
// ARGV[3] -> the caller's ClientToken
// ARGV[4..9] -> the fields of the job's state (stateFields)
// ARGV[10], ARGV[11] -> the limiter's interval and horizon, in seconds
// (ratelimit.Limiter.ReserveArgs), with KEYS[5]
//
// Output:
// Returns {lease, holder, record, looks, last, call, busy, sent, slots, wait}: lease
// "taken" (the caller holds it, holder ""), "held" (holder is the task ID or
// call token that does) or "joined" (holder is the token of the caller's
// shared call); each state field "" when not set; then
// ratelimit.ReserveFunc's answer ({0, "0"} when no slot was asked for)
var leaseStateScript = redis.NewScript("redis.replicate_commands()" + ratelimit.ReserveFunc + `
local v = redis.call('HMGET', KEYS[2], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], 'joined', 'waiting')
local function answer(lease, holder, slot)
  return {lease, holder, v[1] or '', v[2] or '', v[3] or '', v[4] or '', v[5] or '', v[6] or '', slot[1], slot[2]}
end
local holder = redis.call('GET', KEYS[1])
if v[7] then
  if holder == false or holder == v[7] then
    redis.call('SET', KEYS[1], v[7], 'PX', ARGV[2])
  end
  return answer('joined', v[7], {0, '0'})
end
if holder ~= false and holder ~= ARGV[1] then
  return answer('held', holder, {0, '0'})
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if v[8] then
  redis.call('ZREM', KEYS[3], ARGV[3])
  redis.call('HDEL', KEYS[4], ARGV[3])
  redis.call('HDEL', KEYS[2], 'waiting')
end
local slot = {0, '0'}
if KEYS[5] and not v[1] then
  slot = reserve(KEYS[5], tonumber(ARGV[10]), 1, tonumber(ARGV[11]))
end
return answer('taken', '', slot)`)

// States of a lease for a job, as leaseStateScript finds it.
const (
	leaseTaken  = "taken"  // the job holds the group
	leaseHeld   = "held"   // another job or call does
	leaseJoined = "joined" // the job is a member of a shared call
)

// leaseState is the answer of leaseStateScript.
type leaseState struct {
	// lease is leaseTaken, leaseHeld or leaseJoined.
	lease string
	// holder is the job or call holding the lease (leaseHeld), or the
	// caller's shared call (leaseJoined).
	holder string
	state  jobState
	// slot is the rate limiter's answer to the reservation of the job's call.
	slot []any
}

// acquireWithState queues on p the job's first step (leaseStateScript) for
// the job with task ID holder and ClientToken token on groupID, with lim's
// slot when lim is set; leaseStateResult reads the answer.
func acquireWithState(ctx context.Context, p redis.Pipeliner, l groupLeases, s activityRecords, w waitingJobs, lim *ratelimit.Limiter, groupID, holder, token string) *pipedScript {
	keys := []string{l.key(groupID), s.key(token), w.setKey(groupID), w.jobsKey(groupID)}
	args := append([]any{holder, l.ttl.Milliseconds(), token}, stateFields...)
	if lim != nil {
		interval, horizon := lim.ReserveArgs()
		keys = append(keys, lim.Key())
		args = append(args, interval, horizon)
	}
	return queueScript(ctx, p, leaseStateScript, keys, args...)
}

// leaseStateResult reads an acquireWithState.
func leaseStateResult(cmd *redis.Cmd, groupID string) (leaseState, error) {
	var ls leaseState
	res, err := cmd.Slice()
	if err != nil {
		return ls, fmt.Errorf("acquire lease of group %s: %w", groupID, err)
	}
	n := len(stateFields)
	if len(res) != 2+n+2 {
		return ls, fmt.Errorf("acquire lease of group %s: %d values, want %d", groupID, len(res), 2+n+2)
	}
	ls.lease, _ = res[0].(string)
	ls.holder, _ = res[1].(string)
	ls.state, err = decodeState(res[2 : 2+n])
	ls.slot = res[2+n:]
	return ls, err
}
