package worker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// redisCheckTimeout bounds the start-up check that Redis answers.
const redisCheckTimeout = 5 * time.Second

// ErrRedisUnreachable is returned by New when Redis does not answer at start-up,
// or answers but refuses the connection (wrong password, untrusted certificate).
var ErrRedisUnreachable = errors.New("redis unreachable")

// RedisOptions are the Redis connection settings that do not fit in the URL.
type RedisOptions struct {
	// TLSCAFile is a PEM file of the CA certificates trusted for a rediss://
	// server, in place of the system roots: for a server whose certificate a
	// private CA signed. Only allowed with rediss://. Default "": the system roots.
	TLSCAFile string
}

// RedisConn parses a Redis URL, as asynq.ParseRedisURI does, into asynq's
// connection options and a go-redis client on the same server. On top of asynq:
//
//   - rediss:// verifies the server against opts.TLSCAFile when given, and
//     speaks TLS 1.2 or later;
//   - redis-sentinel://:PASSWORD@host1:port1,host2:port2?master=NAME sends
//     PASSWORD to the sentinels and to the master and replicas alike (asynq
//     sends it to the sentinels only, so a password-protected data node would
//     refuse the worker); the master name is required.
//
// Errors are *FieldError naming --redis-url or --redis-tls-ca-file, and never
// repeat the URL's password.
func RedisConn(rawURL string, opts RedisOptions) (asynq.RedisConnOpt, redis.UniversalClient, error) {
	opt, err := asynq.ParseRedisURI(rawURL)
	if err != nil {
		return nil, nil, &FieldError{"redis-url", fmt.Sprintf("cannot parse %s: want redis://, rediss:// or redis-sentinel://", RedactURL(rawURL))}
	}
	tlsOnly := func() error {
		if opts.TLSCAFile == "" {
			return nil
		}
		return &FieldError{"redis-tls-ca-file", fmt.Sprintf("only used with a rediss:// URL, and --redis-url is %s", RedactURL(rawURL))}
	}
	switch o := opt.(type) {
	case asynq.RedisClientOpt:
		if o.TLSConfig == nil {
			err = tlsOnly()
			break
		}
		o.TLSConfig.MinVersion = tls.VersionTLS12
		if opts.TLSCAFile != "" {
			o.TLSConfig.RootCAs, err = loadCAFile(opts.TLSCAFile)
		}
		opt = o
	case asynq.RedisFailoverClientOpt:
		if o.MasterName == "" {
			return nil, nil, &FieldError{"redis-url", fmt.Sprintf("%s names no master: add ?master=NAME", RedactURL(rawURL))}
		}
		o.Password = o.SentinelPassword
		opt = o
		err = tlsOnly()
	default:
		err = tlsOnly()
	}
	if err != nil {
		return nil, nil, err
	}
	rdb, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, nil, &FieldError{"redis-url", "unsupported Redis connection type"}
	}
	return opt, rdb, nil
}

// loadCAFile reads a PEM bundle of CA certificates into a pool.
func loadCAFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, &FieldError{"redis-tls-ca-file", err.Error()}
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, &FieldError{"redis-tls-ca-file", fmt.Sprintf("%s holds no PEM certificate", path)}
	}
	return pool, nil
}

// RedactURL returns u with its password replaced, for logs and errors.
func RedactURL(u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return "(unparseable URL)"
	}
	return parsed.Redacted()
}

// RedactPassword masks the password of rawURL, raw or escaped, in text.
// Redis client errors are not known to quote it; this keeps it that way
// whatever a dependency does.
func RedactPassword(text, rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return text
	}
	pw, ok := u.User.Password()
	if !ok || pw == "" {
		return text
	}
	for _, v := range []string{pw, url.QueryEscape(pw), url.PathEscape(pw)} {
		text = strings.ReplaceAll(text, v, "xxxxx")
	}
	return text
}

// checkRedis fails fast, with a message a person can act on, when Redis does
// not answer or refuses the connection.
func checkRedis(ctx context.Context, rdb redis.UniversalClient, rawURL string) error {
	ctx, cancel := context.WithTimeout(ctx, redisCheckTimeout)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("%w at %s (--redis-url / REDIS_URL): %s; %s", ErrRedisUnreachable, RedactURL(rawURL),
			RedactPassword(err.Error(), rawURL), redisHint(err))
	}
	return nil
}

// redisHint says what to do about a failed start-up check.
func redisHint(err error) string {
	var (
		hostname  x509.HostnameError
		verify    *tls.CertificateVerificationError
		authority x509.UnknownAuthorityError
	)
	switch {
	case errors.As(err, &hostname):
		return "the server's TLS certificate is not for this host: connect (--redis-url) by a name or address the certificate holds"
	case errors.As(err, &verify) || errors.As(err, &authority):
		return "the server's TLS certificate is not trusted: give the CA that signed it with --redis-tls-ca-file / REDIS_TLS_CA_FILE"
	}
	msg := err.Error()
	for _, prefix := range []string{"WRONGPASS", "NOAUTH", "ERR invalid password", "ERR AUTH", "ERR Client sent AUTH"} {
		if strings.HasPrefix(msg, prefix) {
			return "check the password in --redis-url / REDIS_URL (redis://:PASSWORD@host:port/db)"
		}
	}
	return "start Redis, or try --demo"
}
