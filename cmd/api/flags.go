package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"essworker/internal/apiserver"
	"essworker/internal/worker"
)

// envLookup reads an environment variable; tests replace it.
type envLookup func(string) (string, bool)

func osEnv(name string) (string, bool) { return os.LookupEnv(name) }

// parseFlags reads flags, falling back to each flag's environment variable,
// then to the default. Errors name the flag (and the variable).
func parseFlags(args []string, env envLookup, stderr io.Writer) (apiserver.Config, error) {
	var c apiserver.Config
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	fs.SetOutput(stderr)
	// Bad environment values, by flag: reported only for flags not given on
	// the command line, since a given flag wins over its variable.
	envErrs := map[string]error{}
	str := func(p *string, name, envName, def, usage string) {
		if e, ok := env(envName); ok {
			def = e
		}
		fs.StringVar(p, name, def, usage+" ["+envName+"]")
	}
	dur := func(p *time.Duration, name, envName string, def time.Duration, usage string) {
		if e, ok := env(envName); ok {
			d, err := time.ParseDuration(e)
			if err != nil {
				envErrs[name] = fmt.Errorf("--%s: %s=%q is not a duration such as 5s", name, envName, e)
			}
			def = d
		}
		fs.DurationVar(p, name, def, usage+" ["+envName+"]")
	}
	boolean := func(p *bool, name, envName, usage string) {
		def := false
		if e, ok := env(envName); ok {
			b, err := strconv.ParseBool(e)
			if err != nil {
				envErrs[name] = fmt.Errorf("--%s: %s=%q is not true or false", name, envName, e)
			}
			def = b
		}
		fs.BoolVar(p, name, def, usage+" ["+envName+"]")
	}
	str(&c.Addr, "addr", "API_ADDR", apiserver.DefaultAddr, "listen address HOST:PORT")
	str(&c.RedisURL, "redis-url", "REDIS_URL", worker.DefaultRedisURL, "Redis URL: redis://, rediss:// or redis-sentinel://")
	str(&c.RedisTLSCAFile, "redis-tls-ca-file", "REDIS_TLS_CA_FILE", "", "PEM file of the CAs trusted for a rediss:// Redis (default: the system roots)")
	str(&c.TokensFile, "tokens-file", "API_TOKENS_FILE", "", "file of clients, one NAME:TOKEN a line; reread on SIGHUP")
	boolean(&c.InsecureNoAuth, "insecure-no-auth", "API_INSECURE_NO_AUTH", "accept requests without a token (local runs only)")
	str(&c.TLSCertFile, "tls-cert-file", "API_TLS_CERT_FILE", "", "PEM certificate: serve HTTPS")
	str(&c.TLSKeyFile, "tls-key-file", "API_TLS_KEY_FILE", "", "PEM private key of --tls-cert-file")
	str(&c.LogLevel, "log-level", "LOG_LEVEL", worker.DefaultLogLevel, "debug, info, warn or error")
	str(&c.LogFormat, "log-format", "LOG_FORMAT", worker.DefaultLogFormat, "json or text")
	dur(&c.ShutdownTimeout, "shutdown-timeout", "SHUTDOWN_TIMEOUT", apiserver.DefaultShutdownTimeout, "wait for requests in flight on SIGTERM")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { delete(envErrs, f.Name) })
	var errs []error
	for _, err := range envErrs {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}
