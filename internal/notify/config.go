package notify

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Defaults of Config.
const (
	DefaultTimeout        = 10 * time.Second
	DefaultFirstRetry     = 10 * time.Second
	DefaultMaxRetryDelay  = 10 * time.Minute
	DefaultBudget         = 24 * time.Hour
	DefaultEnqueueTimeout = 2 * time.Second
)

// Config configures New. Zero durations take their defaults.
type Config struct {
	// URL is the receiver, http:// or https://. Required. Its credentials
	// (user info) and query never appear in logs or errors.
	URL string
	// Secret keys the HMAC-SHA256 signature of every body. Required, not empty.
	Secret []byte
	// Redis is where notices are enqueued: the Redis of the jobs. Required.
	Redis redis.UniversalClient
	// Timeout bounds one POST. Default DefaultTimeout.
	Timeout time.Duration
	// FirstRetry is the wait before the first retry of a notice; later waits
	// double up to MaxRetryDelay. Defaults DefaultFirstRetry, DefaultMaxRetryDelay.
	FirstRetry    time.Duration
	MaxRetryDelay time.Duration
	// Budget bounds the retries of a notice, from the end of its job; a notice
	// not delivered within it is dropped. Default DefaultBudget.
	Budget time.Duration
	// EnqueueTimeout bounds the enqueueing of a notice at a job's end.
	// Default DefaultEnqueueTimeout.
	EnqueueTimeout time.Duration
	// Logger receives one line per failed delivery and per dropped notice.
	// Default: discard.
	Logger *slog.Logger
	// Observer is told of each delivery's outcome. Default: none.
	Observer Observer
}

// Outcomes of a delivery attempt, as Observer.NotificationOutcome receives them.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetried   = "retried"
	OutcomeDropped   = "dropped"
)

// Observer receives what deliveries do, for metrics.
type Observer interface {
	// NotificationOutcome is called once per delivery attempt: OutcomeDelivered,
	// OutcomeRetried, or OutcomeDropped when a notice is given up.
	NotificationOutcome(outcome string)
}

type nopObserver struct{}

func (nopObserver) NotificationOutcome(string) {}

// Notifier enqueues notices at jobs' ends (JobEnded) and delivers them
// (ProcessTask, for TypeNotify).
type Notifier struct {
	cfg      Config
	url      string // cfg.URL, parsed and checked
	redacted string // url without user info or query, for logs and errors
	client   *asynq.Client
	http     *http.Client
}

// New checks cfg and returns a Notifier. Errors name the Config field.
func New(cfg Config) (*Notifier, error) {
	u, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("notify: Config.URL: %w", err)
	}
	if len(cfg.Secret) == 0 {
		return nil, errors.New("notify: Config.Secret is required")
	}
	if cfg.Redis == nil {
		return nil, errors.New("notify: Config.Redis is required")
	}
	durations := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"Timeout", &cfg.Timeout, DefaultTimeout},
		{"FirstRetry", &cfg.FirstRetry, DefaultFirstRetry},
		{"MaxRetryDelay", &cfg.MaxRetryDelay, DefaultMaxRetryDelay},
		{"Budget", &cfg.Budget, DefaultBudget},
		{"EnqueueTimeout", &cfg.EnqueueTimeout, DefaultEnqueueTimeout},
	}
	for _, d := range durations {
		switch {
		case *d.v < 0:
			return nil, fmt.Errorf("notify: Config.%s must not be negative (got %v)", d.name, *d.v)
		case *d.v == 0:
			*d.v = d.def
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	return &Notifier{
		cfg:      cfg,
		url:      u.String(),
		redacted: Redact(u),
		client:   asynq.NewClientFromRedisClient(cfg.Redis),
		http: &http.Client{
			Timeout: cfg.Timeout,
			// The notice goes to the URL given and nowhere else.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// ParseURL checks that s is an absolute http:// or https:// URL with a host.
// Its errors never quote s, which may hold credentials.
func ParseURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("is required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("is not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("must start with http:// or https://")
	}
	if u.Host == "" {
		return nil, errors.New("has no host")
	}
	return u, nil
}

// Redact returns u without its user info and query, the parts that may carry
// credentials.
func Redact(u *url.URL) string {
	r := *u
	r.User, r.RawQuery, r.ForceQuery, r.Fragment, r.RawFragment = nil, "", false, "", ""
	return r.String()
}

// ReadSecret reads the secret in path: the file's content, surrounding
// whitespace trimmed. An empty secret is an error. Errors name the path, never
// the content.
func ReadSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil, fmt.Errorf("%s holds no secret (empty or only whitespace)", path)
	}
	return []byte(s), nil
}
