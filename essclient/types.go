package essclient

import (
	"context"

	"essworker/internal/esslimits"
)

// Action names, as ESS spells them on the wire and as they appear in metrics.
const (
	ActionDetachLoadBalancers       = "DetachLoadBalancers"
	ActionDescribeScalingActivities = "DescribeScalingActivities"
	ActionDescribeScalingGroups     = "DescribeScalingGroups"
)

// MaxLoadBalancersPerCall is the most load balancers one DetachLoadBalancers call takes.
const MaxLoadBalancersPerCall = esslimits.LoadBalancersPerCall

// MaxActivityIDsPerCall is the most activity IDs one DescribeScalingActivities call takes.
const MaxActivityIDsPerCall = 20

// MaxScalingGroupIDsPerCall is the most group IDs one DescribeScalingGroups call takes.
const MaxScalingGroupIDsPerCall = 20

// DetachRequest is one DetachLoadBalancers call. RegionID empty means the client's
// default region.
type DetachRequest struct {
	RegionID        string
	ScalingGroupID  string
	LoadBalancerIDs []string
	ForceDetach     bool
	Async           bool
	ClientToken     string
}

// DetachResult is ESS's answer to a successful DetachLoadBalancers call.
// ScalingActivityID is set only for asynchronous calls.
type DetachResult struct {
	RequestID         string
	ScalingActivityID string
}

// Activity status codes. InProgress is the only non-terminal one.
const (
	StatusInProgress = "InProgress"
	StatusSuccessful = "Successful"
	StatusWarning    = "Warning"
	StatusFailed     = "Failed"
	StatusRejected   = "Rejected"
)

// Activity is one scaling activity as DescribeScalingActivities reports it.
type Activity struct {
	ScalingActivityID string
	ScalingGroupID    string
	StatusCode        string
	StatusMessage     string
	Progress          int
	StartTime         string
	EndTime           string
}

// Terminal reports whether the activity has ended, in whatever status.
func (a Activity) Terminal() bool { return a.StatusCode != StatusInProgress }

// ActivitiesResult is ESS's answer to DescribeScalingActivities. Activities ESS
// does not list (unknown IDs, activities older than 30 days) are absent, not an
// error (docs/ESS.md, DescribeScalingActivities).
type ActivitiesResult struct {
	RequestID  string
	Activities []Activity
}

// ScalingGroup is one scaling group as DescribeScalingGroups reports it.
type ScalingGroup struct {
	ScalingGroupID  string
	RegionID        string
	LifecycleState  string // Active, Inactive, Deleting
	LoadBalancerIDs []string
}

// ScalingGroupsResult is ESS's answer to DescribeScalingGroups. Unknown group
// IDs are absent, not an error.
type ScalingGroupsResult struct {
	RequestID     string
	ScalingGroups []ScalingGroup
}

// API is the part of ESS the worker uses. *Client implements it against the real
// service (or the emulator); every method honours ctx and returns *Error on failure.
type API interface {
	DetachLoadBalancers(ctx context.Context, req DetachRequest) (DetachResult, error)
	// DescribeScalingActivities looks up to MaxActivityIDsPerCall activities by ID.
	DescribeScalingActivities(ctx context.Context, regionID string, activityIDs []string) (ActivitiesResult, error)
	// DescribeScalingGroups looks up to MaxScalingGroupIDsPerCall groups by ID.
	DescribeScalingGroups(ctx context.Context, regionID string, groupIDs []string) (ScalingGroupsResult, error)
}
