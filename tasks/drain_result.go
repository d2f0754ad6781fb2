package tasks

import (
	"encoding/json"
	"fmt"
)

// OutcomeFannedOut is the outcome of a drain that found the load balancer on
// at least one group and queued a detach job for each. A drain that found it
// on none ends OutcomeNotAttached; a failed one OutcomeFailed; a bad payload
// OutcomeInvalid.
const OutcomeFannedOut = "fanned_out"

// DrainGroup is one detach job a drain queued (or found already queued).
type DrainGroup struct {
	ScalingGroupId string `json:"ScalingGroupId"`
	TaskId         string `json:"TaskId"`
	ClientToken    string `json:"ClientToken"`
}

// DrainResult is the final result of a drain, written with asynq's
// ResultWriter and kept for the task's retention. The detach jobs it lists
// have results of their own (DetachResult).
type DrainResult struct {
	Outcome        string `json:"Outcome"`
	ClientToken    string `json:"ClientToken,omitempty"`
	RegionId       string `json:"RegionId,omitempty"`
	LoadBalancerId string `json:"LoadBalancerId,omitempty"`
	ForceDetach    bool   `json:"ForceDetach"`
	Async          bool   `json:"Async"`
	// Groups are the detach jobs of the groups that held the load balancer,
	// in the order ESS listed the groups.
	Groups []DrainGroup `json:"Groups,omitempty"`
	// ErrorCode and ErrorMessage say why a drain failed: ESS's code and
	// message, or the invalid field.
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
	// RequestIds are ESS's request IDs of the DescribeScalingGroups calls
	// (one per page) that the outcome rests on.
	RequestIds []string `json:"RequestIds,omitempty"`
	// Attempts counts the attempts of the drain.
	Attempts int `json:"Attempts"`
}

// DecodeDrainResult reads a result written by the drain handler.
func DecodeDrainResult(b []byte) (DrainResult, error) {
	var r DrainResult
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("decode drain result: %w", err)
	}
	return r, nil
}
