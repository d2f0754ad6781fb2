package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"essworker/internal/redisconn"
)

// redisTarget is the Redis every goal runs on, with helpers to read it.
type redisTarget struct {
	url string
	opt asynq.RedisConnOpt
	rdb redis.UniversalClient
}

func openRedis(ctx context.Context, url string) (*redisTarget, error) {
	opt, rdb, err := redisconn.Open(url, redisconn.Options{})
	if err != nil {
		return nil, err
	}
	if err := redisconn.Check(ctx, rdb, url); err != nil {
		_ = rdb.Close()
		return nil, err
	}
	return &redisTarget{url: url, opt: opt, rdb: rdb}, nil
}

// info reads one field of INFO section.
func (r *redisTarget) info(ctx context.Context, section, field string) (string, error) {
	text, err := r.rdb.Info(ctx, section).Result()
	if err != nil {
		return "", fmt.Errorf("redis INFO %s: %w", section, err)
	}
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("redis INFO %s has no %s", section, field)
}

// usedMemory is INFO memory used_memory, in bytes.
func (r *redisTarget) usedMemory(ctx context.Context) (int64, error) {
	return r.infoInt(ctx, "memory", "used_memory")
}

// commandsProcessed is INFO stats total_commands_processed: every command,
// those that Lua scripts run included.
func (r *redisTarget) commandsProcessed(ctx context.Context) (int64, error) {
	return r.infoInt(ctx, "stats", "total_commands_processed")
}

func (r *redisTarget) infoInt(ctx context.Context, section, field string) (int64, error) {
	v, err := r.info(ctx, section, field)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("redis INFO %s %q: %w", field, v, err)
	}
	return n, nil
}

// dropQueue deletes a queue the bench used and everything in it, so a shared
// Redis (--redis-url) is left as it was found, bar the bench's small keys.
func (r *redisTarget) dropQueue(queue string) {
	insp := asynq.NewInspector(r.opt)
	defer insp.Close()
	_ = insp.DeleteQueue(queue, true)
}

func (r *redisTarget) close() { _ = r.rdb.Close() }
