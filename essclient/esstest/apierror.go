package esstest

import (
	"fmt"
	"net/http"
	"strings"
)

// HostID is the HostId of every error answer, as ESS sends it.
const HostID = "ess.aliyuncs.com"

// ESS error codes the emulator answers.
const (
	CodeInvalidAccessKeyID    = "InvalidAccessKeyId.NotFound"
	CodeSignatureDoesNotMatch = "SignatureDoesNotMatch"
	CodeSignatureNonceUsed    = "SignatureNonceUsed"
	CodeTimestampExpired      = "InvalidTimeStamp.Expired"
	CodeTimestampFormat       = "InvalidTimeStamp.Format"
	CodeMissingParameter      = "MissingParameter"
	CodeInvalidParameter      = "InvalidParameter"
	CodeInvalidAPI            = "InvalidApi.NotFound"
	CodeUnsupportedHTTPMethod = "UnsupportedHTTPMethod"
	CodeGroupNotFound         = "InvalidScalingGroupId.NotFound"
	CodeLoadBalancerNotFound  = "InvalidLoadBalancerId.NotFound"
	CodeActivityInProgress    = "ScalingActivityInProgress"
	CodeIncorrectGroupStatus  = "IncorrectScalingGroupStatus"
	CodeIdempotentMismatch    = "IdempotentParameterMismatch"
	CodeQuotaExceededLB       = "QuotaExceeded.LoadBalancer"
	CodeThrottlingUser        = "Throttling.User"
	CodeInternalError         = "InternalError"
	CodeServiceUnavailable    = "ServiceUnavailable"
	CodeLostAnswer            = "LostAnswer" // Stats only: the work was done, the answer dropped
	codeOK                    = "OK"
)

// codeStatus holds the HTTP status of the codes the emulator itself answers;
// StatusForCode covers every other code by its family.
var codeStatus = map[string]int{
	CodeInvalidAccessKeyID:    http.StatusNotFound,
	CodeSignatureDoesNotMatch: http.StatusBadRequest,
	CodeSignatureNonceUsed:    http.StatusBadRequest,
	CodeTimestampExpired:      http.StatusBadRequest,
	CodeTimestampFormat:       http.StatusBadRequest,
	CodeMissingParameter:      http.StatusBadRequest,
	CodeInvalidParameter:      http.StatusBadRequest,
	CodeInvalidAPI:            http.StatusNotFound,
	CodeUnsupportedHTTPMethod: http.StatusMethodNotAllowed,
	CodeGroupNotFound:         http.StatusNotFound,
	CodeLoadBalancerNotFound:  http.StatusNotFound,
	CodeActivityInProgress:    http.StatusBadRequest,
	CodeIncorrectGroupStatus:  http.StatusBadRequest,
	CodeIdempotentMismatch:    http.StatusBadRequest,
	CodeQuotaExceededLB:       http.StatusBadRequest,
	CodeInternalError:         http.StatusInternalServerError,
	CodeServiceUnavailable:    http.StatusServiceUnavailable,
}

// StatusForCode returns the HTTP status ESS answers with code: the emulator's
// own codes their documented status, then by family: Throttling* 400,
// Forbidden* and NoPermission 403, *.NotFound 404, InternalError and
// UnknownError 500, ServiceUnavailable 503, and 400 for every other code.
func StatusForCode(code string) int {
	if s, ok := codeStatus[code]; ok {
		return s
	}
	switch {
	case code == "Throttling" || strings.HasPrefix(code, "Throttling."):
		return http.StatusBadRequest
	case code == "Forbidden" || strings.HasPrefix(code, "Forbidden.") || code == "NoPermission":
		return http.StatusForbidden
	case strings.HasSuffix(code, ".NotFound"):
		return http.StatusNotFound
	case code == "UnknownError":
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// apiError is an ESS error answer.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message)
}

// errorBody is ESS's error shape. All five fields are strings, always: the SDK
// type-asserts them and panics on anything else.
type errorBody struct {
	RequestId string `json:"RequestId"`
	HostId    string `json:"HostId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	Recommend string `json:"Recommend"`
}

func (e *apiError) body(requestID string) errorBody {
	return errorBody{
		RequestId: requestID,
		HostId:    HostID,
		Code:      e.code,
		Message:   e.message,
		Recommend: "https://api.aliyun.com/troubleshoot?q=" + e.code + "&product=Ess",
	}
}

func newError(code, format string, args ...any) *apiError {
	return &apiError{status: StatusForCode(code), code: code, message: fmt.Sprintf(format, args...)}
}

func errMissing(param string) *apiError {
	return newError(CodeMissingParameter, "The input parameter %q that is mandatory for processing this request is not supplied.", param)
}

func errInvalid(param, why string) *apiError {
	return newError(CodeInvalidParameter, "The specified parameter %q is not valid: %s.", param, why)
}

func errGroupNotFound() *apiError {
	return newError(CodeGroupNotFound, "The specified scaling group does not exist.")
}
