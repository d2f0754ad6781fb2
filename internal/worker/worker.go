package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials/provider"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"essworker/essclient"
	"essworker/internal/detach"
	"essworker/internal/drain"
	"essworker/internal/metrics"
	"essworker/internal/notify"
	"essworker/internal/ratelimit"
	"essworker/internal/redisconn"
	"essworker/tasks"
)

// idleCheck is how long an idle worker slot waits before looking at the queues
// again (asynq's default of 1s would delay every job that a snooze hands back).
const idleCheck = 250 * time.Millisecond

// httpShutdownTimeout bounds the wait for open HTTP requests at exit.
const httpShutdownTimeout = 5 * time.Second

// credentialCheckTimeout bounds the resolution of credentials at start (the
// default chain may ask an OIDC or STS endpoint), so that a worker without
// credentials exits within seconds instead of failing every job.
const credentialCheckTimeout = 5 * time.Second

// Worker is one configured worker process, ready to Run.
type Worker struct {
	cfg      Config
	log      *slog.Logger
	rdb      redis.UniversalClient
	ess      *essclient.Client
	server   *asynq.Server
	mux      *asynq.ServeMux
	insp     *asynq.Inspector
	metrics  *metrics.Metrics
	listener net.Listener
	running  atomic.Bool
}

// New validates cfg, checks that Redis answers and that credentials resolve
// (without calling ESS), and prepares the worker and its HTTP listener.
// credentials may be nil for the SDK's default chain.
func New(ctx context.Context, cfg Config, credentials provider.Provider, log *slog.Logger) (*Worker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	queues, _ := ParseQueues(cfg.Queues)
	redisOpt, rdb, err := redisconn.Open(cfg.RedisURL, redisconn.Options{TLSCAFile: cfg.RedisTLSCAFile})
	if err != nil {
		return nil, err
	}
	if err := redisconn.Check(ctx, rdb, cfg.RedisURL); err != nil {
		_ = rdb.Close()
		return nil, err
	}
	w := &Worker{cfg: cfg, log: log, rdb: rdb, metrics: metrics.New()}
	if err := w.build(ctx, redisOpt, queues, credentials); err != nil {
		_ = rdb.Close()
		return nil, err
	}
	return w, nil
}

func (w *Worker) build(ctx context.Context, redisOpt asynq.RedisConnOpt, queues map[string]int, credentials provider.Provider) error {
	cfg := w.cfg
	limiter, err := ratelimit.New(w.rdb, ratelimit.DefaultKey, cfg.ESSQPS)
	if err != nil {
		return &FieldError{Field: "ess-qps", Reason: err.Error()}
	}
	w.ess, err = essclient.New(essclient.Config{
		Endpoint:      cfg.ESSEndpoint,
		DefaultRegion: cfg.Region,
		Timeout:       cfg.ESSTimeout,
		// One SDK client per job slot, so that no job waits for another's call.
		PoolSize:    cfg.Concurrency,
		Credentials: credentials,
		Limiter:     limiter,
		Observer:    w.metrics,
	})
	if errors.Is(err, essclient.ErrSDKDebug) {
		return err
	}
	if err != nil {
		return &FieldError{Field: "ess-endpoint", Reason: err.Error()}
	}
	checkCtx, cancel := context.WithTimeout(ctx, credentialCheckTimeout)
	defer cancel()
	if err := w.ess.CheckCredentials(checkCtx); err != nil {
		w.ess.Close()
		return err
	}
	notifier, err := w.notifier()
	if err != nil {
		w.ess.Close()
		return err
	}
	var jobEnds detach.Notifier
	if notifier != nil {
		jobEnds = notifier
	}
	h, err := detach.NewHandler(detach.Config{
		ESS:               w.ess,
		Redis:             w.rdb,
		RateLimit:         limiter,
		PollInterval:      cfg.PollInterval,
		PollTimeout:       cfg.PollTimeout,
		MaxRetry:          cfg.MaxRetry,
		StrictNotAttached: cfg.StrictNotAttached,
		DisableCoalescing: cfg.NoCoalesce,
		WaitReplicas:      waitReplicas(redisOpt),
		DefaultRegion:     cfg.Region,
		// The ESS call, and as long again and more for a wait on the rate limit.
		CallTimeout: 2*cfg.ESSTimeout + 10*time.Second,
		Logger:      w.log,
		Observer:    w.metrics,
		Notifier:    jobEnds,
	})
	if err != nil {
		return err
	}
	serverCfg := h.ServerConfig(asynq.Config{
		Concurrency:              cfg.Concurrency,
		Queues:                   queues,
		ShutdownTimeout:          cfg.ShutdownTimeout,
		DelayedTaskCheckInterval: cfg.DelayedCheck,
		TaskCheckInterval:        idleCheck,
		Logger:                   asynqLogger{w.log},
		LogLevel:                 asynqLevel(cfg.LogLevel),
	})
	var drainEnds drain.Notifier
	if notifier != nil {
		drainEnds = notifier
	}
	dh, err := drain.NewHandler(drain.Config{
		ESS:           w.ess,
		Jobs:          tasks.NewProducer(w.rdb),
		DefaultRegion: cfg.Region,
		MaxRetry:      cfg.MaxRetry,
		Logger:        w.log,
		Observer:      w.metrics,
		Notifier:      drainEnds,
	})
	if err != nil {
		return err
	}
	w.mux = asynq.NewServeMux()
	w.mux.Handle(tasks.TypeDetachLoadBalancers, h)
	w.mux.Handle(tasks.TypeDrainLoadBalancer, dh)
	if notifier != nil {
		w.mux.Handle(notify.TypeNotify, notifier)
		serverCfg.RetryDelayFunc = retryDelayByType(serverCfg.RetryDelayFunc, map[string]asynq.RetryDelayFunc{notify.TypeNotify: notifier.RetryDelay})
	}
	w.server = asynq.NewServer(redisOpt, serverCfg)
	w.insp = asynq.NewInspector(redisOpt)
	w.metrics.RegisterQueues(w.insp, func(ctx context.Context) (int64, error) {
		return detach.InFlightActivities(ctx, w.rdb, detach.DefaultKeyPrefix, cfg.PollTimeout+time.Hour)
	})
	w.listener, err = net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return &FieldError{Field: "metrics-addr", Reason: err.Error()}
	}
	return nil
}

// notifier returns the notice sender of --notify-url, or nil without one.
func (w *Worker) notifier() (*notify.Notifier, error) {
	if w.cfg.NotifyURL == "" {
		return nil, nil
	}
	secret, err := notify.ReadSecret(w.cfg.NotifySecretFile)
	if err != nil {
		return nil, &FieldError{Field: "notify-secret-file", Reason: err.Error()}
	}
	n, err := notify.New(notify.Config{
		URL: w.cfg.NotifyURL, Secret: secret, Redis: w.rdb, Budget: w.cfg.NotifyBudget,
		Logger: w.log, Observer: w.metrics,
	})
	if err != nil {
		return nil, &FieldError{Field: "notify-url", Reason: err.Error()}
	}
	return n, nil
}

// retryDelayByType is one asynq RetryDelayFunc for a server of several task
// types: byType's function for its type, def for any other.
func retryDelayByType(def asynq.RetryDelayFunc, byType map[string]asynq.RetryDelayFunc) asynq.RetryDelayFunc {
	return func(n int, err error, t *asynq.Task) time.Duration {
		if f, ok := byType[t.Type()]; ok {
			return f(n, err, t)
		}
		return def(n, err, t)
	}
}

// MetricsAddr is the address the HTTP server listens on (useful with port 0).
func (w *Worker) MetricsAddr() string { return w.listener.Addr().String() }

// Run processes jobs until ctx is done, then stops taking jobs, waits up to the
// shutdown timeout for those in flight (handing back the rest) and returns nil.
func (w *Worker) Run(ctx context.Context) error {
	defer w.close()
	httpSrv := &http.Server{Handler: w.httpHandler(), ReadHeaderTimeout: 10 * time.Second}
	httpErr := make(chan error, 1)
	go func() { httpErr <- httpSrv.Serve(w.listener) }()

	if err := w.server.Start(w.mux); err != nil {
		_ = httpSrv.Close()
		return fmt.Errorf("start asynq server: %w", err)
	}
	w.running.Store(true)
	w.log.Info("worker started", "redis", redisconn.RedactURL(w.cfg.RedisURL), "queues", w.cfg.Queues,
		"concurrency", w.cfg.Concurrency, "metrics_addr", w.MetricsAddr(), "ess_endpoint", w.cfg.ESSEndpoint, "region", w.cfg.Region, "notify_url", w.notifyURL())

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-httpErr:
		runErr = fmt.Errorf("metrics server: %w", err)
	}
	w.log.Info("shutting down", "timeout", w.cfg.ShutdownTimeout.String())
	w.running.Store(false)
	w.server.Shutdown()
	shutCtx, cancel := context.WithTimeout(context.Background(), httpShutdownTimeout)
	defer cancel()
	if err := httpSrv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		w.log.Warn("metrics server shutdown", "err", err)
	}
	w.log.Info("worker stopped")
	return runErr
}

// notifyURL is --notify-url for the log, without credentials.
func (w *Worker) notifyURL() string {
	u, err := notify.ParseURL(w.cfg.NotifyURL)
	if err != nil {
		return ""
	}
	return notify.Redact(u)
}

func (w *Worker) close() {
	_ = w.insp.Close()
	w.ess.Close()
	_ = w.rdb.Close()
}

// waitReplicas is how many replicas must hold a decision a call's token
// comes from before the call is sent (detach.Config.WaitReplicas): one behind
// Sentinel, where a failover can lose the master's latest writes; none
// otherwise.
func waitReplicas(opt asynq.RedisConnOpt) int {
	if _, ok := opt.(asynq.RedisFailoverClientOpt); ok {
		return 1
	}
	return 0
}
