package worker

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// redisCheckTimeout bounds the start-up check that Redis answers.
const redisCheckTimeout = 5 * time.Second

// ErrRedisUnreachable is returned by Run when Redis does not answer at start-up.
var ErrRedisUnreachable = errors.New("redis unreachable")

// RedisConn parses a Redis URL into asynq's connection options and a go-redis
// client on the same server. Errors never repeat the URL's password.
func RedisConn(rawURL string) (asynq.RedisConnOpt, redis.UniversalClient, error) {
	opt, err := asynq.ParseRedisURI(rawURL)
	if err != nil {
		return nil, nil, &FieldError{"redis-url", fmt.Sprintf("cannot parse %s: want redis://, rediss:// or redis-sentinel://", RedactURL(rawURL))}
	}
	rdb, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, nil, &FieldError{"redis-url", "unsupported Redis connection type"}
	}
	return opt, rdb, nil
}

// RedactURL returns u with its password replaced, for logs and errors.
func RedactURL(u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return "(unparseable URL)"
	}
	return parsed.Redacted()
}

// checkRedis fails fast, with a message a person can act on, when Redis does not answer.
func checkRedis(ctx context.Context, rdb redis.UniversalClient, rawURL string) error {
	ctx, cancel := context.WithTimeout(ctx, redisCheckTimeout)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("%w at %s (--redis-url / REDIS_URL): %v; start Redis, or try --demo", ErrRedisUnreachable, RedactURL(rawURL), err)
	}
	return nil
}
