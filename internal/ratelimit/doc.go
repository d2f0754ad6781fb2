// Package ratelimit holds ESS calls to a fleet-wide rate: every worker takes
// its turns on one timeline in Redis, so the total stays under the configured
// calls per second however many workers run. A Lua script reserves evenly
// spaced slots for all the callers waiting in a process at once, and each
// caller sleeps until its slot: one Redis round trip per batch of callers, and
// none spent asking again while a backlog waits. The timeline is kept in the
// key and format of github.com/go-redis/redis_rate (GCRA, burst 1), which
// earlier releases used, so mixed fleets share it during an upgrade.
package ratelimit
