package essclient

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
)

// maxMessageLen bounds Error.Message: a proxy's HTML error page can be large.
const maxMessageLen = 1024

// ESS error codes the table below names.
const (
	codeNotAttached = "InvalidLoadBalancerId.NotFound"
	codeThrottling  = "Throttling" // and every code with this prefix
	// CodeSecurityTokenExpired: the STS token that signed the call has
	// expired. The call is retryable: the Client resolves its credentials
	// again before the next call, and STS providers hand out a fresh token.
	CodeSecurityTokenExpired = "InvalidSecurityToken.Expired"
)

// busyCodes: the scaling group cannot take the request now (docs/ESS.md,
// Classification).
var busyCodes = map[string]bool{
	"ScalingActivityInProgress":   true,
	"IncorrectScalingGroupStatus": true,
	"InvalidOperation.Conflict":   true,
}

// retryableCodes are worth retrying with the same ClientToken even when the
// HTTP status does not say 5xx. SignatureNonceUsed: the server saw this exact
// signed request before (a replay); a new call gets a new nonce.
// InvalidSecurityToken.Expired: a new call is signed with fresh credentials.
var retryableCodes = map[string]bool{
	"InternalError":          true,
	"ServiceUnavailable":     true,
	"SignatureNonceUsed":     true,
	CodeSecurityTokenExpired: true,
}

// permanentClientCodes are SDK client errors that retrying cannot fix; every
// other SDK client error (SDK.TimeoutError, a garbled answer) is retryable.
var permanentClientCodes = map[string]bool{
	sdkerrors.UnsupportedCredentialErrorCode:    true,
	sdkerrors.UnsupportedParamPositionErrorCode: true,
	sdkerrors.UnknownRequestTypeErrorCode:       true,
	sdkerrors.MissingParamErrorCode:             true,
	sdkerrors.InvalidParamErrorCode:             true,
	sdkerrors.CanNotResolveEndpointErrorCode:    true,
}

// ClassOf returns the class of err: the Class of the *Error in its chain.
// Any other error, context.Canceled and context.DeadlineExceeded included, is
// ClassRetryable: the attempt ended without an answer, and the same
// ClientToken makes the next attempt safe. Check err != nil first: ClassOf(nil)
// is ClassRetryable too.
func ClassOf(err error) Class {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Class
	}
	return ClassRetryable
}

// classifyAnswer is the error table for an answer from ESS (docs/ESS.md,
// Classification).
func classifyAnswer(action string, status int, code string) Class {
	switch {
	case strings.HasPrefix(code, codeThrottling), status == http.StatusTooManyRequests:
		return ClassThrottled
	case busyCodes[code]:
		return ClassBusy
	case code == codeNotAttached && action == ActionDetachLoadBalancers:
		return ClassNotAttached
	case status >= 500, retryableCodes[code]:
		return ClassRetryable
	default:
		return ClassPermanent
	}
}

// fromSDK turns an error of the SDK's DoAction into an *Error whose text and
// cause hold none of secrets, no URL query string and no credential parameter.
func fromSDK(action string, err error, secrets []string) *Error {
	if se, ok := errors.AsType[*sdkerrors.ServerError](err); ok {
		code := se.ErrorCode()
		if code == "" {
			// Not ESS's JSON (a proxy or load balancer answered); the status
			// still says what happened.
			code = "HTTP" + strconv.Itoa(se.HttpStatus())
		}
		return &Error{
			Action:     action,
			HTTPStatus: se.HttpStatus(),
			Code:       code,
			Message:    truncate(Scrub(se.Message(), secrets...)),
			RequestID:  se.RequestId(),
			Class:      classifyAnswer(action, se.HttpStatus(), code),
		}
	}
	if ce, ok := errors.AsType[*credentialError](err); ok {
		return &Error{Action: action, Code: CodeCredentials, Message: ce.Error(), Class: ClassPermanent, Err: ce}
	}
	e := &Error{Action: action, Code: CodeNetwork, Class: ClassRetryable}
	cause := err
	if ce, ok := err.(*sdkerrors.ClientError); ok {
		cause = ce.OriginError()
		if permanentClientCodes[ce.ErrorCode()] {
			e.Code, e.Class = ce.ErrorCode(), ClassPermanent
		}
		if cause == nil {
			cause = errors.New(ce.ErrorCode())
		}
	}
	e.Message = truncate(Scrub(err.Error(), secrets...))
	e.Err = sanitize(cause, secrets)
	return e
}

// abandoned is the *Error of a call whose context or per-call timeout ended
// first. The SDK call may still be running; its answer will be dropped.
func abandoned(action string, ctxErr error) *Error {
	return &Error{
		Action:  action,
		Code:    CodeNetwork,
		Message: "no answer: " + ctxErr.Error(),
		Class:   ClassRetryable,
		Err:     ctxErr,
	}
}

// invalidRequest is the *Error of a request rejected before any call.
func invalidRequest(action, msg string) *Error {
	return &Error{
		Action:  action,
		Code:    CodeInvalidRequest,
		Message: msg,
		Class:   ClassPermanent,
		Err:     ErrInvalidRequest,
	}
}

// sanitize returns err, or a stand-in with scrubbed text when err's text
// holds anything Scrub removes. A *url.Error keeps its type (and its
// Timeout()) with its URL scrubbed, so errors.Is(err, context.DeadlineExceeded)
// still works through it.
func sanitize(err error, secrets []string) error {
	if err == nil || err == context.Canceled || err == context.DeadlineExceeded {
		return err
	}
	if ue, ok := err.(*url.Error); ok {
		return &url.Error{Op: ue.Op, URL: Scrub(ue.URL, secrets...), Err: sanitize(ue.Err, secrets)}
	}
	text := err.Error()
	if clean := Scrub(text, secrets...); clean != text {
		return errors.New(clean)
	}
	return err
}

func truncate(s string) string {
	if len(s) <= maxMessageLen {
		return s
	}
	cut := maxMessageLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
