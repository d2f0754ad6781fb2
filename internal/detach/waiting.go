package detach

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"essworker/internal/jobend"
)

// waitingJobs is, per scaling group, the set of jobs that found the group
// leased and wait for it: a sorted set of their ClientTokens scored by when
// each was last seen, and a hash of what each would send (waitEntry). The job
// that ends the group's current call claims the next batch from it (see
// claimScript), so jobs of one group share calls instead of taking turns.
type waitingJobs struct {
	prefix string
	// staleAfter drops an entry not seen for that long: its job was deleted,
	// archived or is late, and its load balancers must not be detached for it.
	staleAfter time.Duration
}

func (w waitingJobs) setKey(groupID string) string  { return w.prefix + "waiting:" + groupID }
func (w waitingJobs) jobsKey(groupID string) string { return w.prefix + "waiting-jobs:" + groupID }

// waitEntry is what a waiting job would send, in the waiting-jobs hash.
type waitEntry struct {
	ClientToken     string   `json:"t"`
	RegionId        string   `json:"r"`
	ForceDetach     bool     `json:"f"`
	Async           bool     `json:"a"`
	LoadBalancerIds []string `json:"l"`
	// Since is when the job first registered, Unix ms: batches are taken oldest first.
	Since int64 `json:"s"`
	// Queue and TaskID name the job's asynq task, when it runs in an asynq
	// server: a claim takes the job only while that task exists and is
	// neither archived nor completed, so that a job deleted or archived while
	// it waits has none of its load balancers detached.
	Queue  string `json:"q,omitempty"`
	TaskID string `json:"i,omitempty"`
}

// taskKey is the key of e's asynq task hash, "" when e names none.
func (e waitEntry) taskKey() string {
	if e.Queue == "" || e.TaskID == "" {
		return ""
	}
	return jobend.TaskKey(e.Queue, e.TaskID)
}

// registerScript adds a job to its group's waiting set, unless a claim
// already made it a member of a call: the check and the registration are one
// step, so a claimed job never registers again.
//
// KEYS[1] -> <prefix>activity:<ClientToken>, the job's hash (activityRecords.key)
// KEYS[2] -> <prefix>waiting:<group>, sorted set: ClientToken -> last seen, Unix ms
// KEYS[3] -> <prefix>waiting-jobs:<group>, hash: ClientToken -> waitEntry JSON
// --
// ARGV[1] -> the job's ClientToken
// ARGV[2] -> its waitEntry JSON (kept from the first registration)
// ARGV[3] -> now, Unix ms
// ARGV[4] -> time to live of the two waiting keys and of the job's hash, ms
//
// Output:
// Returns the ClientToken of the call the job is a member of
// Returns "" when the job now waits
var registerScript = redis.NewScript(`
local call = redis.call('HGET', KEYS[1], 'joined')
if call then return call end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('HSETNX', KEYS[3], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[1], 'waiting', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
return ''`)

// register adds e to groupID's waiting set; it returns the token of the call
// the job already joined instead, if any.
func (w waitingJobs) register(ctx context.Context, rdb redis.Scripter, jobKey, groupID string, e waitEntry, ttl time.Duration) (string, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return "", fmt.Errorf("encode waiting entry: %w", err)
	}
	call, err := registerScript.Run(ctx, rdb, []string{jobKey, w.setKey(groupID), w.jobsKey(groupID)},
		e.ClientToken, b, time.Now().UnixMilli(), ttl.Milliseconds()).Text()
	if err != nil {
		return "", fmt.Errorf("wait for group %s: %w", groupID, err)
	}
	return call, nil
}

// handOffFunc is Lua defining handOff(lease, set, jobs, holder, cutoff),
// which ends holder's turn on a group: it frees the lease when nobody waits,
// and otherwise keeps it and returns the waitEntry JSON of every waiting job
// seen at cutoff (Unix ms) or later, dropping the others, so that the caller
// claims the next batch (claimScript) with no moment in which another job
// could take the group first. It returns false when holder no longer holds
// the lease, and {} when it freed it.
const handOffFunc = `
local function handOff(lease, set, jobs, holder, cutoff)
  if redis.call('GET', lease) ~= holder then return false end
  if redis.call('ZCARD', set) > 0 then
    for _, t in ipairs(redis.call('ZRANGEBYSCORE', set, '-inf', '(' .. cutoff)) do
      redis.call('ZREM', set, t)
      redis.call('HDEL', jobs, t)
    end
    local tokens = redis.call('ZRANGE', set, 0, -1)
    if #tokens > 0 then return redis.call('HMGET', jobs, unpack(tokens)) end
  end
  redis.call('DEL', lease)
  return {}
end
`

// handOffScript ends the holder's turn on the group (see handOffFunc).
//
// KEYS[1] -> <prefix>lease:<group>, the holder's task ID or call token
// KEYS[2] -> <prefix>waiting:<group>
// KEYS[3] -> <prefix>waiting-jobs:<group>
// --
// ARGV[1] -> the holder
// ARGV[2] -> the oldest last-seen time still fresh, Unix ms
//
// Output:
// Returns false (nil) when the holder no longer holds the lease
// Returns {} when it freed the lease
// Returns the waitEntry JSON of every fresh waiting job, the lease kept
var handOffScript = redis.NewScript(handOffFunc + `
return handOff(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2])`)

// handOff ends holder's turn on groupID, on rdb (a client: the script goes
// by its SHA1, its text only when Redis does not know it); waitersResult
// reads the answer.
func (w waitingJobs) handOff(ctx context.Context, rdb redis.Scripter, lease groupLeases, groupID, holder string) *redis.Cmd {
	return handOffScript.Run(ctx, rdb, []string{lease.key(groupID), w.setKey(groupID), w.jobsKey(groupID)}, holder, w.cutoff())
}

// cutoff is the oldest last-seen time of a waiting job still fresh, Unix ms.
func (w waitingJobs) cutoff() int64 { return time.Now().Add(-w.staleAfter).UnixMilli() }

// waitersResult reads a handOff: the waiting jobs, none when the lease was
// freed or was not the holder's.
func waitersResult(cmd *redis.Cmd) ([]waitEntry, error) {
	vals, err := cmd.Slice()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("hand off group: %w", err)
	}
	out := make([]waitEntry, 0, len(vals))
	for _, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue // an entry whose hash field went missing: not claimable
		}
		var e waitEntry
		if err := json.Unmarshal([]byte(s), &e); err != nil {
			return nil, fmt.Errorf("decode waiting entry: %w", err)
		}
		out = append(out, e)
	}
	return out, nil
}

// claimScript makes the next batch of waiting jobs one call: while the
// caller still holds the group, each member leaves the waiting set and its
// hash names the call; the call is stored; a "calling" marker says its maker
// is sending it; and the lease passes to the call's token. A member whose
// asynq task is gone (deleted), archived or completed leaves the waiting set
// instead, and nothing else changes.
//
// KEYS[1] -> <prefix>lease:<group>
// KEYS[2] -> <prefix>waiting:<group>
// KEYS[3] -> <prefix>waiting-jobs:<group>
// KEYS[4] -> <prefix>call:<call token>, hash: "call" -> groupCall JSON
// KEYS[5] -> <prefix>calling:<call token>, the marker
// KEYS[6..5+n] -> <prefix>activity:<member token>, each of the n members' hashes
// KEYS[6+n..] -> asynq:{<queue>}:t:<task ID> (jobend.TaskKey), the asynq task
// hash of each member that names its task
// --
// ARGV[1] -> the holder handing off
// ARGV[2] -> the call token
// ARGV[3] -> the lease's time to live, ms
// ARGV[4] -> the groupCall JSON
// ARGV[5] -> the oldest last-seen time still fresh, Unix ms
// ARGV[6] -> the marker's time to live, ms
// ARGV[7] -> the time to live of the call and of the members' hashes, ms
// ARGV[8..7+n] -> the members' ClientTokens, in the order of KEYS[6..5+n]
// ARGV[8+n..7+2n] -> for each member, the index in KEYS of its task hash, 0
// when it names none
//
// Output:
// Returns 1 when the call is claimed
// Returns 0 when the holder no longer holds the lease (nothing changed)
// Returns -1 when a member no longer waits (nothing changed), or its task is
// gone, archived or completed (that member left the waiting set)
var claimScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local n = (#ARGV - 7) / 2
for i = 1, n do
  local token = ARGV[7 + i]
  local seen = redis.call('ZSCORE', KEYS[2], token)
  if not seen or tonumber(seen) < tonumber(ARGV[5]) then return -1 end
  local task = tonumber(ARGV[7 + n + i])
  if task > 0 then
    local state = redis.call('HGET', KEYS[task], 'state')
    if not state or state == 'archived' or state == 'completed' then
      redis.call('ZREM', KEYS[2], token)
      redis.call('HDEL', KEYS[3], token)
      redis.call('HDEL', KEYS[5 + i], 'waiting')
      return -1
    end
  end
end
for i = 1, n do
  local token, job = ARGV[7 + i], KEYS[5 + i]
  redis.call('ZREM', KEYS[2], token)
  redis.call('HDEL', KEYS[3], token)
  redis.call('HSET', job, 'joined', ARGV[2])
  redis.call('HDEL', job, 'waiting')
  redis.call('PEXPIRE', job, ARGV[7])
end
redis.call('HSET', KEYS[4], 'call', ARGV[4])
redis.call('PEXPIRE', KEYS[4], ARGV[7])
redis.call('SET', KEYS[5], 1, 'PX', ARGV[6])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`)
