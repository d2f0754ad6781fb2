package detach

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"essworker/essclient"
	"essworker/internal/ratelimit"
	"essworker/tasks"
)

// Defaults of Config.
const (
	DefaultPollInterval = 5 * time.Second
	DefaultPollTimeout  = 30 * time.Minute
	DefaultLeaseTTL     = 2 * time.Minute
	DefaultBusyDelay    = 2 * time.Second
	DefaultRetryBase    = time.Second
	DefaultRetryCap     = 2 * time.Minute
	DefaultThrottleBase = 5 * time.Second
	DefaultKeyPrefix    = "essworker:"
	DefaultCallTimeout  = 30 * time.Second
)

// Config configures NewHandler. Zero durations take their defaults.
type Config struct {
	// ESS is the ESS boundary. Required.
	ESS essclient.API
	// Redis holds the group leases and the activity records. Required, and it
	// must be the Redis that asynq uses: a job's result is written into
	// asynq's task hash through it (in the script that frees the lease), and
	// both survive or fail together.
	Redis redis.UniversalClient
	// RateLimit, when set, is the limiter the ESS client waits on
	// (essclient.Config.Limiter): a job about to call DetachLoadBalancers
	// reserves its call's slot in the round trip that takes its group lease,
	// and the call waits for that slot without a reservation of its own.
	// Default nil: every call reserves through the client's limiter, if any.
	RateLimit *ratelimit.Limiter
	// PollInterval is the wait between two looks at a running scaling activity.
	// Default DefaultPollInterval.
	PollInterval time.Duration
	// FollowUp is the first wait between polls once a look at the estimated end
	// of an activity found it still running; later waits double up to
	// PollInterval. Default DefaultFollowUp.
	FollowUp time.Duration
	// BatchWindow is how long a poll waits for others to share its
	// DescribeScalingActivities call. Default DefaultBatchWindow.
	BatchWindow time.Duration
	// PollTimeout bounds the wait for one activity, from the detach answer on; past
	// it the job is archived with outcome activity_timeout. Default DefaultPollTimeout.
	PollTimeout time.Duration
	// LeaseTTL is how long a group lease outlives its holder's last sign of life.
	// It must exceed PollInterval, since a polling job renews it once a poll.
	// Default DefaultLeaseTTL.
	LeaseTTL time.Duration
	// BusyDelay is the wait before trying again a job whose group is busy (its lease
	// held by another job, or ESS answering that an activity runs). Default DefaultBusyDelay.
	BusyDelay time.Duration
	// RetryBase and RetryCap shape the exponential backoff of retryable failures:
	// RetryBase*2^n, capped at RetryCap, with jitter. Defaults DefaultRetryBase,
	// DefaultRetryCap.
	RetryBase time.Duration
	RetryCap  time.Duration
	// ThrottleBase replaces RetryBase after a Throttling answer. Default DefaultThrottleBase.
	ThrottleBase time.Duration
	// MaxRetry caps the failed attempts of a job, below the task's own MaxRetry
	// when lower; snoozes are not attempts. Default tasks.DefaultMaxRetry.
	MaxRetry int
	// DisableCoalescing makes every job send its own call. Default false: jobs
	// that wait for their group together (same region, ForceDetach and Async)
	// share calls of up to esslimits.LoadBalancersPerCall load balancers.
	DisableCoalescing bool
	// DefaultRegion is the region of jobs that name none, so that they share
	// calls with jobs that name it. Default "": they share only among themselves.
	DefaultRegion string
	// CallTimeout is the longest one DetachLoadBalancers call takes, rate-limit
	// wait included: the other members of a shared call wait that long for its
	// maker's answer before sending the call themselves. Default DefaultCallTimeout.
	CallTimeout time.Duration
	// WaitReplicas is how many Redis replicas must hold a decision that a
	// call's ClientToken comes from (the members of a shared call, the load
	// balancers still attached in a mixed batch) before the call is sent
	// (Redis WAIT, at most a second; past it the call waits for a later
	// attempt). A failover that loses the master's latest writes could
	// otherwise let a later attempt decide otherwise and send load balancers
	// again under another token, which ESS answers "not attached". Default 0:
	// no wait (a Redis without replicas).
	WaitReplicas int
	// StrictNotAttached archives a job whose load balancer is not attached to the
	// group, instead of completing it with outcome not_attached. Default false.
	StrictNotAttached bool
	// KeyPrefix prefixes every Redis key the handler writes. Default DefaultKeyPrefix.
	KeyPrefix string
	// Logger receives one line per job outcome and per ESS failure. Default: discard.
	Logger *slog.Logger
	// Observer is told of outcomes for metrics. Default: none.
	Observer Observer
	// Notifier is told of each job's final answer, once its result is written.
	// Default: none.
	Notifier Notifier
}

// ActivityStatusTimeout is the status reported to Observer.ActivityFinished for
// an activity still running when the job's wait bound ran out.
const ActivityStatusTimeout = "Timeout"

// Observer receives what the handler does, for metrics.
type Observer interface {
	// JobFinished is called once per job with its final outcome (see Outcome*) and
	// the time since it was enqueued (negative when unknown).
	JobFinished(taskType, outcome string, sinceEnqueue time.Duration)
	// ActivityFinished is called when a followed scaling activity ends, with its
	// status code (or ActivityStatusTimeout) and how long it was followed.
	ActivityFinished(status string, d time.Duration)
	// GroupLeaseContended is called when a job finds its group leased by another.
	GroupLeaseContended()
}

// Notifier hears of jobs' final answers; notify.Notifier is one.
type Notifier interface {
	// JobEnded is called at a job's final answer, with ctx the attempt's
	// context, whether the job ends archived, and its result JSON. It must not
	// fail or hold up the job.
	JobEnded(ctx context.Context, clientToken string, archived bool, result []byte)
}

type nopNotifier struct{}

func (nopNotifier) JobEnded(context.Context, string, bool, []byte) {}

type nopObserver struct{}

func (nopObserver) JobFinished(string, string, time.Duration) {}
func (nopObserver) ActivityFinished(string, time.Duration)    {}
func (nopObserver) GroupLeaseContended()                      {}

func (c Config) withDefaults() (Config, error) {
	if c.ESS == nil {
		return c, errors.New("detach: Config.ESS is required")
	}
	if c.Redis == nil {
		return c, errors.New("detach: Config.Redis is required")
	}
	durations := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"PollInterval", &c.PollInterval, DefaultPollInterval},
		{"PollTimeout", &c.PollTimeout, DefaultPollTimeout},
		{"FollowUp", &c.FollowUp, DefaultFollowUp},
		{"BatchWindow", &c.BatchWindow, DefaultBatchWindow},
		{"LeaseTTL", &c.LeaseTTL, DefaultLeaseTTL},
		{"BusyDelay", &c.BusyDelay, DefaultBusyDelay},
		{"RetryBase", &c.RetryBase, DefaultRetryBase},
		{"RetryCap", &c.RetryCap, DefaultRetryCap},
		{"ThrottleBase", &c.ThrottleBase, DefaultThrottleBase},
		{"CallTimeout", &c.CallTimeout, DefaultCallTimeout},
	}
	for _, d := range durations {
		switch {
		case *d.v < 0:
			return c, fmt.Errorf("detach: Config.%s must not be negative (got %v)", d.name, *d.v)
		case *d.v == 0:
			*d.v = d.def
		}
	}
	if c.WaitReplicas < 0 {
		return c, fmt.Errorf("detach: Config.WaitReplicas must not be negative (got %d)", c.WaitReplicas)
	}
	switch {
	case c.MaxRetry < 0:
		return c, fmt.Errorf("detach: Config.MaxRetry must not be negative (got %d)", c.MaxRetry)
	case c.MaxRetry == 0:
		c.MaxRetry = tasks.DefaultMaxRetry
	}
	if c.LeaseTTL <= c.PollInterval {
		return c, fmt.Errorf("detach: Config.LeaseTTL (%v) must exceed PollInterval (%v)", c.LeaseTTL, c.PollInterval)
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = DefaultKeyPrefix
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
