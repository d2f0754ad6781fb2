package detach

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// A call whose ClientToken comes from a decision stored in Redis (the
// members of a shared call, the load balancers still attached in a mixed
// batch) is sent only once that decision is on Config.WaitReplicas replicas:
// a failover that lost it would let a later attempt decide otherwise and
// send some load balancers again under another token, which ESS answers
// "not attached". A call under a job's own token needs no such wait: every
// attempt sends the same.

// replicaWait bounds the wait for replicas; past it the decision's call is
// not sent, and a later attempt sends it (or decides again).
const replicaWait = time.Second

// errNotReplicated says a decision is not yet on enough replicas.
var errNotReplicated = errors.New("not yet on enough Redis replicas")

// waitReplicas queues on p, after the writes of a decision, a WAIT for
// Config.WaitReplicas replicas; nil when none are asked for. WAIT counts the
// writes of its own connection: the decision and the wait go in one pipeline.
func (h *Handler) waitReplicas(ctx context.Context, p redis.Pipeliner) *redis.Cmd {
	if h.cfg.WaitReplicas == 0 {
		return nil
	}
	return p.Do(ctx, "WAIT", h.cfg.WaitReplicas, replicaWait.Milliseconds())
}

// replicated reads a waitReplicas: nil when the replicas hold the decision.
func (h *Handler) replicated(cmd *redis.Cmd) error {
	if cmd == nil {
		return nil
	}
	n, err := cmd.Int()
	if err != nil {
		return fmt.Errorf("wait for replicas: %w", err)
	}
	if n < h.cfg.WaitReplicas {
		return fmt.Errorf("%w: %d of %d within %v", errNotReplicated, n, h.cfg.WaitReplicas, replicaWait)
	}
	return nil
}
