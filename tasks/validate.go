package tasks

import (
	"errors"
	"fmt"

	"essworker/internal/esslimits"
)

// ErrInvalidPayload is wrapped by every decoding and validation error, so a
// handler can tell a job that can never succeed (archive it, do not retry)
// from a failure worth retrying: errors.Is(err, ErrInvalidPayload).
var ErrInvalidPayload = errors.New("invalid payload")

// FieldError is an invalid payload, with the field at fault. Its text is
// "invalid payload: Field: Reason", e.g.
// "invalid payload: LoadBalancerIds: more than 5 (got 7)". Field is empty when
// the payload as a whole is at fault (malformed JSON, not an object).
type FieldError struct {
	Field  string // JSON field name, with an index for list elements: "LoadBalancerIds[2]"
	Reason string // what is wrong, e.g. "required"
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return ErrInvalidPayload.Error() + ": " + e.Reason
	}
	return ErrInvalidPayload.Error() + ": " + e.Field + ": " + e.Reason
}

// Unwrap makes errors.Is(err, ErrInvalidPayload) true.
func (e *FieldError) Unwrap() error { return ErrInvalidPayload }

func payloadError(reason string) *FieldError { return &FieldError{Reason: reason} }

// maxIDLen bounds ScalingGroupId and each load balancer ID. ESS IDs are about
// 25 characters; the bound only keeps junk out of logs, keys and metrics.
const maxIDLen = 128

// Validate checks p against the job contract and returns the first problem as
// a *FieldError (which wraps ErrInvalidPayload), in field order:
//
//   - RegionId: empty, or a region ID (lowercase letters, digits, single dashes).
//   - ScalingGroupId: required; printable ASCII without spaces.
//   - LoadBalancerIds: 1 to MaxLoadBalancers IDs, each non-empty, printable
//     ASCII without spaces, none repeated.
//   - ClientToken: empty (the worker then uses the asynq task ID), or printable
//     ASCII without spaces, at most MaxClientTokenLen characters.
func (p DetachPayload) Validate() error {
	return p.validate(true)
}

// validate is Validate; limitLBs false skips the MaxLoadBalancers limit, for
// requests that SplitDetach will cut into jobs.
func (p DetachPayload) validate(limitLBs bool) error {
	if err := checkRegion(p.RegionId); err != nil {
		return err
	}
	if p.ScalingGroupId == "" {
		return &FieldError{Field: "ScalingGroupId", Reason: "required"}
	}
	if reason := checkID(p.ScalingGroupId, maxIDLen); reason != "" {
		return &FieldError{Field: "ScalingGroupId", Reason: reason}
	}
	if len(p.LoadBalancerIds) == 0 {
		return &FieldError{Field: "LoadBalancerIds", Reason: fmt.Sprintf("required (1 to %d IDs)", MaxLoadBalancers)}
	}
	if limitLBs && len(p.LoadBalancerIds) > MaxLoadBalancers {
		return &FieldError{Field: "LoadBalancerIds", Reason: fmt.Sprintf("more than %d (got %d)", MaxLoadBalancers, len(p.LoadBalancerIds))}
	}
	first := make(map[string]int, len(p.LoadBalancerIds))
	field := func(i int) string { return fmt.Sprintf("LoadBalancerIds[%d]", i) }
	for i, id := range p.LoadBalancerIds {
		if id == "" {
			return &FieldError{Field: field(i), Reason: "empty"}
		}
		if reason := checkID(id, maxIDLen); reason != "" {
			return &FieldError{Field: field(i), Reason: reason}
		}
		if j, dup := first[id]; dup {
			return &FieldError{Field: field(i), Reason: fmt.Sprintf("duplicate of LoadBalancerIds[%d] (%q)", j, id)}
		}
		first[id] = i
	}
	return checkToken(p.ClientToken)
}

// checkRegion returns nil for an empty region (the worker's default) or a
// region ID, else a *FieldError about RegionId.
func checkRegion(region string) error {
	if region == "" {
		return nil
	}
	if len(region) > esslimits.MaxRegionIDLen {
		return &FieldError{Field: "RegionId", Reason: fmt.Sprintf("longer than %d characters (got %d)", esslimits.MaxRegionIDLen, len(region))}
	}
	if !esslimits.ValidRegionID(region) {
		return &FieldError{Field: "RegionId", Reason: fmt.Sprintf("must look like a region ID (lowercase letters, digits, dashes, e.g. cn-hangzhou), got %q", region)}
	}
	return nil
}

// checkToken returns nil for an empty ClientToken or a usable one, else a
// *FieldError about ClientToken.
func checkToken(token string) error {
	if token == "" {
		return nil
	}
	if reason := checkID(token, MaxClientTokenLen); reason != "" {
		return &FieldError{Field: "ClientToken", Reason: reason}
	}
	return nil
}

// checkID returns why s is not a usable ID or token, or "" when it is: printable
// ASCII without spaces (ESS takes ASCII; a space is almost always a typo or a
// badly split list), at most maxLen characters.
func checkID(s string, maxLen int) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' {
			return fmt.Sprintf("must be printable ASCII without spaces (byte %d is 0x%02x)", i, c)
		}
	}
	if len(s) > maxLen {
		return fmt.Sprintf("longer than %d characters (got %d)", maxLen, len(s))
	}
	return ""
}
