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
	// n counts the earlier looks that found the activity running: 0 for the first.
	n int
	// previous is when the last of them was taken (zero for the first).
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

// loadScript returns the record with the count and time of the looks that found
// the activity running, or nil when there is no record.
var loadScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'record', 'looks', 'last')
if not v[1] then return false end
return {v[1], v[2] or '0', v[3] or '0'}`)

// load queues on sc (a client or a pipeline) the reading of token's record;
// lookResult reads the answer.
func (s activityRecords) load(ctx context.Context, sc redis.Scripter, token string) *redis.Cmd {
	return loadScript.Eval(ctx, sc, []string{s.key(token)})
}

// lookResult reads a load; ok is false when the job has started no activity.
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
	n, _ := strconv.Atoi(fmt.Sprint(res[1]))
	lastMs, _ := strconv.ParseInt(fmt.Sprint(res[2]), 10, 64)
	if err := json.Unmarshal([]byte(b), &rec); err != nil {
		return rec, l, false, fmt.Errorf("decode activity record: %w", err)
	}
	l.n = n
	if lastMs > 0 {
		l.previous = time.UnixMilli(lastMs)
	}
	return rec, l, true, nil
}

// countLook records a look that found the activity running at now. Only such
// looks count: a look whose call failed says nothing about the activity, and
// counting it would stretch the schedule and the learned length.
func (s activityRecords) countLook(ctx context.Context, token string, now time.Time) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, s.key(token), "looks", 1)
		p.HSet(ctx, s.key(token), "last", now.UnixMilli())
		return nil
	})
	if err != nil {
		return fmt.Errorf("count a look at the activity: %w", err)
	}
	return nil
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
