package drain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"essworker/essclient"
	"essworker/internal/esslimits"
	"essworker/tasks"
)

// Lister lists the scaling groups of a region; *essclient.Client is one.
type Lister interface {
	ListScalingGroups(ctx context.Context, regionID string) (essclient.ScalingGroupList, error)
}

// Enqueuer queues detach jobs and finds those already queued;
// *tasks.Producer is one.
type Enqueuer interface {
	Enqueue(ctx context.Context, queue string, reqs ...tasks.DetachPayload) ([]tasks.EnqueueResult, error)
	// JobQueues returns the queue of each token's detach job, "" for none.
	JobQueues(ctx context.Context, tokens ...string) ([]string, error)
}

// Observer is told of every drain's outcome, for metrics; *metrics.Metrics
// is one.
type Observer interface {
	JobFinished(taskType, outcome string, sinceEnqueue time.Duration)
}

// Config configures NewHandler.
type Config struct {
	// ESS lists the groups. Required.
	ESS Lister
	// Jobs queues the detach jobs. Required; give it the Redis of the asynq
	// server that runs the drains, so the jobs land in the queues it serves.
	Jobs Enqueuer
	// DefaultRegion is the region of a drain that names none; it is written
	// into each of its detach jobs. Required.
	DefaultRegion string
	// MaxRetry caps the failed attempts of a drain, below the task's own
	// MaxRetry when lower. Default tasks.DefaultMaxRetry.
	MaxRetry int
	// Logger receives one line per drain outcome and per failure. Default: discard.
	Logger *slog.Logger
	// Observer is told of outcomes. Default: none.
	Observer Observer
	// Notifier is told of each drain's final answer, once its result is
	// written. Default: none.
	Notifier Notifier
}

// Notifier hears of drains' final answers; notify.Notifier is one.
type Notifier interface {
	// JobEnded is called at a drain's final answer, with ctx the attempt's
	// context, whether the drain ends archived, and its result JSON. It must
	// not fail or hold up the drain.
	JobEnded(ctx context.Context, clientToken string, archived bool, result []byte)
}

type nopNotifier struct{}

func (nopNotifier) JobEnded(context.Context, string, bool, []byte) {}

type nopObserver struct{}

func (nopObserver) JobFinished(string, string, time.Duration) {}

func (c Config) withDefaults() (Config, error) {
	switch {
	case c.ESS == nil:
		return c, errors.New("drain: Config.ESS is required")
	case c.Jobs == nil:
		return c, errors.New("drain: Config.Jobs is required")
	case !esslimits.ValidRegionID(c.DefaultRegion):
		return c, fmt.Errorf("drain: Config.DefaultRegion %q is not a region ID", c.DefaultRegion)
	case c.MaxRetry < 0:
		return c, fmt.Errorf("drain: Config.MaxRetry must not be negative (got %d)", c.MaxRetry)
	case c.MaxRetry == 0:
		c.MaxRetry = tasks.DefaultMaxRetry
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	if c.Notifier == nil {
		c.Notifier = nopNotifier{}
	}
	return c, nil
}
