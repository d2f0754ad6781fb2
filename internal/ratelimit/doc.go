// Package ratelimit holds ESS calls to a fleet-wide rate: every worker takes
// its turns on one timeline in Redis, so the total stays under the configured
// calls per second however many workers run. A Lua script reserves evenly
// spaced slots for all the callers waiting in a process at once, and each
// caller sleeps until its slot: one Redis round trip per batch of callers, and
// none spent asking again while a backlog waits. A caller that makes a round
// trip of its own just before its call can reserve its slot there instead
// (ReserveFunc embedded in its script, then Granted): its call costs the
// limiter no round trip at all.
//
// The timeline keeps the key and format of github.com/go-redis/redis_rate
// (GCRA, burst 1), so that workers whose limiter is redis_rate itself (see
// docs/PERFORMANCE.md, "The rate limiter polled") share one timeline with this
// limiter while a fleet rolls from one to the other, and the fleet's rate
// never doubles. The format may change once no deployed worker limits through
// redis_rate; TestSharesTimelineWithRedisRate and the test's redis_rate
// dependency go with it.
package ratelimit
