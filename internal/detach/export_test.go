package detach

import (
	"context"
	"time"
)

// ClaimUnsent plays a maker that dies right after its claim: it registers
// the jobs (ClientToken -> load balancers) as waiting for group, lets holder
// hand the group to them as one call, and sends nothing. It returns the
// call's token.
func ClaimUnsent(ctx context.Context, cfg Config, holder, group string, jobs map[string][]string, async bool) (string, error) {
	h, err := NewHandler(cfg)
	if err != nil {
		return "", err
	}
	if err := h.cfg.Redis.Set(ctx, h.leases.key(group), holder, h.leases.ttl).Err(); err != nil {
		return "", err
	}
	for token, lbs := range jobs {
		e := waitEntry{ClientToken: token, Async: async, LoadBalancerIds: lbs, Since: time.Now().UnixMilli()}
		if _, err := h.waiting.register(ctx, h.cfg.Redis, h.records.key(token), group, e, h.calls.ttl); err != nil {
			return "", err
		}
	}
	waiting, err := waitersResult(h.waiting.handOff(ctx, h.cfg.Redis, h.leases, group, holder))
	if err != nil {
		return "", err
	}
	gc := newGroupCall(group, nextBatch(waiting), time.Now())
	if _, err := h.claim(ctx, holder, gc); err != nil {
		return "", err
	}
	return gc.Pending.ClientToken, nil
}

// LeaseKey is the key of group's lease under prefix, for tests.
func LeaseKey(prefix, group string) string { return groupLeases{prefix: prefix}.key(group) }

// WaitingKey is the key of group's waiting set under prefix, for tests.
func WaitingKey(prefix, group string) string { return waitingJobs{prefix: prefix}.setKey(group) }
