package essclient

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
)

// TestClassifyAnswer covers the table, including the codes the emulator
// never answers.
func TestClassifyAnswer(t *testing.T) {
	t.Parallel()
	const (
		detach   = ActionDetachLoadBalancers
		describe = ActionDescribeScalingActivities
	)
	tests := []struct {
		action string
		status int
		code   string
		want   Class
	}{
		{detach, 503, "ServiceUnavailable", ClassRetryable},
		{detach, 500, "InternalError", ClassRetryable},
		{detach, 502, "HTTP502", ClassRetryable},
		{detach, 504, "GatewayTimeout", ClassRetryable},
		{detach, 500, "UnknownError", ClassRetryable},
		{detach, 400, "SignatureNonceUsed", ClassRetryable},
		{detach, 400, "InvalidSecurityToken.Expired", ClassRetryable},
		{detach, 400, "Throttling", ClassThrottled},
		{detach, 400, "Throttling.User", ClassThrottled},
		{detach, 400, "Throttling.Api", ClassThrottled},
		{detach, 503, "Throttling.Resource", ClassThrottled},
		{detach, 429, "HTTP429", ClassThrottled},
		{detach, 400, "ScalingActivityInProgress", ClassBusy},
		{detach, 400, "IncorrectScalingGroupStatus", ClassBusy},
		{detach, 400, "InvalidOperation.Conflict", ClassBusy},
		{detach, 404, "InvalidLoadBalancerId.NotFound", ClassNotAttached},
		{describe, 404, "InvalidLoadBalancerId.NotFound", ClassPermanent},
		{detach, 404, "InvalidScalingGroupId.NotFound", ClassPermanent},
		{detach, 403, "Forbidden", ClassPermanent},
		{detach, 403, "Forbidden.Unauthorized", ClassPermanent},
		{detach, 403, "Forbidden.RiskControl", ClassPermanent},
		{detach, 400, "InvalidParameter", ClassPermanent},
		{detach, 400, "MissingParameter", ClassPermanent},
		{detach, 400, "IdempotentParameterMismatch", ClassPermanent},
		{detach, 404, "InvalidAccessKeyId.NotFound", ClassPermanent},
		{detach, 400, "SignatureDoesNotMatch", ClassPermanent},
		{detach, 400, "InvalidTimeStamp.Expired", ClassPermanent},
		{detach, 404, "InvalidApi.NotFound", ClassPermanent},
		{detach, 400, "QuotaExceeded.LoadBalancer", ClassPermanent},
	}
	for _, tt := range tests {
		if got := classifyAnswer(tt.action, tt.status, tt.code); got != tt.want {
			t.Errorf("classifyAnswer(%s, %d, %s) = %v, want %v", tt.action, tt.status, tt.code, got, tt.want)
		}
	}
}

func TestClassOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"*Error", &Error{Class: ClassBusy}, ClassBusy},
		{"wrapped *Error", fmt.Errorf("handler: %w", &Error{Class: ClassNotAttached}), ClassNotAttached},
		{"context.Canceled", context.Canceled, ClassRetryable},
		{"context.DeadlineExceeded", context.DeadlineExceeded, ClassRetryable},
		{"other error", errors.New("boom"), ClassRetryable},
	}
	for _, tt := range tests {
		if got := ClassOf(tt.err); got != tt.want {
			t.Errorf("ClassOf(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestFromSDK feeds fromSDK the SDK's own error values for cases the emulator
// does not produce.
func TestFromSDK(t *testing.T) {
	t.Parallel()
	const secret = "the-secret"
	leakyURL := "https://ess.aliyuncs.com/?AccessKeyId=AK&Signature=abc%2B&SecurityToken=tok&SignatureNonce=n"
	tests := []struct {
		name       string
		err        error
		wantCode   string
		wantStatus int
		wantClass  Class
	}{
		{"forbidden answer", sdkerrors.NewServerError(403, `{"RequestId":"R1","HostId":"ess.aliyuncs.com","Code":"Forbidden.RiskControl","Message":"denied","Recommend":""}`, ""),
			"Forbidden.RiskControl", 403, ClassPermanent},
		{"busy answer", sdkerrors.NewServerError(400, `{"RequestId":"R2","HostId":"h","Code":"InvalidOperation.Conflict","Message":"conflict","Recommend":""}`, ""),
			"InvalidOperation.Conflict", 400, ClassBusy},
		{"proxy page", sdkerrors.NewServerError(502, "<html>Bad Gateway "+leakyURL+"</html>", ""), "HTTP502", 502, ClassRetryable},
		{"SDK timeout", sdkerrors.NewClientError(sdkerrors.TimeoutErrorCode, "The request timed out", &url.Error{Op: "Post", URL: leakyURL, Err: context.DeadlineExceeded}),
			CodeNetwork, 0, ClassRetryable},
		{"garbled answer", sdkerrors.NewClientError(sdkerrors.JsonUnmarshalErrorCode, sdkerrors.JsonUnmarshalErrorMessage, errors.New("unexpected EOF")),
			CodeNetwork, 0, ClassRetryable},
		{"SDK parameter error", sdkerrors.NewClientError(sdkerrors.InvalidParamErrorCode, "bad "+secret, nil), sdkerrors.InvalidParamErrorCode, 0, ClassPermanent},
		{"transport error", &url.Error{Op: "Post", URL: leakyURL, Err: errors.New("connection reset by peer")}, CodeNetwork, 0, ClassRetryable},
	}
	for _, tt := range tests {
		e := fromSDK(ActionDetachLoadBalancers, tt.err, []string{secret})
		if e.Code != tt.wantCode || e.HTTPStatus != tt.wantStatus || e.Class != tt.wantClass {
			t.Errorf("%s: got %s/%d/%v, want %s/%d/%v: %v", tt.name, e.Code, e.HTTPStatus, e.Class, tt.wantCode, tt.wantStatus, tt.wantClass, e)
		}
		text := fmt.Sprintf("%v | %+v", e, *e)
		for _, bad := range []string{"Signature=", "AccessKeyId=", "SecurityToken=", "SignatureNonce=", secret} {
			if strings.Contains(text, bad) {
				t.Errorf("%s: error text holds %q: %s", tt.name, bad, text)
			}
		}
	}
	timeout := fromSDK(ActionDetachLoadBalancers, tests[3].err, nil)
	if !errors.Is(timeout, context.DeadlineExceeded) {
		t.Errorf("SDK timeout %v does not unwrap to context.DeadlineExceeded", timeout)
	}
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Action: ActionDetachLoadBalancers, HTTPStatus: 503, Code: "ServiceUnavailable", RequestID: "1234-ABCD", Message: "The request has failed due to a temporary failure of the server."},
			"ess DetachLoadBalancers: ServiceUnavailable (HTTP 503, request 1234-ABCD): The request has failed due to a temporary failure of the server."},
		{&Error{Action: ActionDescribeScalingActivities, Code: CodeNetwork, Message: "no answer: context canceled", Err: context.Canceled},
			"ess DescribeScalingActivities: network: no answer: context canceled"},
		{&Error{Action: ActionDetachLoadBalancers, HTTPStatus: 404, Code: "InvalidLoadBalancerId.NotFound"},
			"ess DetachLoadBalancers: InvalidLoadBalancerId.NotFound (HTTP 404)"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	if !errors.Is(tests[1].err, context.Canceled) {
		t.Error("Unwrap does not reach the cause")
	}
	notAttached := fmt.Errorf("wrapped: %w", &Error{Class: ClassNotAttached})
	if !errors.Is(notAttached, ErrNotAttached) || errors.Is(&Error{Class: ClassPermanent}, ErrNotAttached) {
		t.Error("errors.Is(err, ErrNotAttached) does not follow the class")
	}
	for c, want := range map[Class]string{ClassRetryable: "retryable", ClassBusy: "busy", ClassThrottled: "throttled", ClassPermanent: "permanent", ClassNotAttached: "not_attached", Class(99): "unknown"} {
		if c.String() != want {
			t.Errorf("Class(%d).String() = %q, want %q", c, c.String(), want)
		}
	}
}
