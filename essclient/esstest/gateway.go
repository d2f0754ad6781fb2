package esstest

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Gateway constants of ESS's RPC style.
const (
	APIVersion         = "2014-08-28"
	timestampLayout    = "2006-01-02T15:04:05Z"
	gatewayWindow      = 15 * time.Minute // Timestamp skew allowed, and how long a nonce stays used
	signatureMethod    = "HMAC-SHA1"
	signatureVersion   = "1.0"
	stringToSignPrefix = "server string to sign is:"
)

// requiredParams are checked, in this order, before anything else.
var requiredParams = []string{
	"Action", "AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion",
	"SignatureNonce", "Timestamp", "Version", "RegionId",
}

// outcome is what one API call produced.
type outcome struct {
	action  string
	answer  response
	err     *apiError
	latency time.Duration
	lost    bool
}

func (o outcome) code() string {
	if o.err != nil {
		return o.err.code
	}
	return codeOK
}

// serveAPI is the ESS RPC endpoint: gateway checks, then faults, then the action.
func (e *Emulator) serveAPI(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	requestID := strings.ToUpper(uuid.NewString())
	o := e.call(w, r)

	statsCode := o.code()
	if o.lost {
		statsCode = CodeLostAnswer
	}
	e.mu.Lock()
	e.stats.record(o.action, statsCode)
	e.mu.Unlock()

	status := http.StatusOK
	if o.err != nil {
		status = o.err.status
	}
	delivered := waitContext(r.Context(), o.latency)
	e.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "ess call",
		slog.String("action", o.action),
		slog.String("code", statsCode),
		slog.Int("status", status),
		slog.Duration("latency", time.Since(began)),
		slog.String("request_id", requestID),
		slog.Bool("client_gone", !delivered),
	)
	switch {
	case !delivered:
		return
	case o.lost:
		dropConnection(w)
	case o.err != nil:
		writeJSON(w, status, requestID, o.err.body(requestID))
	default:
		writeJSON(w, http.StatusOK, requestID, o.answer.withRequestID(requestID))
	}
}

// call runs the gateway checks, the fault plan and the action.
func (e *Emulator) call(w http.ResponseWriter, r *http.Request) outcome {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return outcome{err: newError(CodeUnsupportedHTTPMethod, "The HTTP method %s is not supported; use GET or POST.", r.Method)}
	}
	if r.URL.Path != "/" {
		return outcome{err: newError(CodeInvalidAPI, "The path %q is not an ESS API endpoint.", r.URL.Path)}
	}
	p, body, aerr := parseParams(w, r)
	if aerr != nil {
		return outcome{err: aerr}
	}
	o := outcome{action: p["Action"]}
	if isV3(r) {
		o.action = r.Header.Get(headerAction)
		o.err = e.authenticateV3(r, p, body)
	} else {
		o.err = e.authenticate(r.Method, p)
	}
	if o.err != nil {
		return o
	}
	fn := actions[o.action]
	if fn == nil {
		o.err = newError(CodeInvalidAPI, "Specified api %q is not found, please check your url and method.", o.action)
		return o
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.cfg.Clock.Now()
	f := e.faults.forAction(o.action)
	o.latency = time.Duration(f.Latency)
	if f.ThrottleQPS > 0 && !e.bucket(o.action).allow(now, f.ThrottleQPS) {
		o.err = newError(CodeThrottlingUser, "Request was denied due to user flow control.")
		return o
	}
	if f.ErrorRate > 0 && e.rng.Float64() < f.ErrorRate {
		o.err = f.injectedError(e.rng, "The emulator's fault plan answered %s.")
		return o
	}
	e.settle(now)
	o.answer, o.err = fn(e, now, p)
	o.lost = f.LostAnswerRate > 0 && e.rng.Float64() < f.LostAnswerRate
	if !o.lost && o.err == nil && f.ErrorAfterWorkRate > 0 && e.rng.Float64() < f.ErrorAfterWorkRate {
		o.err = f.injectedError(e.rng, "The emulator's fault plan answered %s after the work was done.")
	}
	return o
}

// authenticate is the gateway for Signature V1: required parameters, access
// key, signature, timestamp and nonce, in that order, then Format and Version.
func (e *Emulator) authenticate(method string, p params) *apiError {
	for _, name := range requiredParams {
		if p[name] == "" {
			return errMissing(name)
		}
	}
	if p["SignatureMethod"] != signatureMethod {
		return errInvalid("SignatureMethod", "only HMAC-SHA1 is supported")
	}
	if p["SignatureVersion"] != signatureVersion {
		return errInvalid("SignatureVersion", "only 1.0 is supported")
	}
	secret, ok := e.cfg.AccessKeys[p["AccessKeyId"]]
	if !ok {
		return newError(CodeInvalidAccessKeyID, "Specified access key is not found.")
	}
	sts := stringToSign(method, p)
	if subtle.ConstantTimeCompare([]byte(sign(sts, secret)), []byte(p["Signature"])) != 1 {
		return newError(CodeSignatureDoesNotMatch, "Specified signature is not matched with our calculation. %s%s", stringToSignPrefix, sts)
	}
	if aerr := e.checkFreshness(p["AccessKeyId"], p["Timestamp"], p["SignatureNonce"]); aerr != nil {
		return aerr
	}
	return checkFormatAndVersion(p)
}

// checkFreshness is the replay protection of both signatures: the request's
// timestamp within gatewayWindow of now, and its nonce not used by the same
// access key within that window.
func (e *Emulator) checkFreshness(accessKeyID, timestamp, nonce string) *apiError {
	ts, err := time.Parse(timestampLayout, timestamp)
	if err != nil {
		return newError(CodeTimestampFormat, "Specified time stamp or date value is not well formatted; use %s in UTC.", timestampLayout)
	}
	// The SDK stamps requests with the real time, so this check uses it too.
	now := time.Now()
	if skew := now.Sub(ts); skew > gatewayWindow || skew < -gatewayWindow {
		return newError(CodeTimestampExpired, "Specified time stamp or date value is expired: it is more than 15 minutes from the server time.")
	}
	e.mu.Lock()
	fresh := e.nonces.use(accessKeyID+"\x00"+nonce, now)
	e.mu.Unlock()
	if !fresh {
		return newError(CodeSignatureNonceUsed, "Specified signature nonce was used already.")
	}
	return nil
}

// checkFormatAndVersion ends both gateways: the answer format, and an API
// version the emulator speaks.
func checkFormatAndVersion(p params) *apiError {
	if f := p["Format"]; f != "" && !strings.EqualFold(f, "JSON") {
		return errInvalid("Format", "the emulator answers JSON only")
	}
	if v := p["Version"]; v != APIVersion && v != APIVersion2022 {
		return errInvalid("Version", "the ESS API versions are "+APIVersion+" and "+APIVersion2022)
	}
	return nil
}

// bucket returns the throttle's bucket of action. The caller holds e.mu.
func (e *Emulator) bucket(action string) *tokenBucket {
	b := e.buckets[action]
	if b == nil {
		b = &tokenBucket{}
		e.buckets[action] = b
	}
	return b
}

// waitContext waits d, or until ctx is done; it reports whether d passed.
func waitContext(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// dropConnection closes the connection without an answer, as a lost answer does.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	// Not hijackable (HTTP/2): make net/http abort the stream instead.
	panic(http.ErrAbortHandler)
}

func writeJSON(w http.ResponseWriter, status int, requestID string, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=utf-8")
	if requestID != "" {
		h.Set("X-Acs-Request-Id", requestID)
	}
	w.WriteHeader(status)
	_, _ = w.Write(jsonBytes(v)) // the client may be gone; nothing to do about it
}
