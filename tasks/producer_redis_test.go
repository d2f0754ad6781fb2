package tasks

import (
	"testing"

	"github.com/hibiken/asynq"

	"essworker/internal/redistest"
)

// enqueueTestRedis starts a Redis server for one test (see internal/redistest).
func enqueueTestRedis(t *testing.T) asynq.RedisClientOpt {
	t.Helper()
	return asynq.RedisClientOpt{Addr: redistest.Start(t, redistest.Options{}).Addr}
}
