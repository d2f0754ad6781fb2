package tasks

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
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
// noticed within one poll interval of its end. Without an estimate it polls
// every interval.
type pollSchedule struct {
	First    time.Duration `json:"First"`
	FollowUp time.Duration `json:"FollowUp"`
	Interval time.Duration `json:"Interval"`
}

func newPollSchedule(estimate, followUp, interval time.Duration) pollSchedule {
	if estimate <= 0 {
		return pollSchedule{First: interval, FollowUp: interval, Interval: interval}
	}
	followUp = min(followUp, interval)
	return pollSchedule{First: estimate + followUp/2, FollowUp: followUp, Interval: interval}
}

// gap is the wait before the next look at elapsed after the detach answer.
func (s pollSchedule) gap(elapsed time.Duration) time.Duration {
	return s.gapAfter(s.followUps(elapsed))
}

// followUps counts the looks after the first one, the one at elapsed included:
// they come at First + FollowUp*(2^n - 1) while the gaps are not capped.
func (s pollSchedule) followUps(elapsed time.Duration) int {
	since := elapsed - s.First
	if s.FollowUp <= 0 || since < s.FollowUp/2 {
		return 0
	}
	return int(math.Round(math.Log2(float64(since)/float64(s.FollowUp) + 1)))
}

func (s pollSchedule) gapAfter(n int) time.Duration {
	if n > 30 {
		return s.Interval
	}
	return min(s.FollowUp<<n, s.Interval)
}

// sample is the activity length that an end seen at elapsed suggests: on the
// first look only that it was at most elapsed, so take a little less (which
// lets the estimate come down when activities get shorter); later, the middle
// of the last gap.
func (s pollSchedule) sample(elapsed time.Duration) time.Duration {
	n := s.followUps(elapsed)
	if n == 0 {
		return max(elapsed-s.FollowUp, 0)
	}
	return max(elapsed-s.gapAfter(n-1)/2, 0)
}

// activityEstimates keeps, per scaling group, a moving average of how long its
// activities take, shared by the fleet in one Redis hash.
type activityEstimates struct {
	rdb redis.UniversalClient
	key string
}

var observeScript = redis.NewScript(`
local old = tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
local new = tonumber(ARGV[2])
if old then new = old + tonumber(ARGV[3]) * (new - old) end
redis.call('HSET', KEYS[1], ARGV[1], math.floor(new))
return 1`)

func (e activityEstimates) get(ctx context.Context, groupID string) (time.Duration, error) {
	v, err := e.rdb.HGet(ctx, e.key, groupID).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read activity estimate: %w", err)
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read activity estimate %q: %w", v, err)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

func (e activityEstimates) observe(ctx context.Context, groupID string, sample time.Duration) error {
	err := observeScript.Run(ctx, e.rdb, []string{e.key}, groupID, sample.Milliseconds(), estimateAlpha).Err()
	if err != nil {
		return fmt.Errorf("record activity estimate: %w", err)
	}
	return nil
}
