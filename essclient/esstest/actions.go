package esstest

import "time"

// ESS actions the emulator serves.
const (
	ActionDetachLoadBalancers       = "DetachLoadBalancers"
	ActionAttachLoadBalancers       = "AttachLoadBalancers"
	ActionDescribeScalingGroups     = "DescribeScalingGroups"
	ActionDescribeScalingActivities = "DescribeScalingActivities"
)

// actionFunc does one action at now. It runs under the emulator's lock, after
// settle, and either answers or fails without changing anything.
type actionFunc func(e *Emulator, now time.Time, p params) (response, *apiError)

// actions are the ESS actions by name.
var actions = map[string]actionFunc{
	ActionDetachLoadBalancers:       detachAction.serve,
	ActionAttachLoadBalancers:       attachAction.serve,
	ActionDescribeScalingGroups:     (*Emulator).describeScalingGroups,
	ActionDescribeScalingActivities: (*Emulator).describeScalingActivities,
}

// response is a success answer without its RequestId; stored answers are
// replayed with a fresh one.
type response interface {
	withRequestID(id string) any
}
