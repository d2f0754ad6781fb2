package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// activityRecord is what a job remembers once ESS has started its scaling
// activity. It lives in Redis, so a job that a restarted or another worker picks
// up polls the activity instead of calling detach again.
type activityRecord struct {
	ScalingActivityId string    `json:"ScalingActivityId"`
	RegionId          string    `json:"RegionId,omitempty"`
	DetachRequestId   string    `json:"DetachRequestId"`
	StartedAt         time.Time `json:"StartedAt"`
	// Schedule is fixed when the activity starts, so every worker that picks
	// the job up polls on the same plan.
	Schedule pollSchedule `json:"Schedule"`
}

// activityRecords stores activityRecords by ClientToken, each in a hash with
// the count and time of the looks taken at the activity, and the set of
// activities being followed fleet-wide (for the in-flight gauge).
type activityRecords struct {
	rdb    redis.UniversalClient
	prefix string
	// ttl outlives the poll timeout, so a job never loses its record while it waits.
	ttl time.Duration
}

// look is what a job knows when it takes a look at its activity.
type look struct {
	// n counts the earlier looks: 0 for the first.
	n int
	// previous is when the last look was taken (zero for the first).
	previous time.Time
}

func (s activityRecords) key(token string) string { return s.prefix + "activity:" + token }
func (s activityRecords) inFlightKey() string     { return s.prefix + "activities" }

// save writes the record and marks the activity in flight, in one round trip.
func (s activityRecords) save(ctx context.Context, token string, rec activityRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode activity record: %w", err)
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.key(token), "record", b, "looks", 0, "last", 0)
		p.Expire(ctx, s.key(token), s.ttl)
		p.ZAdd(ctx, s.inFlightKey(), redis.Z{Score: float64(rec.StartedAt.Unix()), Member: token})
		return nil
	})
	if err != nil {
		return fmt.Errorf("save activity %s: %w", rec.ScalingActivityId, err)
	}
	return nil
}

// takeLookScript returns the record with the look count and last look time,
// counting this look, or nil when there is no record.
var takeLookScript = redis.NewScript(`
local rec = redis.call('HGET', KEYS[1], 'record')
if not rec then return false end
local n = redis.call('HINCRBY', KEYS[1], 'looks', 1) - 1
local last = redis.call('HGET', KEYS[1], 'last') or '0'
redis.call('HSET', KEYS[1], 'last', ARGV[1])
return {rec, n, last}`)

// takeLook queues on sc (a client or a pipeline) the reading of token's record
// and the counting of a look at its activity; lookResult reads the answer.
func (s activityRecords) takeLook(ctx context.Context, sc redis.Scripter, token string, now time.Time) *redis.Cmd {
	return takeLookScript.Eval(ctx, sc, []string{s.key(token)}, now.UnixMilli())
}

// lookResult reads a takeLook; ok is false when the job has started no activity.
func lookResult(cmd *redis.Cmd) (rec activityRecord, l look, ok bool, err error) {
	res, err := cmd.Slice()
	if errors.Is(err, redis.Nil) {
		return rec, l, false, nil
	}
	if err != nil {
		return rec, l, false, fmt.Errorf("load activity record: %w", err)
	}
	if len(res) != 3 {
		return rec, l, false, fmt.Errorf("load activity record: %d values, want 3", len(res))
	}
	b, _ := res[0].(string)
	n, _ := res[1].(int64)
	lastMs, _ := strconv.ParseInt(fmt.Sprint(res[2]), 10, 64)
	if err := json.Unmarshal([]byte(b), &rec); err != nil {
		return rec, l, false, fmt.Errorf("decode activity record: %w", err)
	}
	l.n = int(n)
	if lastMs > 0 {
		l.previous = time.UnixMilli(lastMs)
	}
	return rec, l, true, nil
}

// finish queues on p the taking of the activity off the in-flight set. The
// record itself stays until its TTL, so a job replayed after a crash still
// finds the activity.
func (s activityRecords) finish(ctx context.Context, p redis.Cmdable, token string) *redis.IntCmd {
	return p.ZRem(ctx, s.inFlightKey(), token)
}

// InFlightActivities counts the scaling activities that jobs are following
// fleet-wide, forgetting entries older than maxAge (jobs deleted by an operator).
func InFlightActivities(ctx context.Context, rdb redis.UniversalClient, keyPrefix string, maxAge time.Duration) (int64, error) {
	s := activityRecords{rdb: rdb, prefix: keyPrefix}
	cutoff := time.Now().Add(-maxAge).Unix()
	var card *redis.IntCmd
	_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRemRangeByScore(ctx, s.inFlightKey(), "-inf", fmt.Sprint(cutoff))
		card = p.ZCard(ctx, s.inFlightKey())
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count activities in flight: %w", err)
	}
	return card.Val(), nil
}
