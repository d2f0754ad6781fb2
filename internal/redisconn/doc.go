// Package redisconn connects the worker, the enqueue command, the HTTP API
// and the bench to Redis from one URL: redis://, rediss:// (TLS, with an
// optional private CA) or redis-sentinel://, parsed as asynq parses it into
// both asynq's connection options and a go-redis client on the same server.
// It checks at start that Redis answers, with an error a person can act on,
// and masks the URL's password wherever it prints one.
package redisconn
