// Package ratelimit holds ESS calls to a fleet-wide rate: every worker takes its
// turn from one GCRA bucket in Redis (github.com/go-redis/redis_rate), so the
// total stays under the configured calls per second however many workers run.
package ratelimit
