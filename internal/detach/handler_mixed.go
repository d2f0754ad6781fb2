package detach

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"essworker/essclient"
	"essworker/tasks"
)

// maxMixedRounds bounds how often a job reads its group again when the call
// of its still-attached load balancers meets one absent: each round means
// someone else detached one meanwhile.
const maxMixedRounds = 3

// pendingCall is a DetachLoadBalancers call of a job: its own (Round 0), or
// the one of its load balancers still attached after ESS answered
// InvalidLoadBalancerId.NotFound for the whole job (a mixed batch). A mixed
// batch's call is saved in Redis before it is sent, so every later attempt
// sends exactly it: ESS answers a replay of its token, and a group read after
// the detach can no longer say which load balancers the job detached.
type pendingCall struct {
	LoadBalancerIds []string `json:"LoadBalancerIds"`
	ClientToken     string   `json:"ClientToken"`
	// Round counts the reads of the group behind LoadBalancerIds.
	Round int `json:"Round"`
	// NotAttachedIds are the job's load balancers that the last read found absent.
	NotAttachedIds []string `json:"NotAttachedIds,omitempty"`
	// RequestIds are those of the calls that led to this one.
	RequestIds []string `json:"RequestIds,omitempty"`
}

// notAttached handles InvalidLoadBalancerId.NotFound: ESS refuses a whole
// call when any one of its load balancers is not attached, so a call of
// several says nothing about each of them until the group is read.
func (h *Handler) notAttached(ctx context.Context, j *job, e *essclient.Error) error {
	p := j.payload
	c, end, err := h.nextMixedCall(ctx, p.RegionId, p.ScalingGroupId, j.token, p.LoadBalancerIds, j.sent, e)
	switch {
	case err != nil:
		return h.essFailed(ctx, j, err)
	case end != nil && end.Outcome == tasks.OutcomeNotAttached:
		// The desired state holds (archived under StrictNotAttached).
		if h.cfg.StrictNotAttached {
			return h.finish(ctx, j, *end, e)
		}
		return h.finish(ctx, j, *end, nil)
	case end != nil && end.ErrorCode == codeGroupNotFound:
		return h.finish(ctx, j, *end, fmt.Errorf("%s: %s", end.ErrorCode, end.ErrorMessage))
	case end != nil:
		return h.finish(ctx, j, *end, e)
	}
	if err := h.saveCall(ctx, j.token, c); err != nil {
		// Nothing was sent: the next attempt starts over from the job's own call.
		return h.fail(ctx, j, err)
	}
	j.log.Info("detaching the load balancers still attached", "attached", c.LoadBalancerIds, "not_attached", c.NotAttachedIds, "round", c.Round)
	return h.send(ctx, j, c)
}

// nextMixedCall is what follows a call c, of some of the load balancers all
// (a job's, or a shared call's members'), that met notFound in group groupID:
// the call of those still attached, read from the group, under a token
// derived from base (see attachedToken); or the end of the batch, when a call
// of one load balancer found it absent, the rounds ran out, the group is not
// listed or none is attached. A failed group read is err.
func (h *Handler) nextMixedCall(ctx context.Context, region, groupID, base string, all []string, c pendingCall, notFound *essclient.Error) (pendingCall, *tasks.DetachResult, error) {
	requestIDs := appendRequestID(c.RequestIds, notFound.RequestID)
	noneAttached := func() *tasks.DetachResult {
		return &tasks.DetachResult{Outcome: tasks.OutcomeNotAttached, ErrorCode: notFound.Code, ErrorMessage: notFound.Message,
			RequestIds: requestIDs, NotAttachedIds: all}
	}
	switch {
	case c.Round == 0 && len(c.LoadBalancerIds) == 1:
		return c, noneAttached(), nil
	case c.Round >= maxMixedRounds:
		return c, &tasks.DetachResult{Outcome: tasks.OutcomeFailed, ErrorCode: notFound.Code, RequestIds: requestIDs, NotAttachedIds: c.NotAttachedIds,
			ErrorMessage: fmt.Sprintf("load balancers left the group while it was read %d times: %s", maxMixedRounds, notFound.Message)}, nil
	}
	out, err := h.cfg.ESS.DescribeScalingGroups(ctx, region, []string{groupID})
	if err != nil {
		return c, nil, err
	}
	requestIDs = append(requestIDs, out.RequestID)
	i := slices.IndexFunc(out.ScalingGroups, func(g essclient.ScalingGroup) bool { return g.ScalingGroupID == groupID })
	if i < 0 {
		return c, &tasks.DetachResult{Outcome: tasks.OutcomeFailed, ErrorCode: codeGroupNotFound, RequestIds: requestIDs,
			ErrorMessage: "scaling group " + groupID + " is not listed by DescribeScalingGroups"}, nil
	}
	attached, absent := partition(all, out.ScalingGroups[i].LoadBalancerIDs)
	if len(attached) == 0 {
		return c, noneAttached(), nil
	}
	return pendingCall{
		LoadBalancerIds: attached,
		ClientToken:     attachedToken(base, attached),
		Round:           c.Round + 1,
		NotAttachedIds:  absent,
		RequestIds:      requestIDs,
	}, nil, nil
}

// codeGroupNotFound is ESS's code for a group it does not know.
const codeGroupNotFound = "InvalidScalingGroupId.NotFound"

// partition splits ids into those in group (sorted, as the call's token
// derives from them) and the others, in the job's order.
func partition(ids, group []string) (attached, absent []string) {
	for _, id := range ids {
		if slices.Contains(group, id) {
			attached = append(attached, id)
		} else {
			absent = append(absent, id)
		}
	}
	slices.Sort(attached)
	return attached, absent
}

// attachedToken is the ClientToken of the call of a job's still-attached load
// balancers: a name-based UUID of the job's token and the sorted IDs, so any
// attempt that chooses the same IDs sends the same call.
func attachedToken(token string, sortedIDs []string) string {
	return uuid.NewSHA1(tasks.SplitNamespace, []byte(token+":attached:"+strings.Join(sortedIDs, ","))).String()
}
