package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"essworker/internal/worker"
)

// options are the parsed command line: the worker's Config and the demo switch.
type options struct {
	cfg  worker.Config
	demo bool
}

// envLookup reads an environment variable; tests replace it.
type envLookup func(string) (string, bool)

// commandLine is the worker's FlagSet and what parsing it leaves to check.
type commandLine struct {
	fs *flag.FlagSet
	// envErrs are the bad environment values, by flag: reported only for flags
	// not given on the command line, since a given flag wins over its variable.
	envErrs map[string]error
	// qpsText is --ess-qps as given, parsed after the FlagSet.
	qpsText string
}

// newCommandLine declares every flag into o, each defaulting to its
// environment variable, else to the Config default. Each flag's usage ends
// with its variable in brackets.
func newCommandLine(o *options, env envLookup, stderr io.Writer) *commandLine {
	cl := &commandLine{fs: flag.NewFlagSet("worker", flag.ContinueOnError), envErrs: map[string]error{}}
	fs, envErrs := cl.fs, cl.envErrs
	fs.SetOutput(stderr)
	str := func(p *string, name, envName, def, usage string) {
		v := def
		if e, ok := env(envName); ok {
			v = e
		}
		fs.StringVar(p, name, v, usage+" ["+envName+"]")
	}
	num := func(p *int, name, envName string, def int, usage string) {
		v := def
		if e, ok := env(envName); ok {
			n, err := strconv.Atoi(e)
			if err != nil {
				envErrs[name] = fmt.Errorf("--%s: %s=%q is not a whole number", name, envName, e)
			}
			v = n
		}
		fs.IntVar(p, name, v, usage+" ["+envName+"]")
	}
	dur := func(p *time.Duration, name, envName string, def time.Duration, usage string) {
		v := def
		if e, ok := env(envName); ok {
			d, err := time.ParseDuration(e)
			if err != nil {
				envErrs[name] = fmt.Errorf("--%s: %s=%q is not a duration such as 5s", name, envName, e)
			}
			v = d
		}
		fs.DurationVar(p, name, v, usage+" ["+envName+"]")
	}
	boolean := func(p *bool, name, envName, usage string) {
		v := false
		if e, ok := env(envName); ok {
			b, err := strconv.ParseBool(e)
			if err != nil {
				envErrs[name] = fmt.Errorf("--%s: %s=%q is not true or false", name, envName, e)
			}
			v = b
		}
		fs.BoolVar(p, name, v, usage+" ["+envName+"]")
	}
	c := &o.cfg
	str(&c.RedisURL, "redis-url", "REDIS_URL", worker.DefaultRedisURL, "Redis URL: redis://, rediss:// or redis-sentinel://")
	num(&c.Concurrency, "concurrency", "WORKER_CONCURRENCY", worker.DefaultConcurrency, "jobs run at once")
	str(&c.Queues, "queues", "WORKER_QUEUES", worker.DefaultQueues, `queues and priorities, "critical=6,default=3"`)
	str(&c.ESSEndpoint, "ess-endpoint", "ESS_ENDPOINT", "", "ESS endpoint URL (default: the SDK's regional endpoint over HTTPS)")
	str(&c.Region, "region", "ALIBABA_CLOUD_REGION_ID", worker.DefaultRegion, "region of jobs that name none")
	qps := strconv.FormatFloat(worker.DefaultESSQPS, 'f', -1, 64)
	str(&cl.qpsText, "ess-qps", "ESS_QPS", qps, "ESS calls per second, for the whole fleet")
	dur(&c.ESSTimeout, "ess-timeout", "ESS_TIMEOUT", worker.DefaultESSTimeout, "timeout of one ESS call")
	dur(&c.PollInterval, "poll-interval", "POLL_INTERVAL", worker.DefaultPollInterval, "wait between looks at a scaling activity")
	dur(&c.PollTimeout, "poll-timeout", "POLL_TIMEOUT", worker.DefaultPollTimeout, "longest wait for one scaling activity")
	num(&c.MaxRetry, "max-retry", "MAX_RETRY", worker.DefaultMaxRetry, "failed attempts before a job is archived")
	str(&c.MetricsAddr, "metrics-addr", "METRICS_ADDR", worker.DefaultMetricsAddr, "address of /metrics, /healthz, /readyz")
	dur(&c.ShutdownTimeout, "shutdown-timeout", "SHUTDOWN_TIMEOUT", worker.DefaultShutdownTimeout, "wait for jobs in flight on SIGTERM")
	str(&c.LogLevel, "log-level", "LOG_LEVEL", worker.DefaultLogLevel, "debug, info, warn or error")
	str(&c.LogFormat, "log-format", "LOG_FORMAT", worker.DefaultLogFormat, "json or text")
	boolean(&c.StrictNotAttached, "strict-not-attached", "STRICT_NOT_ATTACHED", "archive jobs whose load balancer is not attached")
	boolean(&o.demo, "demo", "ESSWORKER_DEMO", "run the whole product in one process: embedded Redis, ESS emulator, sample jobs")
	str(&c.RedisTLSCAFile, "redis-tls-ca-file", "REDIS_TLS_CA_FILE", "", "PEM file of the CAs trusted for a rediss:// Redis (default: the system roots)")
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
	cl.fs.Visit(func(f *flag.Flag) { delete(cl.envErrs, f.Name) })
	var errs []error
	for _, err := range cl.envErrs {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return o, err
	}
	q, err := strconv.ParseFloat(cl.qpsText, 64)
	if err != nil || q <= 0 {
		return o, fmt.Errorf("--ess-qps: %q is not a positive number", cl.qpsText)
	}
	o.cfg.ESSQPS = q
	return o, nil
}

func osEnv(name string) (string, bool) { return os.LookupEnv(name) }
