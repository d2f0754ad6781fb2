package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"essworker/internal/worker"
)

// options are the parsed command line: the worker's Config and the demo switch.
type options struct {
	cfg  worker.Config
	demo bool
}

// commandLine is the worker's FlagSet, every flag declared, and what parsing
// it leaves to check.
type commandLine struct {
	fs  *flag.FlagSet
	env *envFlags
	// qpsText is --ess-qps as given, parsed after the FlagSet.
	qpsText string
}

// newCommandLine declares every flag into o, each defaulting to its
// environment variable, else to the Config default. Each flag's usage ends
// with its variable in brackets.
func newCommandLine(o *options, env envLookup, stderr io.Writer) *commandLine {
	cl := &commandLine{fs: flag.NewFlagSet("worker", flag.ContinueOnError)}
	cl.fs.SetOutput(stderr)
	cl.env = newEnvFlags(cl.fs, env)
	defineFlags(cl.env, o, &cl.qpsText)
	return cl
}

// parseFlags reads flags, falling back to the environment variable of each flag,
// then to the Config default. Errors name the flag (and the variable).
func parseFlags(args []string, env envLookup, stderr io.Writer) (options, error) {
	var o options
	cl := newCommandLine(&o, env, stderr)
	if err := cl.fs.Parse(args); err != nil {
		return o, err
	}
	if cl.fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", cl.fs.Arg(0))
	}
	if err := cl.env.err(); err != nil {
		return o, err
	}
	q, err := strconv.ParseFloat(cl.qpsText, 64)
	if err != nil || q <= 0 {
		return o, fmt.Errorf("--ess-qps: %q is not a positive number", cl.qpsText)
	}
	o.cfg.ESSQPS = q
	return o, nil
}

// defineFlags defines every flag of the worker into o, and --ess-qps as text
// into qpsText: it is checked once parsed, to be a positive number.
func defineFlags(f *envFlags, o *options, qpsText *string) {
	c := &o.cfg
	f.str(&c.RedisURL, "redis-url", "REDIS_URL", worker.DefaultRedisURL, "Redis URL: redis://, rediss:// or redis-sentinel://")
	f.num(&c.Concurrency, "concurrency", "WORKER_CONCURRENCY", worker.DefaultConcurrency, "jobs run at once")
	f.str(&c.Queues, "queues", "WORKER_QUEUES", worker.DefaultQueues, `queues and priorities, "critical=6,default=3"`)
	f.str(&c.ESSEndpoint, "ess-endpoint", "ESS_ENDPOINT", "", "ESS endpoint URL (default: the SDK's regional endpoint over HTTPS)")
	f.str(&c.Region, "region", "ALIBABA_CLOUD_REGION_ID", worker.DefaultRegion, "region of jobs that name none")
	qps := strconv.FormatFloat(worker.DefaultESSQPS, 'f', -1, 64)
	f.str(qpsText, "ess-qps", "ESS_QPS", qps, "ESS calls per second, for the whole fleet")
	f.dur(&c.ESSTimeout, "ess-timeout", "ESS_TIMEOUT", worker.DefaultESSTimeout, "timeout of one ESS call")
	f.dur(&c.PollInterval, "poll-interval", "POLL_INTERVAL", worker.DefaultPollInterval, "wait between looks at a scaling activity")
	f.dur(&c.PollTimeout, "poll-timeout", "POLL_TIMEOUT", worker.DefaultPollTimeout, "longest wait for one scaling activity")
	f.num(&c.MaxRetry, "max-retry", "MAX_RETRY", worker.DefaultMaxRetry, "failed attempts before a job is archived")
	f.str(&c.MetricsAddr, "metrics-addr", "METRICS_ADDR", worker.DefaultMetricsAddr, "address of /metrics, /healthz, /readyz")
	f.dur(&c.ShutdownTimeout, "shutdown-timeout", "SHUTDOWN_TIMEOUT", worker.DefaultShutdownTimeout, "wait for jobs in flight on SIGTERM")
	f.str(&c.LogLevel, "log-level", "LOG_LEVEL", worker.DefaultLogLevel, "debug, info, warn or error")
	f.str(&c.LogFormat, "log-format", "LOG_FORMAT", worker.DefaultLogFormat, "json or text")
	f.boolean(&c.StrictNotAttached, "strict-not-attached", "STRICT_NOT_ATTACHED", "archive jobs whose load balancer is not attached")
	f.boolean(&c.NoCoalesce, "no-coalesce", "NO_COALESCE", "send one call per job: jobs waiting for one scaling group never share a call")
	f.boolean(&o.demo, "demo", "ESSWORKER_DEMO", "run the whole product in one process: embedded Redis, ESS emulator, sample jobs")
	f.str(&c.RedisTLSCAFile, "redis-tls-ca-file", "REDIS_TLS_CA_FILE", "", "PEM file of the CAs trusted for a rediss:// Redis (default: the system roots)")
	f.str(&c.NotifyURL, "notify-url", "NOTIFY_URL", "", "URL that receives a signed notice when a job ends (default: no notices)")
	f.str(&c.NotifySecretFile, "notify-secret-file", "NOTIFY_SECRET_FILE", "", "file of the notices' HMAC-SHA256 secret (required with --notify-url)")
}

func osEnv(name string) (string, bool) { return os.LookupEnv(name) }
