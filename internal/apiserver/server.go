package apiserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"essworker/internal/redisconn"
	"essworker/internal/worker"
	"essworker/tasks"
)

// HTTP server limits: slow or huge requests cannot hold the server. The write
// timeout leaves room for the longest ?wait=.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = maxWait + 30*time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 16 << 10
)

// Server is one configured API server, listening, ready to Run.
type Server struct {
	cfg      Config
	log      *slog.Logger
	rdb      redis.UniversalClient
	producer *tasks.Producer
	tokens   atomic.Pointer[tokenSet]
	metrics  *apiMetrics
	listener net.Listener
	http     *http.Server
	// draining ends when shutdown begins, cutting ?wait= short so that
	// requests in flight finish within the shutdown timeout.
	draining context.Context
	drain    context.CancelFunc
	// waitPoll is how often a ?wait= looks at its job.
	waitPoll time.Duration
}

// New validates cfg, reads the tokens file and the TLS key pair, checks that
// Redis answers and listens on cfg.Addr. Configuration errors are
// *worker.FieldError naming the flag; a Redis that does not answer wraps
// redisconn.ErrUnreachable, with the address and never the password.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, metrics: newMetrics(), waitPoll: tasks.DefaultWaitPoll}
	if !cfg.InsecureNoAuth {
		if err := s.ReloadTokens(); err != nil {
			return nil, err
		}
	}
	var tlsConfig *tls.Config
	if cfg.TLSCertFile != "" {
		pair, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, &worker.FieldError{Field: "tls-cert-file", Reason: err.Error()}
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}
	}
	_, rdb, err := redisconn.Open(cfg.RedisURL, redisconn.Options{TLSCAFile: cfg.RedisTLSCAFile})
	if err != nil {
		return nil, err
	}
	if err := redisconn.Check(ctx, rdb, cfg.RedisURL); err != nil {
		_ = rdb.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("listen on %s (--addr): %w", cfg.Addr, err)
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	s.rdb, s.producer, s.listener = rdb, tasks.NewProducer(rdb), ln
	if cfg.InsecureNoAuth {
		log.Warn("AUTHENTICATION IS OFF (--insecure-no-auth): anyone who reaches " + s.Addr() +
			" can queue detach jobs; use it for local runs only, never in production")
	}
	s.draining, s.drain = context.WithCancel(context.Background())
	s.http = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Addr is the address the server listens on (the port chosen when cfg.Addr
// asked for port 0).
func (s *Server) Addr() string { return s.listener.Addr().String() }

// URL is the server's base URL, http:// or https://.
func (s *Server) URL() string {
	if s.cfg.TLSCertFile != "" {
		return "https://" + s.Addr()
	}
	return "http://" + s.Addr()
}

// ReloadTokens reads the tokens file again and uses it from the next request
// on. When the file cannot be read or holds no valid line, the tokens in use
// stay and the error is returned. Skipped lines are logged by number only.
func (s *Server) ReloadTokens() error {
	set, warnings, err := loadTokens(s.cfg.TokensFile)
	for _, w := range warnings {
		s.log.Warn(w)
	}
	if err != nil {
		return err
	}
	s.tokens.Store(set)
	names := make([]string, len(set.clients))
	for i, c := range set.clients {
		names[i] = c.name
	}
	s.log.Info("tokens loaded", "file", s.cfg.TokensFile, "clients", names)
	return nil
}

// Run serves until ctx ends, then stops taking connections, lets requests in
// flight finish within the shutdown timeout (waits are cut short and answer
// the state of that moment), and closes its Redis client. It returns nil after
// a clean shutdown.
func (s *Server) Run(ctx context.Context) error {
	s.log.Info("api listening", "url", s.URL(), "redis", redisconn.RedactURL(s.cfg.RedisURL))
	served := make(chan error, 1)
	go func() { served <- s.http.Serve(s.listener) }()
	var err error
	select {
	case err = <-served:
	case <-ctx.Done():
		s.drain()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		err = s.http.Shutdown(shutdownCtx)
		cancel()
		if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
			err = serveErr
		}
	}
	s.drain()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	s.log.Info("api stopped", "error", err)
	return errors.Join(err, s.rdb.Close())
}
