package essclient

import (
	"errors"
	"strconv"
	"strings"
)

// Class says what a caller should do about a failed ESS call.
type Class int

// The classes of failure. The zero value is ClassRetryable: an error nobody
// classified is safest retried with the same ClientToken.
const (
	// ClassRetryable: network failure, timeout, no answer, 5xx, an expired STS
	// token. Retry with backoff and the same ClientToken.
	ClassRetryable Class = iota
	// ClassBusy: the scaling group cannot take the request now
	// (ScalingActivityInProgress, IncorrectScalingGroupStatus,
	// InvalidOperation.Conflict). Try again later; not a failure.
	ClassBusy
	// ClassThrottled: Throttling, Throttling.User, Throttling.Api. Back off longer.
	ClassThrottled
	// ClassPermanent: auth, not found, bad parameter, idempotence mismatch. Do not retry.
	ClassPermanent
	// ClassNotAttached: InvalidLoadBalancerId.NotFound on detach: the load balancer
	// is not attached to the group, so the desired state already holds.
	ClassNotAttached
)

// String returns the class name used in logs and results.
func (c Class) String() string {
	switch c {
	case ClassRetryable:
		return "retryable"
	case ClassBusy:
		return "busy"
	case ClassThrottled:
		return "throttled"
	case ClassPermanent:
		return "permanent"
	case ClassNotAttached:
		return "not_attached"
	default:
		return "unknown"
	}
}

// CodeNetwork is the Code of an Error for a call that got no ESS answer at all
// (connection refused or reset, timeout, cancelled context).
const CodeNetwork = "network"

// Error is a failed ESS call. Its text never holds credentials or signatures.
type Error struct {
	Action     string // ESS action, e.g. "DetachLoadBalancers"
	HTTPStatus int    // 0 when no answer came back
	Code       string // ESS error code, CodeNetwork, another Code* of this package, or an SDK client code ("SDK.InvalidParam")
	Message    string // ESS message, or a scrubbed transport error
	RequestID  string // ESS request ID, when there was an answer
	Class      Class
	// Err is the underlying cause (for example context.DeadlineExceeded), already
	// scrubbed of secrets; nil for an ESS error answer.
	Err error
}

// Codes of failures that are not ESS answers, beside CodeNetwork.
const (
	// CodeCredentials: no credentials could be resolved; nothing was sent.
	CodeCredentials = "credentials"
	// CodeInvalidRequest: the request was rejected before any call (for
	// example no activity IDs, or more than MaxActivityIDsPerCall).
	CodeInvalidRequest = "invalid_request"
	// CodeRateLimiter: Config.Limiter failed (not because ctx ended); nothing
	// was sent.
	CodeRateLimiter = "rate_limiter"
)

// Sentinels for errors.Is, for callers that branch on one outcome.
var (
	// ErrNotAttached matches an *Error of class ClassNotAttached: the load
	// balancer is not attached to the group, so a detach has nothing to do.
	ErrNotAttached = errors.New("essclient: load balancer not attached to the scaling group")
	// ErrNoCredentials matches an *Error with Code CodeCredentials.
	ErrNoCredentials = errors.New("essclient: no Alibaba Cloud credentials")
	// ErrInvalidRequest matches an *Error with Code CodeInvalidRequest.
	ErrInvalidRequest = errors.New("essclient: invalid request")
	// ErrSDKDebug is New's error when the environment variable DEBUG turns on
	// the SDK's debug output, which prints every signed request, signature and
	// STS token included, to standard output.
	ErrSDKDebug = errors.New(`essclient: environment variable DEBUG contains "sdk": the Alibaba SDK would print every signed request, signature and STS token included, to standard output; unset it`)
)

// Error formats as
//
//	ess DetachLoadBalancers: ServiceUnavailable (HTTP 503, request 1234-...): The request has failed ...
//
// leaving out the HTTP status and request ID when there was no answer.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("ess ")
	b.WriteString(e.Action)
	b.WriteString(": ")
	b.WriteString(e.Code)
	var details []string
	if e.HTTPStatus != 0 {
		details = append(details, "HTTP "+strconv.Itoa(e.HTTPStatus))
	}
	if e.RequestID != "" {
		details = append(details, "request "+e.RequestID)
	}
	if len(details) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(details, ", "))
		b.WriteString(")")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Unwrap returns the scrubbed cause, so errors.Is(err, context.Canceled) and
// errors.Is(err, context.DeadlineExceeded) work for calls that got no answer.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotAttached) true for ClassNotAttached.
func (e *Error) Is(target error) bool {
	return target == ErrNotAttached && e.Class == ClassNotAttached
}
