package detach

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/hibiken/asynq"

	"essworker/essclient"
	"essworker/tasks"
)

// maxHandOffs bounds the calls one attempt makes for waiting jobs: calls
// without an activity end at their answer, so their maker can pass the group
// on at once, but a group with a steady stream of waiters must not keep one
// worker slot for ever.
const maxHandOffs = 10

// callCheckDelay is the wait of a member whose call is being sent: the answer
// is usually a moment away.
const callCheckDelay = time.Second

// wait handles a job that found its group leased by another: it joins the
// group's waiting set, so that the holder's hand-off can take it into the
// next call, and snoozes. A job already taken into a call follows it.
func (h *Handler) wait(ctx context.Context, j *job, holder string, st jobState) error {
	h.cfg.Observer.GroupLeaseContended()
	p := j.payload
	// A job that may already have called ESS on its own sends that call
	// again, never a shared one: one with a record or a pending call, one
	// whose own call went out with no answer kept (st.sent), and one that
	// failed or crashed before (a sync call leaves no record).
	retried, _ := asynq.GetRetryCount(ctx)
	if !h.cfg.DisableCoalescing && st.rec == nil && st.call == nil && !st.sent && retried == 0 {
		e := waitEntry{ClientToken: j.token, RegionId: h.region(p), ForceDetach: p.ForceDetach, Async: p.Async,
			LoadBalancerIds: p.LoadBalancerIds, Since: time.Now().UnixMilli(), TaskID: j.taskID}
		e.Queue, _ = asynq.GetQueueName(ctx)
		call, err := h.waiting.register(ctx, h.cfg.Redis, h.records.key(j.token), p.ScalingGroupId, e, h.calls.ttl)
		if err != nil {
			return h.fail(ctx, j, err)
		}
		if call != "" {
			return h.member(ctx, j, call, st)
		}
	}
	return &snoozeError{reason: "scaling group " + p.ScalingGroupId + " is leased by " + holder, delay: h.cfg.BusyDelay}
}

// knownEstimate is the group's activity length read with the lease, zero
// when the job did not read it (a sync job) or it is unknown.
func (j *job) knownEstimate() time.Duration {
	if j.estimate == nil {
		return 0
	}
	estimate, _ := estimateResult(j.estimate)
	return estimate
}

// region is the region of p's call.
func (h *Handler) region(p tasks.DetachPayload) string {
	if p.RegionId != "" {
		return p.RegionId
	}
	return h.cfg.DefaultRegion
}

// member runs an attempt of a job taken into the shared call token: it
// follows the call's activity or finishes from its answer, and makes the call
// itself when nobody is sending it and it has no answer (its maker died).
func (h *Handler) member(ctx context.Context, j *job, token string, st jobState) error {
	j.holder, j.leased = token, true
	j.log = j.log.With("call_token", token)
	cs, err := h.calls.load(ctx, h.cfg.Redis, token)
	if err != nil {
		return h.fail(ctx, j, err)
	}
	j.shared = &cs.call
	switch {
	case cs.answer != nil && cs.answer.Record != nil:
		return h.poll(ctx, j, *cs.answer.Record, st.look)
	case cs.answer != nil:
		return h.ended(ctx, j, *cs.answer.Result)
	case time.Since(cs.call.ClaimedAt) >= h.cfg.PollTimeout:
		res := tasks.DetachResult{Outcome: tasks.OutcomeFailed, ErrorCode: codeCallUnanswered,
			ErrorMessage: fmt.Sprintf("the call shared with %d jobs had no answer within %v", len(cs.call.Members), h.cfg.PollTimeout)}
		return h.finish(ctx, j, res, errors.New(res.ErrorMessage))
	case cs.calling:
		return &snoozeError{reason: "shared call " + token + " is being sent", delay: callCheckDelay}
	}
	took, err := h.calls.takeMarker(ctx, h.cfg.Redis, token)
	if err != nil {
		return h.fail(ctx, j, err)
	}
	if !took {
		return &snoozeError{reason: "shared call " + token + " is being sent", delay: callCheckDelay}
	}
	j.log.Info("making the shared call its maker left unanswered")
	a, err := h.makeCall(ctx, cs.call, j.knownEstimate(), j.log)
	if err != nil {
		if essclient.ClassOf(err) == essclient.ClassBusy {
			return &snoozeError{reason: err.Error(), delay: h.busyDelay(j)}
		}
		return h.fail(ctx, j, err)
	}
	if a.Record != nil {
		return &snoozeError{reason: "scaling activity " + a.Record.ScalingActivityId + " started", delay: a.Record.Schedule.First}
	}
	return h.ended(ctx, j, *a.Result)
}

// codeCallUnanswered is the ErrorCode of a member whose shared call never got
// an answer within its wait bound.
const codeCallUnanswered = "SharedCallUnanswered"

// ended finishes a member from its call's answer when there is no activity
// to follow: its own part of what the call detached and found absent.
func (h *Handler) ended(ctx context.Context, j *job, r tasks.DetachResult) error {
	own := j.payload.LoadBalancerIds
	res := r
	res.DetachedIds, res.NotAttachedIds = share(own, r.DetachedIds), share(own, r.NotAttachedIds)
	switch {
	case r.Outcome == tasks.OutcomeDetached && len(res.DetachedIds) > 0:
		return h.detached(ctx, j, res)
	case r.Outcome == tasks.OutcomeDetached || r.Outcome == tasks.OutcomeNotAttached:
		res.Outcome = tasks.OutcomeNotAttached
		res.NotAttachedIds = own
		if h.cfg.StrictNotAttached {
			return h.finish(ctx, j, res, fmt.Errorf("load balancers %v are not attached to scaling group %s", own, j.payload.ScalingGroupId))
		}
		return h.finish(ctx, j, res, nil)
	}
	return h.finish(ctx, j, res, fmt.Errorf("%s: %s", r.ErrorCode, r.ErrorMessage))
}

// passOn hands the group that holder ends its turn on to the jobs waiting
// for it: it claims the next batch as one call and makes it at once, and
// goes on with the next batch while calls end at their answer.
func (h *Handler) passOn(ctx context.Context, groupID, holder string, waiting []waitEntry, estimate time.Duration, log *slog.Logger) {
	for range maxHandOffs {
		gc := newGroupCall(groupID, nextBatch(waiting), time.Now())
		token := gc.Pending.ClientToken
		ok, err := h.claim(ctx, holder, gc)
		switch {
		case errors.Is(err, errNotClaimed):
			// A member stopped waiting meanwhile: read the waiters again.
		case errors.Is(err, errNotReplicated):
			log.Warn("shared call claimed but not sent; its members send it", "call_token", token, "err", err)
			return
		case err != nil:
			log.Warn("group not handed on; its lease expires by itself", "err", err)
			return
		case !ok:
			return
		default:
			log.Info("shared call claimed", "call_token", token, "members", len(gc.Members), "load_balancers", gc.Pending.LoadBalancerIds)
			a, err := h.makeCall(ctx, gc, estimate, log.With("call_token", token))
			if err != nil || a.Record != nil {
				// Its members follow the activity, or make the call again.
				return
			}
			holder = token
		}
		waiting, err = waitersResult(h.waiting.handOff(ctx, h.cfg.Redis, h.leases, groupID, holder))
		if err != nil {
			log.Warn("group not handed on; its lease expires by itself", "err", err)
			return
		}
		if len(waiting) == 0 {
			return
		}
	}
	if err := h.leases.release(ctx, h.cfg.Redis, groupID, holder).Err(); err != nil {
		log.Warn("group lease not freed; it expires by itself", "err", err)
	}
}

// makeCall sends the shared call gc and stores what it came to for its
// members: the activity it started, or its end. A mixed batch is resolved
// as for one job (nextMixedCall): the group is read and the call of those
// still attached is saved, then sent. On any other failure the marker is
// dropped, so a member sends the call again.
func (h *Handler) makeCall(ctx context.Context, gc groupCall, estimate time.Duration, log *slog.Logger) (*callAnswer, error) {
	token := callToken(gc.Members)
	ctx, cancel := context.WithTimeout(ctx, h.calls.markerTTL)
	defer cancel()
	for {
		c := gc.Pending
		res, err := h.cfg.ESS.DetachLoadBalancers(ctx, essclient.DetachRequest{
			RegionID:        gc.RegionId,
			ScalingGroupID:  gc.ScalingGroupId,
			LoadBalancerIDs: c.LoadBalancerIds,
			ForceDetach:     gc.ForceDetach,
			Async:           gc.Async,
			ClientToken:     c.ClientToken,
		})
		var a callAnswer
		switch {
		case err == nil:
			a = h.answered(gc, res, estimate)
		case essclient.ClassOf(err) == essclient.ClassNotAttached:
			var e *essclient.Error
			errors.As(err, &e)
			next, end, err := h.nextMixedCall(ctx, gc.RegionId, gc.ScalingGroupId, token, gc.loadBalancers(), gc.Pending, e)
			if err != nil {
				return nil, h.unanswered(ctx, token, err, log)
			}
			if end == nil {
				gc.Pending = next
				if err := h.saveSharedCall(ctx, gc); err != nil {
					return nil, h.unanswered(ctx, token, err, log)
				}
				log.Info("detaching the load balancers still attached", "attached", next.LoadBalancerIds,
					"not_attached", next.NotAttachedIds, "round", next.Round)
				continue
			}
			a.Result = end
		case essclient.ClassOf(err) == essclient.ClassPermanent:
			var e *essclient.Error
			errors.As(err, &e)
			a.Result = &tasks.DetachResult{Outcome: tasks.OutcomeFailed, ErrorCode: e.Code, ErrorMessage: e.Message,
				RequestIds: appendRequestID(c.RequestIds, e.RequestID), NotAttachedIds: c.NotAttachedIds}
		default:
			return nil, h.unanswered(ctx, token, err, log)
		}
		if err := h.saveAnswer(ctx, token, a); err != nil {
			// The marker stays until its time to live; then a member sends the
			// same call again and ESS answers it as a replay.
			log.Warn("answer of the shared call not saved", "err", err)
			return nil, err
		}
		return &a, nil
	}
}

// answered is the answer of a successful shared call.
func (h *Handler) answered(gc groupCall, res essclient.DetachResult, estimate time.Duration) callAnswer {
	c := gc.Pending
	requestIDs := appendRequestID(c.RequestIds, res.RequestID)
	if !gc.Async || res.ScalingActivityID == "" {
		return callAnswer{Result: &tasks.DetachResult{Outcome: tasks.OutcomeDetached, RequestIds: requestIDs,
			DetachedIds: c.LoadBalancerIds, NotAttachedIds: c.NotAttachedIds}}
	}
	return callAnswer{Record: &activityRecord{
		ScalingActivityId: res.ScalingActivityID,
		RegionId:          gc.RegionId,
		DetachRequestId:   res.RequestID,
		StartedAt:         time.Now(),
		Schedule:          newPollSchedule(estimate, h.cfg.FollowUp, h.cfg.PollInterval),
		EarlierRequestIds: c.RequestIds,
		DetachedIds:       c.LoadBalancerIds,
		NotAttachedIds:    c.NotAttachedIds,
	}}
}

// unanswered drops the marker of a call that got no answer to store, so a
// member sends it again, and returns err.
func (h *Handler) unanswered(ctx context.Context, token string, err error, log *slog.Logger) error {
	log.Warn("shared call failed; a member sends it again", "err", err, "class", essclient.ClassOf(err).String())
	if derr := h.calls.dropMarker(context.WithoutCancel(ctx), h.cfg.Redis, token); derr != nil {
		log.Warn("marker of the shared call not dropped; it expires by itself", "err", derr)
	}
	return err
}

// appendRequestID returns ids with id added when there is one, never
// sharing ids' backing array.
func appendRequestID(ids []string, id string) []string {
	out := slices.Clone(ids)
	if id != "" {
		out = append(out, id)
	}
	return out
}
