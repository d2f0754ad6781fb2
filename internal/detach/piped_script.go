package detach

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// pipedScript is a Lua script queued on a pipeline by its SHA1 (EVALSHA):
// a job's first and last scripts then send neither their text nor make Redis
// hash it on every job. A Redis that lost its script cache (a restart, a
// failover) answers NOSCRIPT without running anything; result then runs the
// script once more on its own, text included, which loads it again.
type pipedScript struct {
	script *redis.Script
	keys   []string
	args   []any
	cmd    *redis.Cmd
}

// queueScript queues s with keys and args on p.
func queueScript(ctx context.Context, p redis.Pipeliner, s *redis.Script, keys []string, args ...any) *pipedScript {
	return &pipedScript{script: s, keys: keys, args: args, cmd: s.EvalSha(ctx, p, keys, args...)}
}

// result is the script's answer once its pipeline ran, sending it with its
// text on rdb when Redis did not know it.
func (c *pipedScript) result(ctx context.Context, rdb redis.Scripter) *redis.Cmd {
	if redis.HasErrorPrefix(c.cmd.Err(), "NOSCRIPT") {
		return c.script.Eval(ctx, rdb, c.keys, c.args...)
	}
	return c.cmd
}
