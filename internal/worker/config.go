package worker

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"essworker/essclient"
	"essworker/internal/detach"
	"essworker/internal/esslimits"
	"essworker/internal/notify"
	"essworker/internal/redisconn"
	"essworker/tasks"
)

// Defaults of Config.
const (
	DefaultRedisURL = redisconn.DefaultURL
	// DefaultConcurrency lets a batch of activity look-ups fill a whole
	// DescribeScalingActivities call (20 IDs); waiting jobs hold no slot.
	DefaultConcurrency     = 20
	DefaultQueues          = tasks.DefaultQueue
	DefaultRegion          = "cn-hangzhou"
	DefaultESSQPS          = 10.0
	DefaultESSTimeout      = essclient.DefaultTimeout
	DefaultPollInterval    = detach.DefaultPollInterval
	DefaultPollTimeout     = detach.DefaultPollTimeout
	DefaultMaxRetry        = tasks.DefaultMaxRetry
	DefaultMetricsAddr     = ":9090"
	DefaultShutdownTimeout = 30 * time.Second
	DefaultLogLevel        = "info"
	DefaultLogFormat       = "json"
	// DefaultDelayedCheck is how often scheduled and snoozed jobs are moved back to
	// their queue: it bounds how late a job notices its activity's end.
	DefaultDelayedCheck = 500 * time.Millisecond
)

// Config is the worker's configuration. Validate fills in defaults and checks it.
type Config struct {
	// RedisURL: redis://, rediss:// (TLS) or redis-sentinel:// (asynq's syntax:
	// redis-sentinel://[:password@]host1:port,host2:port?master=NAME; the
	// password is sent to the sentinels and to the master and replicas).
	// Default DefaultRedisURL.
	RedisURL string
	// Concurrency is how many jobs run at once in this worker. Default DefaultConcurrency.
	Concurrency int
	// Queues to serve with their priorities, written "q1=6,q2=3" or "q1,q2"
	// (priority 1). Default DefaultQueues.
	Queues string
	// ESSEndpoint overrides the ESS endpoint ("http://127.0.0.1:8080"). Default: the
	// SDK's regional endpoint over HTTPS.
	ESSEndpoint string
	// Region is the region of jobs that name none. Default DefaultRegion.
	Region string
	// ESSQPS is the fleet-wide rate of ESS calls, shared through Redis. Default DefaultESSQPS.
	ESSQPS float64
	// ESSTimeout bounds one ESS call. Default DefaultESSTimeout.
	ESSTimeout time.Duration
	// PollInterval is the wait between two looks at a scaling activity. Default DefaultPollInterval.
	PollInterval time.Duration
	// PollTimeout bounds the wait for one activity. Default DefaultPollTimeout.
	PollTimeout time.Duration
	// MaxRetry caps the failed attempts of a job in this worker, whatever the
	// producer asked (snoozes are not attempts). Default DefaultMaxRetry.
	MaxRetry int
	// MetricsAddr is where /metrics, /healthz and /readyz are served. Default DefaultMetricsAddr.
	MetricsAddr string
	// ShutdownTimeout bounds the wait for jobs in flight on SIGTERM; jobs still
	// running then are handed back to the queue. Default DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// StrictNotAttached archives jobs whose load balancer is not attached instead
	// of completing them as not_attached. Default false.
	StrictNotAttached bool
	// NoCoalesce makes every job send its own call. Default false: jobs that
	// wait for one scaling group share calls (see detach.Config.DisableCoalescing).
	NoCoalesce bool
	// LogLevel: debug, info, warn, error. Default DefaultLogLevel.
	LogLevel string
	// LogFormat: json or text. Default DefaultLogFormat.
	LogFormat string
	// DelayedCheck is how often snoozed and retried jobs return to their queue.
	// Default DefaultDelayedCheck.
	DelayedCheck time.Duration
	// RedisTLSCAFile is a PEM file of the CA certificates trusted for a
	// rediss:// RedisURL, for a server whose certificate a private CA signed.
	// Only allowed with rediss://. Default "": the system roots.
	RedisTLSCAFile string
	// NotifyURL is the receiver of the signed notice each job sends at its
	// final answer (http:// or https://). Default "": no notices.
	NotifyURL string
	// NotifySecretFile is the file of the notices' HMAC secret (its content,
	// surrounding whitespace trimmed, not empty). Required with NotifyURL, and
	// only allowed with it.
	NotifySecretFile string
	// NotifyBudget bounds the retries of one notice, from its job's end.
	// Default notify.DefaultBudget.
	NotifyBudget time.Duration
}

// FieldError is a configuration error; Field is the flag's name. It is
// redisconn's, so a bad Redis setting and any other bad flag read alike.
type FieldError = redisconn.FieldError

// Validate fills in defaults and checks every field, naming the flag of the first
// bad one.
func (c *Config) Validate() error {
	setDefault(&c.RedisURL, DefaultRedisURL)
	setDefault(&c.Queues, DefaultQueues)
	setDefault(&c.Region, DefaultRegion)
	setDefault(&c.MetricsAddr, DefaultMetricsAddr)
	setDefault(&c.LogLevel, DefaultLogLevel)
	setDefault(&c.LogFormat, DefaultLogFormat)
	setDefault(&c.Concurrency, DefaultConcurrency)
	setDefault(&c.ESSQPS, DefaultESSQPS)
	setDefault(&c.ESSTimeout, DefaultESSTimeout)
	setDefault(&c.PollInterval, DefaultPollInterval)
	setDefault(&c.PollTimeout, DefaultPollTimeout)
	setDefault(&c.MaxRetry, DefaultMaxRetry)
	setDefault(&c.ShutdownTimeout, DefaultShutdownTimeout)
	setDefault(&c.DelayedCheck, DefaultDelayedCheck)

	if _, err := ParseQueues(c.Queues); err != nil {
		return &FieldError{Field: "queues", Reason: err.Error()}
	}
	checks := []struct {
		field string
		bad   bool
		why   string
	}{
		{"concurrency", c.Concurrency < 0, "must be positive"},
		{"ess-qps", c.ESSQPS < 0, "must be positive"},
		{"ess-timeout", c.ESSTimeout < 0, "must be positive"},
		{"poll-interval", c.PollInterval < 0, "must be positive"},
		{"poll-timeout", c.PollTimeout < c.PollInterval, "must be at least --poll-interval"},
		{"max-retry", c.MaxRetry < 0, "must not be negative"},
		{"shutdown-timeout", c.ShutdownTimeout < 0, "must be positive"},
		{"log-level", !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel), "must be debug, info, warn or error"},
		{"log-format", !slices.Contains([]string{"json", "text"}, c.LogFormat), "must be json or text"},
		{"region", !esslimits.ValidRegionID(c.Region), "must look like cn-hangzhou"},
	}
	for _, ch := range checks {
		if ch.bad {
			return &FieldError{Field: ch.field, Reason: ch.why}
		}
	}
	if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
		return &FieldError{Field: "metrics-addr", Reason: fmt.Sprintf("want HOST:PORT: %v", err)}
	}
	return c.validateNotify()
}

// validateNotify checks the notice settings: a URL and a readable, non-empty
// secret file go together. It reads the secret only to check it.
func (c *Config) validateNotify() error {
	if c.NotifyURL == "" && c.NotifySecretFile == "" {
		return nil
	}
	if c.NotifyURL == "" {
		return &FieldError{Field: "notify-url", Reason: "is required with --notify-secret-file"}
	}
	if _, err := notify.ParseURL(c.NotifyURL); err != nil {
		return &FieldError{Field: "notify-url", Reason: err.Error()}
	}
	if c.NotifySecretFile == "" {
		return &FieldError{Field: "notify-secret-file", Reason: "is required with --notify-url"}
	}
	if _, err := notify.ReadSecret(c.NotifySecretFile); err != nil {
		return &FieldError{Field: "notify-secret-file", Reason: err.Error()}
	}
	if c.NotifyBudget < 0 {
		return fmt.Errorf("worker: Config.NotifyBudget must not be negative (got %v)", c.NotifyBudget)
	}
	return nil
}

// ParseQueues reads "q1=6,q2=3" or "q1,q2" into asynq's queue priorities.
func ParseQueues(s string) (map[string]int, error) {
	queues := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		name, prio, hasPrio := strings.Cut(strings.TrimSpace(part), "=")
		if name == "" {
			return nil, fmt.Errorf("empty queue name in %q", s)
		}
		p := 1
		if hasPrio {
			n, err := strconv.Atoi(prio)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("priority of queue %q must be a positive integer (got %q)", name, prio)
			}
			p = n
		}
		if _, dup := queues[name]; dup {
			return nil, fmt.Errorf("queue %q named twice", name)
		}
		queues[name] = p
	}
	return queues, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
