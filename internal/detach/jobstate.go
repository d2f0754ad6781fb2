package detach

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Fields of a job's hash (activityRecords.key).
const (
	fieldRecord = "record" // the activityRecord, once ESS started the activity
	fieldLooks  = "looks"  // looks that found the activity running
	fieldLast   = "last"   // when the last of them was taken, Unix ms
	fieldCall   = "call"   // the pendingCall of a mixed batch
	fieldBusy   = "busy"   // when the group first answered busy, Unix ms
	fieldSent   = "sent"   // a call of its own went out and its attempt ended with no answer
	// The fields "joined" (the token of the shared call the job is a member
	// of) and "waiting" (set while it is in its group's waiting set) are
	// written and read by the lease and waiting scripts only.
)

// jobState is what earlier attempts of a job left in Redis.
type jobState struct {
	// rec is set once a detach started an activity: follow it, never detach again.
	rec  *activityRecord
	look look
	// call is set once the job found some of its load balancers absent: resend it.
	call *pendingCall
	// busySince is when the group first answered busy, in the current run of
	// busy answers; zero when the last answer was not busy.
	busySince time.Time
	// sent says a call of the job's own may have reached ESS in an attempt
	// that ended without its answer (a shutdown): the job resends it, never
	// joins a shared call.
	sent bool
}

// stateFields are the fields of a job's hash that make its state, in the
// order decodeState reads them.
var stateFields = []any{fieldRecord, fieldLooks, fieldLast, fieldCall, fieldBusy, fieldSent}

// decodeState reads the values of stateFields, as Redis answered them (nil,
// or a Lua false or "", for a field not set).
func decodeState(res []any) (jobState, error) {
	var st jobState
	if len(res) != len(stateFields) {
		return st, fmt.Errorf("load job state: %d values, want %d", len(res), len(stateFields))
	}
	field := func(i int) string { v, _ := res[i].(string); return v }
	if b := field(0); b != "" {
		st.rec = &activityRecord{}
		if err := json.Unmarshal([]byte(b), st.rec); err != nil {
			return st, fmt.Errorf("decode activity record: %w", err)
		}
	}
	// A member of a shared call counts its looks here too; its record is the call's.
	st.look.n, _ = strconv.Atoi(field(1))
	if ms, _ := strconv.ParseInt(field(2), 10, 64); ms > 0 {
		st.look.previous = time.UnixMilli(ms)
	}
	if b := field(3); b != "" {
		st.call = &pendingCall{}
		if err := json.Unmarshal([]byte(b), st.call); err != nil {
			return st, fmt.Errorf("decode pending call: %w", err)
		}
	}
	if ms, _ := strconv.ParseInt(field(4), 10, 64); ms > 0 {
		st.busySince = time.UnixMilli(ms)
	}
	st.sent = field(5) != ""
	return st, nil
}

// saveCall writes a job's pending call, before it is sent, and waits for the
// replicas (see replicas.go).
func (h *Handler) saveCall(ctx context.Context, token string, c pendingCall) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode pending call: %w", err)
	}
	pipe := h.cfg.Redis.Pipeline()
	saved := pipe.HSet(ctx, h.records.key(token), fieldCall, b)
	pipe.Expire(ctx, h.records.key(token), h.records.ttl)
	acked := h.waitReplicas(ctx, pipe)
	_, _ = pipe.Exec(ctx) // each command's own error is read below
	if err := cmp.Or(saved.Err(), h.replicated(acked)); err != nil {
		return fmt.Errorf("save the call of load balancers %v: %w", c.LoadBalancerIds, err)
	}
	return nil
}

// markSent records that the job's own call went out and its attempt ended
// without the answer.
func (s activityRecords) markSent(ctx context.Context, token string) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.key(token), fieldSent, 1)
		p.Expire(ctx, s.key(token), s.ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("record a call sent: %w", err)
	}
	return nil
}

// markBusy records that a run of busy answers started at at.
func (s activityRecords) markBusy(ctx context.Context, token string, at time.Time) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.key(token), fieldBusy, at.UnixMilli())
		p.Expire(ctx, s.key(token), s.ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("record a busy answer: %w", err)
	}
	return nil
}

// clearBusy ends a run of busy answers.
func (s activityRecords) clearBusy(ctx context.Context, token string) error {
	if err := s.rdb.HDel(ctx, s.key(token), fieldBusy).Err(); err != nil {
		return fmt.Errorf("end a busy wait: %w", err)
	}
	return nil
}
