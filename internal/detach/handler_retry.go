package detach

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/hibiken/asynq"

	"essworker/essclient"
)

// snoozeError ends an attempt that is not a failure: the job waits for its
// scaling activity or for its group, holding no worker slot. IsFailure says
// false for it, so asynq does not count it against MaxRetry, and RetryDelay turns
// it into its delay: asynq's way to snooze a task.
type snoozeError struct {
	reason string
	delay  time.Duration
}

func (e *snoozeError) Error() string { return "waiting: " + e.reason }

// ServerConfig returns cfg with what the asynq server that runs the handler
// needs: IsFailure, so a snooze is not a failure, and RetryDelayFunc, so a
// snooze waits its own delay. Without them a waiting job counts as failing
// and comes back at asynq's backoff.
func (h *Handler) ServerConfig(cfg asynq.Config) asynq.Config {
	cfg.IsFailure = IsFailure
	cfg.RetryDelayFunc = h.RetryDelay
	return cfg
}

// IsFailure is the asynq.Config IsFailure function for servers running the
// handler: a snooze is not a failure.
func IsFailure(err error) bool {
	var s *snoozeError
	return !errors.As(err, &s)
}

// RetryDelay is the asynq.Config RetryDelayFunc for servers running the handler:
// a snooze waits its own delay; a failure backs off exponentially from RetryBase
// (ThrottleBase after a Throttling answer) up to RetryCap, with jitter so that
// many jobs failing together do not come back together.
func (h *Handler) RetryDelay(n int, err error, _ *asynq.Task) time.Duration {
	var s *snoozeError
	if errors.As(err, &s) {
		return nearWholeSecond(s.delay)
	}
	base := h.cfg.RetryBase
	if essclient.ClassOf(err) == essclient.ClassThrottled {
		base = h.cfg.ThrottleBase
	}
	d := h.cfg.RetryCap
	if n < 30 && base<<n < h.cfg.RetryCap && base<<n > 0 {
		d = base << n
	}
	return jitter(d, 0.5)
}

// nearWholeSecond moves d so that now+d falls on the nearest whole second:
// asynq keeps a retry's time in whole seconds, rounding down, which would
// otherwise bring every snoozed job back up to a second early; rounding to the
// nearest second, with the queue's own pick-up delay, comes back on time on
// average.
func nearWholeSecond(d time.Duration) time.Duration {
	now := time.Now()
	at := now.Add(d).Round(time.Second)
	if !at.After(now) {
		at = at.Add(time.Second)
	}
	return at.Sub(now)
}

// jitter spreads d over [d*(1-frac), d].
func jitter(d time.Duration, frac float64) time.Duration {
	return d - time.Duration(rand.Float64()*frac*float64(d))
}
