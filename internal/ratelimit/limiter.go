package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// DefaultKey names the bucket shared by the fleet.
const DefaultKey = "essworker:ess"

// Limiter is a fleet-wide rate limit; it implements essclient.Limiter.
type Limiter struct {
	rl    *redis_rate.Limiter
	key   string
	limit redis_rate.Limit
}

// New returns a limiter of qps calls per second on the bucket key of rdb.
// The burst is one call: spacing calls evenly is what keeps every one-second
// window of ESS's throttle under the rate.
func New(rdb redis.UniversalClient, key string, qps float64) (*Limiter, error) {
	if qps <= 0 {
		return nil, fmt.Errorf("ratelimit: qps must be positive (got %v)", qps)
	}
	limit := redis_rate.Limit{Rate: 1, Burst: 1, Period: time.Duration(float64(time.Second) / qps)}
	if qps == float64(int(qps)) {
		limit = redis_rate.Limit{Rate: int(qps), Burst: 1, Period: time.Second}
	}
	return &Limiter{rl: redis_rate.NewLimiter(rdb), key: key, limit: limit}, nil
}

// Wait blocks until the caller may make one call, or ctx is done.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		res, err := l.rl.Allow(ctx, l.key, l.limit)
		if err != nil {
			return fmt.Errorf("ratelimit: %w", err)
		}
		if res.Allowed > 0 {
			return nil
		}
		t := time.NewTimer(res.RetryAfter)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
