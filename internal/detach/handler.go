package detach

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"essworker/essclient"
	"essworker/internal/jobend"
	"essworker/internal/redisbatch"
	"essworker/tasks"
)

// Handler runs detach jobs: one task is one DetachLoadBalancers request, from the
// call to its final answer. Register it for tasks.TypeDetachLoadBalancers on an
// asynq server whose Config comes from ServerConfig.
type Handler struct {
	cfg       Config
	leases    groupLeases
	records   activityRecords
	estimates activityEstimates
	batcher   *activityBatcher
	waiting   waitingJobs
	calls     groupCalls
	// trips carries the first and last round trips of concurrent jobs
	// together.
	trips *redisbatch.Batcher
}

// NewHandler checks cfg and returns a handler.
func NewHandler(cfg Config) (*Handler, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	// A job's state and a shared call must outlive the longest wait, and a
	// little more so that a job replayed right after its end still finds them.
	keep := cfg.PollTimeout + time.Hour
	return &Handler{
		cfg:       cfg,
		leases:    groupLeases{prefix: cfg.KeyPrefix, ttl: cfg.LeaseTTL},
		records:   activityRecords{rdb: cfg.Redis, prefix: cfg.KeyPrefix, ttl: keep},
		estimates: activityEstimates{key: cfg.KeyPrefix + "activity-estimates"},
		batcher:   newActivityBatcher(cfg.ESS, cfg.BatchWindow),
		// A waiting job registers again at each look, BusyDelay apart, or later
		// when its queue is backlogged: a few poll intervals say it is gone.
		waiting: waitingJobs{prefix: cfg.KeyPrefix, staleAfter: 3*cfg.PollInterval + 2*cfg.BusyDelay},
		calls:   groupCalls{prefix: cfg.KeyPrefix, ttl: keep, markerTTL: cfg.CallTimeout},
		trips:   redisbatch.New(cfg.Redis),
	}, nil
}

// job is one attempt's view of a task.
type job struct {
	task    *asynq.Task
	taskID  string
	payload tasks.DetachPayload
	token   string
	log     *slog.Logger
	// leased says the job's end frees its group, or hands it on; holder is
	// who holds the lease: the task ID, or the token of the job's shared call.
	leased bool
	holder string
	// shared is the call the job shares with others of its group, if any.
	shared  *groupCall
	polling bool
	// estimate is the group's activity length, read with the lease for async jobs.
	estimate *redis.StringCmd
	// sample, when set, is folded into the group's estimate as the job ends.
	sample time.Duration
	// busySince is when the group started answering busy to this job; zero
	// when its last answer was not busy.
	busySince time.Time
	// sent is the DetachLoadBalancers call of this attempt.
	sent pendingCall
}

// ProcessTask implements asynq.Handler.
func (h *Handler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	taskID, _ := asynq.GetTaskID(ctx)
	j := &job{task: t, taskID: taskID, holder: taskID}
	p, err := tasks.DecodeDetachPayload(t.Payload())
	if err != nil {
		j.log = h.cfg.Logger.With("task_id", taskID)
		return h.finish(ctx, j, tasks.DetachResult{Outcome: tasks.OutcomeInvalid, ErrorCode: "InvalidPayload", ErrorMessage: err.Error()}, err)
	}
	j.payload = p
	j.token = p.ClientToken
	if j.token == "" {
		j.token = tasks.TokenOfTaskID(taskID)
	}
	// One logger per job, its attributes built once.
	j.log = h.cfg.Logger.With("task_id", taskID, "client_token", j.token, "group", p.ScalingGroupId)

	// The lease with the job's state and its call's rate-limit slot (one
	// script) and, for an async job, its group's activity length, in one
	// round trip shared with other jobs'. That round trip runs whatever
	// ctx does, so an attempt already cut short takes no lease.
	if err := ctx.Err(); err != nil {
		return err
	}
	var leaseCmd *pipedScript
	h.trips.Do(func(pipe redis.Pipeliner) {
		leaseCmd = acquireWithState(ctx, pipe, h.leases, h.records, h.waiting, h.cfg.RateLimit, p.ScalingGroupId, taskID, j.token)
		if p.Async {
			j.estimate = h.estimates.get(ctx, pipe, p.ScalingGroupId)
		}
	})
	ls, err := leaseStateResult(leaseCmd.result(ctx, h.cfg.Redis), p.ScalingGroupId)
	if err != nil {
		return h.fail(ctx, j, err)
	}
	st := ls.state
	j.busySince = st.busySince
	switch ls.lease {
	case leaseJoined:
		return h.member(ctx, j, ls.holder, st)
	case leaseHeld:
		return h.wait(ctx, j, ls.holder, st)
	}
	j.leased = true
	if h.cfg.RateLimit != nil {
		if ctx, err = h.cfg.RateLimit.Granted(ctx, ls.slot); err != nil {
			return h.fail(ctx, j, err)
		}
	}
	switch {
	case st.rec != nil:
		// A detach already started this activity, in this or an earlier life of the
		// job: follow it, never detach again.
		return h.poll(ctx, j, *st.rec, st.look)
	case st.call != nil:
		// An earlier attempt chose the load balancers still attached: send that
		// same call (ESS answers a replay of its token), never read the group again.
		return h.send(ctx, j, *st.call)
	}
	return h.send(ctx, j, pendingCall{LoadBalancerIds: p.LoadBalancerIds, ClientToken: j.token})
}

// send makes the DetachLoadBalancers call c: the job's own, or the one of its
// load balancers still attached.
func (h *Handler) send(ctx context.Context, j *job, c pendingCall) error {
	p := j.payload
	j.sent = c
	res, err := h.cfg.ESS.DetachLoadBalancers(ctx, essclient.DetachRequest{
		RegionID:        p.RegionId,
		ScalingGroupID:  p.ScalingGroupId,
		LoadBalancerIDs: c.LoadBalancerIds,
		ForceDetach:     p.ForceDetach,
		Async:           p.Async,
		ClientToken:     c.ClientToken,
	})
	if err != nil {
		if ctx.Err() != nil && c.Round == 0 {
			// The call may have reached ESS: whatever comes next, the job
			// sends this same call again, never joins a shared one.
			if err := h.records.markSent(context.WithoutCancel(ctx), j.token); err != nil {
				j.log.Warn("call sent not recorded", "err", err)
			}
		}
		return h.essFailed(ctx, j, err)
	}
	j.log = j.log.With("request_id", res.RequestID)
	requestIDs := append(slices.Clone(c.RequestIds), res.RequestID)
	if !p.Async || res.ScalingActivityID == "" {
		return h.detached(ctx, j, tasks.DetachResult{RequestIds: requestIDs, DetachedIds: c.LoadBalancerIds, NotAttachedIds: c.NotAttachedIds})
	}
	estimate, err := estimateResult(j.estimate)
	if err != nil {
		// Without an estimate the job looks early and backs off: more calls, still right.
		j.log.Warn("no activity estimate", "err", err)
	}
	rec := activityRecord{
		ScalingActivityId: res.ScalingActivityID,
		RegionId:          p.RegionId,
		DetachRequestId:   res.RequestID,
		StartedAt:         time.Now(),
		Schedule:          newPollSchedule(estimate, h.cfg.FollowUp, h.cfg.PollInterval),
		EarlierRequestIds: c.RequestIds,
		NotAttachedIds:    c.NotAttachedIds,
	}
	if c.Round > 0 {
		rec.DetachedIds = c.LoadBalancerIds
	}
	if err := h.records.save(ctx, j.token, rec); err != nil {
		// The next attempt sends the same token, and ESS answers the same activity.
		return h.fail(ctx, j, err)
	}
	j.log.Info("scaling activity started", "activity_id", rec.ScalingActivityId, "first_poll", rec.Schedule.First.String())
	return &snoozeError{reason: "scaling activity " + rec.ScalingActivityId + " started", delay: rec.Schedule.First}
}

// detached finishes a job whose call detached res.DetachedIds. Under
// StrictNotAttached a job that also found some absent is archived, its
// outcome not_attached and DetachedIds saying what it did.
func (h *Handler) detached(ctx context.Context, j *job, res tasks.DetachResult) error {
	res.Outcome = tasks.OutcomeDetached
	if len(res.NotAttachedIds) == 0 || !h.cfg.StrictNotAttached {
		return h.finish(ctx, j, res, nil)
	}
	res.Outcome = tasks.OutcomeNotAttached
	return h.finish(ctx, j, res, fmt.Errorf("load balancers %v are not attached to scaling group %s (detached %v)",
		res.NotAttachedIds, j.payload.ScalingGroupId, res.DetachedIds))
}

func (h *Handler) poll(ctx context.Context, j *job, rec activityRecord, l look) error {
	j.polling = true
	j.log = j.log.With("activity_id", rec.ScalingActivityId)
	base := tasks.DetachResult{
		ScalingActivityId: rec.ScalingActivityId,
		RequestIds:        append(slices.Clone(rec.EarlierRequestIds), rec.DetachRequestId),
		NotAttachedIds:    rec.NotAttachedIds,
	}
	out, err := h.batcher.describe(ctx, rec.RegionId, rec.ScalingActivityId)
	if err != nil {
		return h.essFailed(ctx, j, err)
	}
	waited := time.Since(rec.StartedAt)
	var act *essclient.Activity
	for i := range out.Activities {
		if out.Activities[i].ScalingActivityID == rec.ScalingActivityId {
			act = &out.Activities[i]
		}
	}
	if act == nil || !act.Terminal() {
		// A fresh activity may not be listed yet; either way the wait is bounded.
		if waited >= h.cfg.PollTimeout {
			h.cfg.Observer.ActivityFinished(ActivityStatusTimeout, waited)
			base.Outcome = tasks.OutcomeActivityTimeout
			base.RequestIds = append(base.RequestIds, out.RequestID)
			if act != nil {
				base.StatusCode, base.StatusMessage = act.StatusCode, act.StatusMessage
			}
			return h.finish(ctx, j, base, fmt.Errorf("scaling activity %s did not end within %v", rec.ScalingActivityId, h.cfg.PollTimeout))
		}
		if err := h.records.countLook(ctx, j.token, time.Now()); err != nil {
			j.log.Warn("look not counted", "err", err)
		}
		return &snoozeError{reason: "scaling activity " + rec.ScalingActivityId + " in progress", delay: rec.Schedule.gap(l)}
	}
	h.cfg.Observer.ActivityFinished(act.StatusCode, waited)
	if sample, ok := rec.Schedule.sample(l, rec.StartedAt, time.Now()); ok {
		j.sample = sample
	}
	base.StatusCode, base.StatusMessage = act.StatusCode, act.StatusMessage
	base.RequestIds = append(base.RequestIds, out.RequestID)
	switch act.StatusCode {
	case essclient.StatusSuccessful, essclient.StatusWarning:
		if j.shared != nil {
			base.Outcome, base.DetachedIds = tasks.OutcomeDetached, rec.DetachedIds
			return h.ended(ctx, j, base)
		}
		base.DetachedIds = rec.DetachedIds
		if len(base.DetachedIds) == 0 {
			base.DetachedIds = j.payload.LoadBalancerIds
		}
		return h.detached(ctx, j, base)
	default:
		base.Outcome = tasks.OutcomeActivityFailed
		return h.finish(ctx, j, base, fmt.Errorf("scaling activity %s ended %s: %s", rec.ScalingActivityId, act.StatusCode, act.StatusMessage))
	}
}

// essFailed decides what a failed ESS call means for the job.
func (h *Handler) essFailed(ctx context.Context, j *job, err error) error {
	var e *essclient.Error
	errors.As(err, &e)
	class := essclient.ClassOf(err)
	j.log.Warn("ess call failed", "err", err, "class", class.String())
	if class != essclient.ClassBusy && e != nil && e.HTTPStatus != 0 && !j.busySince.IsZero() {
		// ESS answered something other than busy: a later busy answer starts a
		// new wait.
		if err := h.records.clearBusy(ctx, j.token); err != nil {
			j.log.Warn("busy wait not reset", "err", err)
		}
		j.busySince = time.Time{}
	}
	switch class {
	case essclient.ClassBusy:
		return h.busy(ctx, j, e)
	case essclient.ClassNotAttached:
		return h.notAttached(ctx, j, e)
	case essclient.ClassPermanent:
		res := tasks.DetachResult{Outcome: tasks.OutcomeFailed, ErrorCode: e.Code, ErrorMessage: e.Message, NotAttachedIds: j.sent.NotAttachedIds}
		res.RequestIds = slices.Clone(j.sent.RequestIds)
		if e.RequestID != "" {
			res.RequestIds = append(res.RequestIds, e.RequestID)
		}
		return h.finish(ctx, j, res, err)
	default:
		return h.fail(ctx, j, err)
	}
}

// fail ends an attempt with a retryable failure, or ends the job when that was
// its last attempt (asynq would archive it without telling the handler).
func (h *Handler) fail(ctx context.Context, j *job, err error) error {
	if !jobend.LastAttempt(ctx, h.cfg.MaxRetry) {
		return err
	}
	res := tasks.DetachResult{Outcome: tasks.OutcomeFailed}
	var requestID string
	res.ErrorCode, res.ErrorMessage, requestID = jobend.Failure(err)
	if requestID != "" {
		res.RequestIds = []string{requestID}
	}
	return h.finish(ctx, j, res, err)
}

// finish records the job's final answer, frees its group, and tells asynq to
// complete (cause nil) or archive it.
func (h *Handler) finish(ctx context.Context, j *job, res tasks.DetachResult, cause error) error {
	p := j.payload
	res.ClientToken, res.RegionId, res.ScalingGroupId = j.token, p.RegionId, p.ScalingGroupId
	res.LoadBalancerIds, res.Async = p.LoadBalancerIds, p.Async
	res.Attempts = jobend.Attempt(ctx)
	if j.shared != nil {
		res.CallClientToken = j.holder
		res.DetachedIds, res.NotAttachedIds = share(p.LoadBalancerIds, res.DetachedIds), share(p.LoadBalancerIds, res.NotAttachedIds)
	}
	b, err := jobend.EncodeResult(res)
	if err != nil {
		return err
	}
	if err := h.writeEnd(ctx, j, b); err != nil {
		return err
	}
	h.cfg.Observer.JobFinished(j.task.Type(), res.Outcome, jobend.SinceEnqueue(j.task))
	h.cfg.Notifier.JobEnded(ctx, j.token, cause != nil, b)
	attrs := []any{"outcome", res.Outcome, "status", res.StatusCode, "attempts", res.Attempts}
	if cause != nil {
		j.log.Warn("job archived", append(attrs, "err", cause)...)
		return jobend.Archive(cause)
	}
	j.log.Info("job done", attrs...)
	return nil
}
