package tasks

import (
	"encoding/json"
	"fmt"
)

// Job outcomes, as in the result and in the essworker_jobs_total metric.
const (
	OutcomeDetached        = "detached"
	OutcomeNotAttached     = "not_attached"
	OutcomeFailed          = "failed"
	OutcomeInvalid         = "invalid"
	OutcomeActivityFailed  = "activity_failed"
	OutcomeActivityTimeout = "activity_timeout"
)

// DetachResult is the final result of a job, written with asynq's ResultWriter and
// kept for the task's retention, so `enqueue --wait`, asynqmon and the Inspector
// can show it. It never holds a credential.
type DetachResult struct {
	Outcome         string   `json:"Outcome"`
	ClientToken     string   `json:"ClientToken,omitempty"`
	RegionId        string   `json:"RegionId,omitempty"`
	ScalingGroupId  string   `json:"ScalingGroupId,omitempty"`
	LoadBalancerIds []string `json:"LoadBalancerIds,omitempty"`
	Async           bool     `json:"Async"`
	// DetachedIds are the load balancers this job detached, and NotAttachedIds
	// those it found not attached to the group, whenever the job knows them.
	// Outcome is detached when DetachedIds is not empty (not_attached under
	// the worker's strict option when NotAttachedIds is not empty either).
	DetachedIds    []string `json:"DetachedIds,omitempty"`
	NotAttachedIds []string `json:"NotAttachedIds,omitempty"`
	// ScalingActivityId, StatusCode and StatusMessage describe the activity of an
	// asynchronous detach.
	ScalingActivityId string `json:"ScalingActivityId,omitempty"`
	StatusCode        string `json:"StatusCode,omitempty"`
	StatusMessage     string `json:"StatusMessage,omitempty"`
	// ErrorCode and ErrorMessage say why a job failed: ESS's code and message, or
	// the invalid field.
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
	// CallClientToken is the ClientToken ESS saw when the job shared its call
	// with other jobs of its scaling group; empty when the call was the job's own.
	CallClientToken string `json:"CallClientToken,omitempty"`
	// RequestIds are ESS's request IDs of the calls that decided the outcome.
	RequestIds []string `json:"RequestIds,omitempty"`
	// Attempts counts the attempts of the job, snoozes not included.
	Attempts int `json:"Attempts"`
}

// DecodeDetachResult reads a result written by the handler.
func DecodeDetachResult(b []byte) (DetachResult, error) {
	var r DetachResult
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("decode detach result: %w", err)
	}
	return r, nil
}
