// Package essclient is the worker's boundary to Alibaba Cloud Auto Scaling
// (ESS): a small, context-aware client over github.com/aliyun/alibaba-cloud-sdk-go
// that hides the SDK's sharp edges, and the table that says what a failed call
// means.
//
// The SDK has no context.Context, keeps per-request timeouts in each client's
// shared http.Client (sticky and racy), defaults to plain HTTP and puts
// AccessKeyId, Signature and SecurityToken into its error strings. Client
// therefore:
//
//   - keeps, per region, a pool of Config.PoolSize SDK clients, created at the
//     region's first call; each serves one call at a time;
//   - sets scheme, endpoint and timeouts on every request: HTTPS unless
//     Config.Endpoint says http://, and min(Config.Timeout, time left until
//     the context's deadline) as both connect and read timeout;
//   - runs each SDK call in a goroutine and returns as soon as the context is
//     done (the HTTP exchange is cancelled too; a late answer is dropped, and
//     the request's ClientToken makes the next attempt safe);
//   - resolves credentials through the SDK's chain (environment first) at the
//     first call, or through Config.Credentials, never panicking;
//   - waits on Config.Limiter before each call and reports every call to
//     Config.Observer;
//   - returns every failure as an *Error carrying action, HTTP status, ESS
//     code, message, request ID and Class, whose text has been through Scrub.
//
// Classes (ClassOf; docs/ESS.md, Classification, says why each code is in its
// class):
//
//   - ClassRetryable: no answer (timeout, reset, lost answer, cancelled
//     context), SDK client errors, 5xx (InternalError, ServiceUnavailable).
//   - ClassThrottled: any code starting with "Throttling", or HTTP 429.
//   - ClassBusy: ScalingActivityInProgress, IncorrectScalingGroupStatus,
//     InvalidOperation.Conflict.
//   - ClassNotAttached: InvalidLoadBalancerId.NotFound on DetachLoadBalancers
//     (errors.Is(err, ErrNotAttached)).
//   - ClassPermanent: every other answer (Forbidden*, InvalidScalingGroupId.NotFound,
//     InvalidParameter, IdempotentParameterMismatch, SignatureDoesNotMatch,
//     ...), missing credentials (ErrNoCredentials) and requests rejected before
//     any call (ErrInvalidRequest).
//
// The SDK prints every request URL, credentials included, to standard output
// when the environment variable DEBUG contains "sdk", so New then refuses with
// ErrSDKDebug.
//
// Package essclient/esstest is an in-process ESS emulator to test against.
package essclient
