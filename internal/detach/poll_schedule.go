package detach

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultFollowUp is the first wait between polls once a first look found the
// activity still running; later waits double up to the poll interval.
const DefaultFollowUp = time.Second

// estimateAlpha weighs a new sample in a group's activity-length estimate.
const estimateAlpha = 0.3

// pollSchedule says when a job looks at its activity: first at the group's
// estimated activity length (its first look usually finds the activity done,
// one DescribeScalingActivities call per job), then, if it was not, after
// followUp, doubling up to interval, so a longer activity than usual is still
// noticed within one poll interval of its end. Without an estimate the first
// look comes after followUp.
type pollSchedule struct {
	First    time.Duration `json:"First"`
	FollowUp time.Duration `json:"FollowUp"`
	Interval time.Duration `json:"Interval"`
}

func newPollSchedule(estimate, followUp, interval time.Duration) pollSchedule {
	followUp = min(followUp, interval)
	if estimate <= 0 {
		// A group's first activity: look early and back off, so the length it
		// teaches is close to the truth, not just "at most the poll interval".
		estimate = followUp
	}
	return pollSchedule{First: estimate, FollowUp: followUp, Interval: interval}
}

// gap is the wait after look l.
func (s pollSchedule) gap(l look) time.Duration {
	if l.n > 30 {
		return s.Interval
	}
	return min(s.FollowUp<<l.n, s.Interval)
}

// sampleSlack is how much later than planned a look may come and still teach
// an activity length: a later one followed a failed look, a crash or a backlog.
const sampleSlack = 2 * time.Second

// sample is the activity length that an end seen by look l at now suggests,
// for an activity started at start, and whether it suggests one at all. On the
// first look it is only known to be at most the planned first look, so take a
// little less: the estimate then creeps down until a look comes too early, and
// the queue's own delays (looks run late) never push it up. Later, the middle
// between this look and the last that found the activity running, unless the
// two are further apart than planned.
func (s pollSchedule) sample(l look, start, now time.Time) (time.Duration, bool) {
	if l.n == 0 || l.previous.IsZero() {
		return max(s.First-s.FollowUp/4, time.Millisecond), true
	}
	since := now.Sub(l.previous)
	if since > s.gap(look{n: l.n - 1})+sampleSlack {
		return 0, false
	}
	return max(l.previous.Add(since/2).Sub(start), time.Millisecond), true
}

// activityEstimates keeps, per scaling group, a moving average of how long its
// activities take, shared by the fleet in one Redis hash.
type activityEstimates struct {
	key string
}

// observeScript folds a sample into the moving average, a sample being held to
// twice the estimate so that one odd activity cannot stall its group. A group
// without an estimate takes the sample as it is.
//
// KEYS[1] -> <prefix>activity-estimates, a hash: scaling group ID -> estimate (ms)
// --
// ARGV[1] -> the scaling group ID
// ARGV[2] -> the sample, in milliseconds
// ARGV[3] -> the weight of the sample (estimateAlpha)
//
// Output:
// Returns 1
var observeScript = redis.NewScript(`
local old = tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
local new = tonumber(ARGV[2])
if old then new = old + tonumber(ARGV[3]) * (math.min(new, 2 * old) - old) end
redis.call('HSET', KEYS[1], ARGV[1], math.floor(new))
return 1`)

// get queues on c (a client or a pipeline) the reading of groupID's estimate;
// estimateResult reads the answer.
func (e activityEstimates) get(ctx context.Context, c redis.Cmdable, groupID string) *redis.StringCmd {
	return c.HGet(ctx, e.key, groupID)
}

// estimateResult reads a get: zero when the group has no estimate yet.
func estimateResult(cmd *redis.StringCmd) (time.Duration, error) {
	ms, err := cmd.Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read activity estimate: %w", err)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// observe queues on p, by the script's SHA1, folding sample into groupID's
// estimate.
func (e activityEstimates) observe(ctx context.Context, p redis.Pipeliner, groupID string, sample time.Duration) *pipedScript {
	return queueScript(ctx, p, observeScript, []string{e.key}, groupID, sample.Milliseconds(), estimateAlpha)
}
