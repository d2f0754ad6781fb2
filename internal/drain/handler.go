package drain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/hibiken/asynq"

	"essworker/essclient"
	"essworker/internal/jobend"
	"essworker/tasks"
)

// Handler runs drains. Register it for tasks.TypeDrainLoadBalancer on the
// asynq server that runs the detach handler (its Config from
// detach.Handler.ServerConfig), so that a drain's failed listing is retried
// on a detach's schedule.
type Handler struct {
	cfg Config
}

// NewHandler checks cfg and returns a handler.
func NewHandler(cfg Config) (*Handler, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Handler{cfg: cfg}, nil
}

// drain is one attempt's view of a task.
type drain struct {
	task    *asynq.Task
	payload tasks.DrainPayload
	token   string
	region  string
	log     *slog.Logger
}

// ProcessTask implements asynq.Handler.
func (h *Handler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	taskID, _ := asynq.GetTaskID(ctx)
	d := &drain{task: t, log: h.cfg.Logger.With("task_id", taskID)}
	p, err := tasks.DecodeDrainPayload(t.Payload())
	if err != nil {
		return h.finish(ctx, d, tasks.DrainResult{Outcome: tasks.OutcomeInvalid, ErrorCode: "InvalidPayload", ErrorMessage: err.Error()}, err)
	}
	d.payload, d.token, d.region = p, p.ClientToken, p.RegionId
	if d.token == "" {
		d.token = tasks.TokenOfTaskID(taskID)
	}
	if d.region == "" {
		d.region = h.cfg.DefaultRegion
	}
	d.log = d.log.With("client_token", d.token, "region", d.region, "load_balancer", p.LoadBalancerId)

	list, err := h.cfg.ESS.ListScalingGroups(ctx, d.region)
	if err != nil {
		return h.essFailed(ctx, d, err)
	}
	reqs := h.jobs(d, list.ScalingGroups)
	earlier, err := h.earlierJobs(ctx, d, list.ScalingGroups, reqs)
	if err != nil {
		return h.fail(ctx, d, err)
	}
	if len(reqs) == 0 && len(earlier) == 0 {
		return h.finish(ctx, d, tasks.DrainResult{Outcome: tasks.OutcomeNotAttached, RequestIds: list.RequestIDs}, nil)
	}
	var queued []tasks.EnqueueResult
	if len(reqs) > 0 {
		queue, _ := asynq.GetQueueName(ctx)
		if queue == "" {
			queue = tasks.DefaultQueue
		}
		if queued, err = h.cfg.Jobs.Enqueue(ctx, queue, reqs...); err != nil {
			return h.enqueueFailed(ctx, d, list.RequestIDs, len(queued), len(reqs), err)
		}
	}
	res := tasks.DrainResult{Outcome: tasks.OutcomeFannedOut, RequestIds: list.RequestIDs}
	for _, g := range list.ScalingGroups {
		if len(reqs) > 0 && reqs[0].ScalingGroupId == g.ScalingGroupID {
			res.Groups = append(res.Groups, tasks.DrainGroup{ScalingGroupId: g.ScalingGroupID, TaskId: queued[0].TaskID, ClientToken: queued[0].ClientToken})
			reqs, queued = reqs[1:], queued[1:]
		} else if token, ok := earlier[g.ScalingGroupID]; ok {
			res.Groups = append(res.Groups, tasks.DrainGroup{ScalingGroupId: g.ScalingGroupID, TaskId: tasks.TaskID(token), ClientToken: token})
		}
	}
	return h.finish(ctx, d, res, nil)
}

// earlierJobs returns, by group, the tokens of the detach jobs that an
// earlier run of this drain queued for groups of its region that no longer
// hold the load balancer (most often because those jobs detached it), so
// that a fan-out cut short and finished by a retry still lists every job.
func (h *Handler) earlierJobs(ctx context.Context, d *drain, groups []essclient.ScalingGroup, reqs []tasks.DetachPayload) (map[string]string, error) {
	holders := make(map[string]bool, len(reqs))
	for _, r := range reqs {
		holders[r.ScalingGroupId] = true
	}
	var ids, tokens []string
	for _, g := range groups {
		if !holders[g.ScalingGroupID] && (g.RegionID == "" || g.RegionID == d.region) {
			ids = append(ids, g.ScalingGroupID)
			tokens = append(tokens, tasks.DrainGroupToken(d.token, g.ScalingGroupID))
		}
	}
	if len(tokens) == 0 {
		return nil, nil
	}
	queues, err := h.cfg.Jobs.JobQueues(ctx, tokens...)
	if err != nil {
		return nil, fmt.Errorf("look up earlier detach jobs: %w", err)
	}
	earlier := make(map[string]string)
	for i, q := range queues {
		if q != "" {
			earlier[ids[i]] = tokens[i]
		}
	}
	return earlier, nil
}

// jobs returns one detach job per group of the drain's region that holds its
// load balancer, in the order ESS listed them.
func (h *Handler) jobs(d *drain, groups []essclient.ScalingGroup) []tasks.DetachPayload {
	p := d.payload
	var reqs []tasks.DetachPayload
	for _, g := range groups {
		if g.RegionID != "" && g.RegionID != d.region {
			continue // never touch a group of another region, whatever the answer held
		}
		if !slices.Contains(g.LoadBalancerIDs, p.LoadBalancerId) {
			continue
		}
		reqs = append(reqs, tasks.DetachPayload{
			RegionId:        d.region,
			ScalingGroupId:  g.ScalingGroupID,
			LoadBalancerIds: []string{p.LoadBalancerId},
			ForceDetach:     p.ForceDetach,
			Async:           p.Async,
			ClientToken:     tasks.DrainGroupToken(d.token, g.ScalingGroupID),
		})
	}
	return reqs
}

// essFailed decides what a failed listing means for the drain, by the classes
// a detach uses: a permanent answer ends it failed, anything else is retried.
func (h *Handler) essFailed(ctx context.Context, d *drain, err error) error {
	class := essclient.ClassOf(err)
	d.log.Warn("ess call failed", "err", err, "class", class.String())
	var e *essclient.Error
	if class != essclient.ClassPermanent || !errors.As(err, &e) {
		return h.fail(ctx, d, err)
	}
	res := tasks.DrainResult{Outcome: tasks.OutcomeFailed, ErrorCode: e.Code, ErrorMessage: e.Message}
	if e.RequestID != "" {
		res.RequestIds = []string{e.RequestID}
	}
	return h.finish(ctx, d, res, err)
}

// enqueueFailed decides what a failed fan-out means: a job the producer
// refuses (its token taken by another payload, or an invalid job) can never
// be queued, so the drain ends failed; anything else (Redis away) is retried,
// and the retry queues the jobs still missing.
func (h *Handler) enqueueFailed(ctx context.Context, d *drain, requestIDs []string, done, total int, err error) error {
	err = fmt.Errorf("queue detach jobs (%d of %d queued): %w", done, total, err)
	switch {
	case errors.Is(err, tasks.ErrIdempotencyConflict):
		return h.finish(ctx, d, tasks.DrainResult{Outcome: tasks.OutcomeFailed, ErrorCode: "IdempotencyConflict", ErrorMessage: err.Error(), RequestIds: requestIDs}, err)
	case errors.Is(err, tasks.ErrInvalidPayload):
		return h.finish(ctx, d, tasks.DrainResult{Outcome: tasks.OutcomeFailed, ErrorCode: "InvalidPayload", ErrorMessage: err.Error(), RequestIds: requestIDs}, err)
	}
	d.log.Warn("fan-out cut short", "err", err)
	return h.fail(ctx, d, err)
}

// fail ends an attempt with a retryable failure, or ends the drain when that
// was its last attempt (asynq would archive it without a result).
func (h *Handler) fail(ctx context.Context, d *drain, err error) error {
	if !jobend.LastAttempt(ctx, h.cfg.MaxRetry) {
		return err
	}
	res := tasks.DrainResult{Outcome: tasks.OutcomeFailed}
	var requestID string
	res.ErrorCode, res.ErrorMessage, requestID = jobend.Failure(err)
	if requestID != "" {
		res.RequestIds = []string{requestID}
	}
	return h.finish(ctx, d, res, err)
}

// finish writes the drain's result and tells asynq to complete (cause nil)
// or archive it.
func (h *Handler) finish(ctx context.Context, d *drain, res tasks.DrainResult, cause error) error {
	p := d.payload
	res.ClientToken, res.RegionId, res.LoadBalancerId = d.token, d.region, p.LoadBalancerId
	res.ForceDetach, res.Async = p.ForceDetach, p.Async
	res.Attempts = jobend.Attempt(ctx)
	b, err := jobend.WriteResult(d.task, res)
	if err != nil {
		return err
	}
	h.cfg.Notifier.JobEnded(ctx, d.token, cause != nil, b)
	h.cfg.Observer.JobFinished(d.task.Type(), res.Outcome, jobend.SinceEnqueue(d.task))
	attrs := []any{"outcome", res.Outcome, "groups", len(res.Groups), "attempts", res.Attempts}
	if cause != nil {
		d.log.Warn("drain archived", append(attrs, "err", cause)...)
		return jobend.Archive(cause)
	}
	d.log.Info("drain done", attrs...)
	return nil
}
