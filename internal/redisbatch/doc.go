// Package redisbatch sends the Redis commands of concurrent callers in one
// pipeline (group commit).
//
// A worker's jobs each make a few short round trips to Redis of their own (the
// group lease with the job's state before its call; the result with the
// release after it). Under load most of their cost is the round trip itself:
// a write and a read on each side, and a goroutine parked and woken. A Batcher
// lets every caller that arrives while a round trip is in flight ride the next
// one: one write, one read and one wake-up serve them all, and Redis reads and
// answers them in one go. There is no time window: a caller alone goes at
// once, so a quiet worker's latency does not change.
package redisbatch
