package detach

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// groupLeases keeps one call at a time per scaling group across the fleet. A
// lease belongs to a task ID, or to the token of a call that jobs share (see
// waitingJobs), not to a process, so a job that snoozes or is picked up by
// another worker after a crash still holds it; it expires if nobody renews it.
// A job takes or renews it with its state (lease_state.go) and frees it, or
// hands it on, with its result (result_release.go).
type groupLeases struct {
	prefix string
	ttl    time.Duration
}

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

// release frees the lease on rdb, if holder still has it. The script goes
// by its SHA1, its text only when Redis does not know it.
func (l groupLeases) release(ctx context.Context, rdb redis.Scripter, groupID, holder string) *redis.Cmd {
	return releaseScript.Run(ctx, rdb, []string{l.key(groupID)}, holder)
}
