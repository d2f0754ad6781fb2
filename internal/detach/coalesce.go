package detach

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"essworker/internal/esslimits"
	"essworker/tasks"
)

// groupCall is one DetachLoadBalancers call shared by the jobs of a scaling
// group that waited for it together. It is fixed when claimed and stored
// under its token, so every maker (the job that claimed it, or a member whose
// maker vanished) sends exactly the same call: ESS compares the parameters of
// a replayed ClientToken.
type groupCall struct {
	RegionId       string       `json:"RegionId"`
	ScalingGroupId string       `json:"ScalingGroupId"`
	ForceDetach    bool         `json:"ForceDetach"`
	Async          bool         `json:"Async"`
	Members        []callMember `json:"Members"`
	ClaimedAt      time.Time    `json:"ClaimedAt"`
	// Pending is the call to send: all the members' load balancers under the
	// call's token, or, after ESS found some not attached, those still attached.
	Pending pendingCall `json:"Pending"`
}

// loadBalancers are the members' load balancers, in the call's order.
func (gc groupCall) loadBalancers() []string {
	var ids []string
	for _, m := range gc.Members {
		ids = append(ids, m.LoadBalancerIds...)
	}
	return ids
}

// callMember is one job of a groupCall.
type callMember struct {
	ClientToken     string   `json:"ClientToken"`
	LoadBalancerIds []string `json:"LoadBalancerIds"`
	// taskKey is the member's asynq task hash, checked by the claim; "" when
	// its waiting entry names none. Not stored: only the claim reads it.
	taskKey string
}

// callAnswer is what a groupCall came to, for its members to finish from:
// the activity it started, or an end without one.
type callAnswer struct {
	Record *activityRecord     `json:"Record,omitempty"`
	Result *tasks.DetachResult `json:"Result,omitempty"`
}

// Fields of a call's hash (groupCalls.key).
const (
	fieldGroupCall = "call"   // the groupCall
	fieldAnswer    = "answer" // the callAnswer, once ESS answered
)

// groupCalls stores shared calls by token, and the "calling" marker that says
// a maker is sending one.
type groupCalls struct {
	prefix string
	// ttl outlives the members' waits, as their records do.
	ttl time.Duration
	// markerTTL is at least the longest a call can take, rate-limit wait
	// included: past it, a member makes the call itself.
	markerTTL time.Duration
}

func (c groupCalls) key(token string) string       { return c.prefix + "call:" + token }
func (c groupCalls) markerKey(token string) string { return c.prefix + "calling:" + token }

// callToken is the ClientToken of the call of the members with these
// tokens: a name-based UUID of the sorted tokens, so the call has one token
// whoever computes it.
func callToken(members []callMember) string {
	tokens := make([]string, len(members))
	for i, m := range members {
		tokens[i] = m.ClientToken
	}
	slices.Sort(tokens)
	return uuid.NewSHA1(tasks.SplitNamespace, []byte("call:"+strings.Join(tokens, ","))).String()
}

// nextBatch picks the next call among the waiting jobs: the oldest waiter's
// region and flags, then, oldest first, every waiter of the same kind that
// fits within esslimits.LoadBalancersPerCall load balancers and names none
// already taken.
func nextBatch(waiting []waitEntry) []waitEntry {
	if len(waiting) == 0 {
		return nil
	}
	slices.SortStableFunc(waiting, func(a, b waitEntry) int {
		return cmp.Or(cmp.Compare(a.Since, b.Since), cmp.Compare(a.ClientToken, b.ClientToken))
	})
	first := waiting[0]
	var batch []waitEntry
	taken := map[string]bool{}
	for _, e := range waiting {
		if e.RegionId != first.RegionId || e.ForceDetach != first.ForceDetach || e.Async != first.Async {
			continue
		}
		if len(taken)+len(e.LoadBalancerIds) > esslimits.LoadBalancersPerCall ||
			slices.ContainsFunc(e.LoadBalancerIds, func(id string) bool { return taken[id] }) {
			continue
		}
		for _, id := range e.LoadBalancerIds {
			taken[id] = true
		}
		batch = append(batch, e)
	}
	return batch
}

// newGroupCall is the call of batch on groupID.
func newGroupCall(groupID string, batch []waitEntry, now time.Time) groupCall {
	gc := groupCall{
		RegionId:       batch[0].RegionId,
		ScalingGroupId: groupID,
		ForceDetach:    batch[0].ForceDetach,
		Async:          batch[0].Async,
		ClaimedAt:      now,
	}
	for _, e := range batch {
		gc.Members = append(gc.Members, callMember{ClientToken: e.ClientToken, LoadBalancerIds: e.LoadBalancerIds, taskKey: e.taskKey()})
	}
	gc.Pending = pendingCall{LoadBalancerIds: gc.loadBalancers(), ClientToken: callToken(gc.Members)}
	return gc
}

// errNotClaimed says a claim found the group or a member changed under it.
var errNotClaimed = errors.New("claim lost a race")

// claim makes gc the group's call, handed off by holder: see claimScript.
// It returns errNotClaimed when a member stopped waiting or its task is
// gone, and false when holder no longer holds the group.
func (h *Handler) claim(ctx context.Context, holder string, gc groupCall) (bool, error) {
	b, err := json.Marshal(gc)
	if err != nil {
		return false, fmt.Errorf("encode call: %w", err)
	}
	token := gc.Pending.ClientToken
	keys := []string{h.leases.key(gc.ScalingGroupId), h.waiting.setKey(gc.ScalingGroupId), h.waiting.jobsKey(gc.ScalingGroupId),
		h.calls.key(token), h.calls.markerKey(token)}
	argv := []any{holder, token, h.leases.ttl.Milliseconds(), b, gc.ClaimedAt.Add(-h.waiting.staleAfter).UnixMilli(),
		h.calls.markerTTL.Milliseconds(), h.calls.ttl.Milliseconds()}
	for _, m := range gc.Members {
		keys = append(keys, h.records.key(m.ClientToken))
		argv = append(argv, m.ClientToken)
	}
	for _, m := range gc.Members {
		index := 0
		if m.taskKey != "" {
			keys = append(keys, m.taskKey)
			index = len(keys)
		}
		argv = append(argv, index)
	}
	pipe := h.cfg.Redis.Pipeline()
	claimed := claimScript.Eval(ctx, pipe, keys, argv...)
	acked := h.waitReplicas(ctx, pipe)
	_, _ = pipe.Exec(ctx) // each command's own error is read below
	n, err := claimed.Int()
	switch {
	case err != nil:
		return false, fmt.Errorf("claim call %s: %w", token, err)
	case n < 0:
		return false, errNotClaimed
	case n == 0:
		return false, nil
	}
	if err := h.replicated(acked); err != nil {
		// Claimed, but a failover could still lose the claim: its members
		// send the call once its marker expires, if the claim is still there.
		return false, fmt.Errorf("claim call %s: %w", token, err)
	}
	return true, nil
}

// callState is a shared call as a member reads it.
type callState struct {
	call    groupCall
	answer  *callAnswer
	calling bool // a maker is sending it
}

// loadCall reads the call token and whether a maker is sending it.
func (c groupCalls) load(ctx context.Context, rdb redis.UniversalClient, token string) (callState, error) {
	var st callState
	var fields *redis.SliceCmd
	var marker *redis.IntCmd
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		fields = p.HMGet(ctx, c.key(token), fieldGroupCall, fieldAnswer)
		marker = p.Exists(ctx, c.markerKey(token))
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("load call %s: %w", token, err)
	}
	v := fields.Val()
	b, ok := v[0].(string)
	if !ok {
		return st, fmt.Errorf("load call %s: not stored (expired?)", token)
	}
	if err := json.Unmarshal([]byte(b), &st.call); err != nil {
		return st, fmt.Errorf("decode call %s: %w", token, err)
	}
	if a, ok := v[1].(string); ok {
		st.answer = &callAnswer{}
		if err := json.Unmarshal([]byte(a), st.answer); err != nil {
			return st, fmt.Errorf("decode answer of call %s: %w", token, err)
		}
	}
	st.calling = marker.Val() == 1
	return st, nil
}

// takeMarker makes the caller the maker of call token, unless another is.
func (c groupCalls) takeMarker(ctx context.Context, rdb redis.UniversalClient, token string) (bool, error) {
	ok, err := rdb.SetNX(ctx, c.markerKey(token), 1, c.markerTTL).Result()
	if err != nil {
		return false, fmt.Errorf("take the making of call %s: %w", token, err)
	}
	return ok, nil
}

// saveSharedCall rewrites the pending part of a shared call (a mixed batch's next
// round), before it is sent, and waits for the replicas (see replicas.go).
func (h *Handler) saveSharedCall(ctx context.Context, gc groupCall) error {
	b, err := json.Marshal(gc)
	if err != nil {
		return fmt.Errorf("encode call: %w", err)
	}
	pipe := h.cfg.Redis.Pipeline()
	saved := pipe.HSet(ctx, h.calls.key(callToken(gc.Members)), fieldGroupCall, b)
	acked := h.waitReplicas(ctx, pipe)
	_, _ = pipe.Exec(ctx) // each command's own error is read below
	if err := cmp.Or(saved.Err(), h.replicated(acked)); err != nil {
		return fmt.Errorf("save call of load balancers %v: %w", gc.Pending.LoadBalancerIds, err)
	}
	return nil
}

// saveAnswer stores what the call came to and drops its marker; an answer
// with an activity also marks the activity in flight.
func (h *Handler) saveAnswer(ctx context.Context, token string, a callAnswer) error {
	b, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode answer: %w", err)
	}
	_, err = h.cfg.Redis.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, h.calls.key(token), fieldAnswer, b)
		p.Del(ctx, h.calls.markerKey(token))
		if a.Record != nil {
			p.ZAdd(ctx, h.records.inFlightKey(), redis.Z{Score: float64(a.Record.StartedAt.Unix()), Member: token})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save answer of call %s: %w", token, err)
	}
	return nil
}

// dropMarker says nobody is sending the call any more, so that a member
// makes it again at its next look.
func (c groupCalls) dropMarker(ctx context.Context, rdb redis.UniversalClient, token string) error {
	return rdb.Del(ctx, c.markerKey(token)).Err()
}

// share is a member's part of ids: those among its own load balancers.
func share(own, ids []string) []string {
	var out []string
	for _, id := range own {
		if slices.Contains(ids, id) {
			out = append(out, id)
		}
	}
	return out
}
