package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// activityRecords stores activityRecords by ClientToken, and the set of
// activities being followed fleet-wide (for the in-flight gauge).
type activityRecords struct {
	rdb    redis.UniversalClient
	prefix string
	// ttl outlives the poll timeout, so a job never loses its record while it waits.
	ttl time.Duration
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
		p.Set(ctx, s.key(token), b, s.ttl)
		p.ZAdd(ctx, s.inFlightKey(), redis.Z{Score: float64(rec.StartedAt.Unix()), Member: token})
		return nil
	})
	if err != nil {
		return fmt.Errorf("save activity %s: %w", rec.ScalingActivityId, err)
	}
	return nil
}

// load returns the record of token, or ok=false when there is none.
func (s activityRecords) load(ctx context.Context, token string) (rec activityRecord, ok bool, err error) {
	b, err := s.rdb.Get(ctx, s.key(token)).Bytes()
	if errors.Is(err, redis.Nil) {
		return rec, false, nil
	}
	if err != nil {
		return rec, false, fmt.Errorf("load activity record: %w", err)
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return rec, false, fmt.Errorf("decode activity record: %w", err)
	}
	return rec, true, nil
}

// finish takes the activity off the in-flight set. The record itself stays until
// its TTL, so a job replayed after a crash still finds the activity.
func (s activityRecords) finish(ctx context.Context, token string) error {
	if err := s.rdb.ZRem(ctx, s.inFlightKey(), token).Err(); err != nil {
		return fmt.Errorf("finish activity record: %w", err)
	}
	return nil
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
