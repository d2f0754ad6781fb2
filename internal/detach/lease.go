package detach

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// groupLeases keeps one job at a time per scaling group across the fleet. A lease
// belongs to a task ID, not a process, so a job that snoozes or is picked up by
// another worker after a crash still holds it; it expires if nobody renews it.
type groupLeases struct {
	prefix string
	ttl    time.Duration
}

// acquireScript takes the lease if free, renews it if the caller holds it, and
// otherwise returns the holder.
//
// KEYS[1] -> <prefix>lease:<scaling group ID>, a string: the holder's task ID
// --
// ARGV[1] -> the caller's task ID
// ARGV[2] -> the lease's time to live, in milliseconds
//
// Output:
// Returns "" when the caller holds the lease (taken or renewed)
// Returns the holder's task ID when another job holds it
var acquireScript = redis.NewScript(`
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ''
end
return holder`)

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

// acquire queues on sc (a client or a pipeline) the taking or renewal of the
// lease of groupID for holder; leaseResult reads the answer.
func (l groupLeases) acquire(ctx context.Context, sc redis.Scripter, groupID, holder string) *redis.Cmd {
	return acquireScript.Eval(ctx, sc, []string{l.key(groupID)}, holder, l.ttl.Milliseconds())
}

// leaseResult reads an acquire: taken, or the other job that holds the lease.
func leaseResult(cmd *redis.Cmd, groupID string) (taken bool, other string, err error) {
	res, err := cmd.Text()
	if err != nil {
		return false, "", fmt.Errorf("acquire lease of group %s: %w", groupID, err)
	}
	return res == "", res, nil
}

// release queues on sc the freeing of the lease, if holder still has it.
func (l groupLeases) release(ctx context.Context, sc redis.Scripter, groupID, holder string) *redis.Cmd {
	return releaseScript.Eval(ctx, sc, []string{l.key(groupID)}, holder)
}
