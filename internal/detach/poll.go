package detach

import (
	"context"
	"encoding/json"
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
	// DetachedIds are the load balancers the activity detaches when the job's
	// call left some out (a mixed batch); empty means all of the job's.
	DetachedIds []string `json:"DetachedIds,omitempty"`
	// NotAttachedIds are the job's load balancers found not attached.
	NotAttachedIds []string `json:"NotAttachedIds,omitempty"`
	// EarlierRequestIds are the calls of a mixed batch before the detach.
	EarlierRequestIds []string `json:"EarlierRequestIds,omitempty"`
	// Schedule is fixed when the activity starts, so every worker that picks
	// the job up polls on the same plan.
	Schedule pollSchedule `json:"Schedule"`
}

// activityRecords stores what a job must remember across attempts by
// ClientToken, each in one hash (see jobState): the activity record with the
// count and time of the looks taken at the activity, a pending call, and the
// start of a busy wait; and the set of activities being followed fleet-wide
// (for the in-flight gauge).
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
		p.HSet(ctx, s.key(token), fieldRecord, b, fieldLooks, 0, fieldLast, 0)
		p.HDel(ctx, s.key(token), fieldBusy)
		p.Expire(ctx, s.key(token), s.ttl)
		p.ZAdd(ctx, s.inFlightKey(), redis.Z{Score: float64(rec.StartedAt.Unix()), Member: token})
		return nil
	})
	if err != nil {
		return fmt.Errorf("save activity %s: %w", rec.ScalingActivityId, err)
	}
	return nil
}

// countLook records a look that found the activity running at now. Only such
// looks count: a look whose call failed says nothing about the activity, and
// counting it would stretch the schedule and the learned length.
func (s activityRecords) countLook(ctx context.Context, token string, now time.Time) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, s.key(token), fieldLooks, 1)
		p.HSet(ctx, s.key(token), fieldLast, now.UnixMilli())
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
