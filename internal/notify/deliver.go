package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	"github.com/hibiken/asynq"
)

// Headers of a delivery.
const (
	HeaderSignature = "X-Essworker-Signature"
	HeaderDelivery  = "X-Essworker-Delivery"
)

// maxAnswer bounds what is read of a receiver's answer: enough to reuse the
// connection, never a reason to hold memory.
const maxAnswer = 64 << 10

// Sign returns the X-Essworker-Signature value of body under secret:
// "sha256=" and the hex HMAC-SHA256.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// ProcessTask implements asynq.Handler for TypeNotify: one delivery attempt.
func (n *Notifier) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p payload
	var notice Notice
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.DeliveryId == "" || json.Unmarshal(p.Body, &notice) != nil {
		n.cfg.Observer.NotificationOutcome(OutcomeDropped)
		n.cfg.Logger.Error("notice dropped: malformed payload", "task_type", t.Type())
		return fmt.Errorf("notice dropped: malformed payload (want DeliveryId and Body): %w", asynq.SkipRetry)
	}
	log := n.cfg.Logger.With("delivery", p.DeliveryId, "job_task_id", notice.TaskID, "url", n.redacted)
	err := n.post(ctx, p)
	if err == nil {
		n.cfg.Observer.NotificationOutcome(OutcomeDelivered)
		log.Debug("notice delivered")
		return nil
	}
	retry, _ := asynq.GetRetryCount(ctx)
	ended, perr := time.Parse(time.RFC3339Nano, notice.Time)
	if perr != nil || time.Since(ended)+n.minDelay(retry) > n.cfg.Budget {
		n.cfg.Observer.NotificationOutcome(OutcomeDropped)
		log.Error("notice dropped", "err", err, "attempts", retry+1, "budget", n.cfg.Budget.String())
		return fmt.Errorf("notice dropped after %d attempts: %w (%w)", retry+1, err, asynq.SkipRetry)
	}
	n.cfg.Observer.NotificationOutcome(OutcomeRetried)
	log.Warn("notice not delivered", "err", err, "attempts", retry+1)
	return err
}

// post makes one delivery. Its errors name the URL without credentials.
func (n *Notifier) post(ctx context.Context, p payload) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(p.Body))
	if err != nil {
		return fmt.Errorf("POST %s: %w", n.redacted, unwrapURLError(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "essworker-notify")
	req.Header.Set(HeaderSignature, Sign(n.cfg.Secret, p.Body))
	req.Header.Set(HeaderDelivery, p.DeliveryId)
	resp, err := n.http.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", n.redacted, unwrapURLError(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("POST %s: HTTP %d", n.redacted, resp.StatusCode)
	}
	return nil
}

// unwrapURLError drops net/http's *url.Error wrapper, whose text quotes the
// URL with its user name.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// RetryDelay is the asynq RetryDelayFunc of notices: FirstRetry doubling per
// retry up to MaxRetryDelay, spread over its upper half so that notices that
// failed together (a receiver down) do not all come back together.
func (n *Notifier) RetryDelay(retry int, _ error, _ *asynq.Task) time.Duration {
	d := n.delay(retry)
	return d - time.Duration(rand.Float64()*0.5*float64(d))
}

// delay is the wait before retry number retry+1, before the spread.
func (n *Notifier) delay(retry int) time.Duration {
	d := n.cfg.MaxRetryDelay
	if retry < 30 && n.cfg.FirstRetry<<retry < d && n.cfg.FirstRetry<<retry > 0 {
		d = n.cfg.FirstRetry << retry
	}
	return d
}

// minDelay is the shortest wait RetryDelay gives retry.
func (n *Notifier) minDelay(retry int) time.Duration { return n.delay(retry) / 2 }
