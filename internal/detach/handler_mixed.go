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
	c := j.sent
	requestIDs := append(slices.Clone(c.RequestIds), e.RequestID)
	switch {
	case c.Round == 0 && len(c.LoadBalancerIds) == 1:
		return h.noneAttached(ctx, j, e, requestIDs)
	case c.Round >= maxMixedRounds:
		res := tasks.DetachResult{Outcome: tasks.OutcomeFailed, ErrorCode: e.Code, RequestIds: requestIDs, NotAttachedIds: c.NotAttachedIds,
			ErrorMessage: fmt.Sprintf("load balancers left the group while it was read %d times: %s", maxMixedRounds, e.Message)}
		return h.finish(ctx, j, res, e)
	}
	return h.mixed(ctx, j, c.Round+1, e, requestIDs)
}

// mixed reads the job's group and sends the call of those of its load
// balancers still attached.
func (h *Handler) mixed(ctx context.Context, j *job, round int, notFound *essclient.Error, requestIDs []string) error {
	p := j.payload
	out, err := h.cfg.ESS.DescribeScalingGroups(ctx, p.RegionId, []string{p.ScalingGroupId})
	if err != nil {
		return h.essFailed(ctx, j, err)
	}
	requestIDs = append(requestIDs, out.RequestID)
	i := slices.IndexFunc(out.ScalingGroups, func(g essclient.ScalingGroup) bool { return g.ScalingGroupID == p.ScalingGroupId })
	if i < 0 {
		res := tasks.DetachResult{Outcome: tasks.OutcomeFailed, ErrorCode: codeGroupNotFound, RequestIds: requestIDs,
			ErrorMessage: "scaling group " + p.ScalingGroupId + " is not listed by DescribeScalingGroups"}
		return h.finish(ctx, j, res, fmt.Errorf("%s: %s", res.ErrorCode, res.ErrorMessage))
	}
	attached, absent := partition(p.LoadBalancerIds, out.ScalingGroups[i].LoadBalancerIDs)
	if len(attached) == 0 {
		return h.noneAttached(ctx, j, notFound, requestIDs)
	}
	c := pendingCall{
		LoadBalancerIds: attached,
		ClientToken:     attachedToken(j.token, attached),
		Round:           round,
		NotAttachedIds:  absent,
		RequestIds:      requestIDs,
	}
	if err := h.saveCall(ctx, j.token, c); err != nil {
		// Nothing was sent: the next attempt starts over from the job's own call.
		return h.fail(ctx, j, err)
	}
	j.log.Info("detaching the load balancers still attached", "attached", attached, "not_attached", absent, "round", round)
	return h.send(ctx, j, c)
}

// noneAttached ends a job none of whose load balancers is attached: the
// desired state holds (archived under StrictNotAttached).
func (h *Handler) noneAttached(ctx context.Context, j *job, e *essclient.Error, requestIDs []string) error {
	res := tasks.DetachResult{Outcome: tasks.OutcomeNotAttached, ErrorCode: e.Code, ErrorMessage: e.Message,
		RequestIds: requestIDs, NotAttachedIds: j.payload.LoadBalancerIds}
	if h.cfg.StrictNotAttached {
		return h.finish(ctx, j, res, e)
	}
	return h.finish(ctx, j, res, nil)
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
