package redisconn

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// DefaultURL is the Redis of a local run.
const DefaultURL = "redis://127.0.0.1:6379/0"

// FieldError is a bad Redis setting; Field is the flag's name.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return fmt.Sprintf("--%s: %s", e.Field, e.Reason) }

// Options are the Redis connection settings that do not fit in the URL.
type Options struct {
	// TLSCAFile is a PEM file of the CA certificates trusted for a rediss://
	// server, in place of the system roots: for a server whose certificate a
	// private CA signed. Only allowed with rediss://. Default "": the system roots.
	TLSCAFile string
}

// Open parses a Redis URL, as asynq.ParseRedisURI does, into asynq's
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
func Open(rawURL string, opts Options) (asynq.RedisConnOpt, redis.UniversalClient, error) {
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
