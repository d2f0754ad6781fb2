package detach

import (
	"context"
	"fmt"
	"time"

	"essworker/essclient"
	"essworker/tasks"
)

// busy handles a group that cannot take the call now (an activity of its own
// runs, or its state forbids it): the job waits, holding no worker slot and
// spending no retry, until the group is free. The wait is bounded by
// PollTimeout from the first busy answer of a run; any other answer from ESS
// ends the run.
func (h *Handler) busy(ctx context.Context, j *job, e *essclient.Error) error {
	now := time.Now()
	if j.busySince.IsZero() {
		if err := h.records.markBusy(ctx, j.token, now); err != nil {
			// The next attempt starts the count again: a longer wait, never a lost job.
			j.log.Warn("start of the busy wait not recorded", "err", err)
		}
		j.busySince = now
	}
	if waited := now.Sub(j.busySince); waited >= h.cfg.PollTimeout {
		res := tasks.DetachResult{Outcome: tasks.OutcomeFailed, ErrorCode: e.Code, NotAttachedIds: j.sent.NotAttachedIds,
			ErrorMessage: fmt.Sprintf("scaling group %s stayed busy for %v: %s", j.payload.ScalingGroupId, waited.Round(time.Second), e.Message)}
		if e.RequestID != "" {
			res.RequestIds = []string{e.RequestID}
		}
		return h.finish(ctx, j, res, fmt.Errorf("%w (busy since %s, longer than %v)", e, j.busySince.UTC().Format(time.RFC3339), h.cfg.PollTimeout))
	}
	return &snoozeError{reason: e.Error(), delay: h.busyDelay(j)}
}

// busyDelay is the wait before a busy group is tried again: BusyDelay, or the
// group's learned activity length when that is longer (within PollInterval),
// since a group busy with an activity is likely busy for about that long.
func (h *Handler) busyDelay(j *job) time.Duration {
	if j.estimate == nil {
		return h.cfg.BusyDelay
	}
	estimate, err := estimateResult(j.estimate)
	if err != nil || estimate <= h.cfg.BusyDelay {
		return h.cfg.BusyDelay
	}
	return min(estimate, h.cfg.PollInterval)
}
