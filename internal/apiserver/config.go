package apiserver

import (
	"fmt"
	"net"
	"time"

	"essworker/internal/worker"
)

// Defaults of Config.
const (
	DefaultAddr            = "127.0.0.1:8088"
	DefaultShutdownTimeout = 30 * time.Second
)

// Config is the API server's configuration. Validate fills in defaults and
// checks it.
type Config struct {
	// Addr is the listen address, HOST:PORT (port 0: a free port). Default DefaultAddr.
	Addr string
	// RedisURL: redis://, rediss:// or redis-sentinel://, as the worker's.
	// Default worker.DefaultRedisURL.
	RedisURL string
	// RedisTLSCAFile is a PEM file of the CAs trusted for a rediss:// RedisURL.
	RedisTLSCAFile string
	// TokensFile holds the clients, one NAME:TOKEN a line. Required unless
	// InsecureNoAuth.
	TokensFile string
	// InsecureNoAuth accepts requests without a token: local runs only.
	InsecureNoAuth bool
	// TLSCertFile and TLSKeyFile, both or neither, serve HTTPS.
	TLSCertFile, TLSKeyFile string
	// LogLevel: debug, info, warn, error. Default worker.DefaultLogLevel.
	LogLevel string
	// LogFormat: json or text. Default worker.DefaultLogFormat.
	LogFormat string
	// ShutdownTimeout bounds the wait for requests in flight on SIGTERM.
	// Default DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
}

// Validate fills in defaults and checks every field, naming the flag of the
// first bad one (a *worker.FieldError). The tokens file is read by New.
func (c *Config) Validate() error {
	setDefault(&c.Addr, DefaultAddr)
	setDefault(&c.RedisURL, worker.DefaultRedisURL)
	setDefault(&c.LogLevel, worker.DefaultLogLevel)
	setDefault(&c.LogFormat, worker.DefaultLogFormat)
	setDefault(&c.ShutdownTimeout, DefaultShutdownTimeout)
	switch {
	case c.TokensFile == "" && !c.InsecureNoAuth:
		return &worker.FieldError{Field: "tokens-file", Reason: "required: give a file of NAME:TOKEN lines (API_TOKENS_FILE), or --insecure-no-auth for a local run"}
	case c.TokensFile != "" && c.InsecureNoAuth:
		return &worker.FieldError{Field: "tokens-file", Reason: fmt.Sprintf("%s given with --insecure-no-auth: choose one", c.TokensFile)}
	case (c.TLSCertFile == "") != (c.TLSKeyFile == ""):
		if c.TLSCertFile == "" {
			return &worker.FieldError{Field: "tls-cert-file", Reason: "required with --tls-key-file"}
		}
		return &worker.FieldError{Field: "tls-key-file", Reason: "required with --tls-cert-file"}
	case c.ShutdownTimeout < 0:
		return &worker.FieldError{Field: "shutdown-timeout", Reason: "must be positive"}
	case c.LogLevel != "debug" && c.LogLevel != "info" && c.LogLevel != "warn" && c.LogLevel != "error":
		return &worker.FieldError{Field: "log-level", Reason: "must be debug, info, warn or error"}
	case c.LogFormat != "json" && c.LogFormat != "text":
		return &worker.FieldError{Field: "log-format", Reason: "must be json or text"}
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return &worker.FieldError{Field: "addr", Reason: fmt.Sprintf("want HOST:PORT: %v", err)}
	}
	return nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
