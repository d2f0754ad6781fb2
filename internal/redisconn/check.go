package redisconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// checkTimeout bounds Check.
const checkTimeout = 5 * time.Second

// ErrUnreachable is wrapped by Check's error when Redis does not answer, or
// answers but refuses the connection (wrong password, untrusted certificate).
var ErrUnreachable = errors.New("redis unreachable")

// Check fails fast, with a message a person can act on, when Redis does
// not answer or refuses the connection: the error wraps ErrUnreachable and
// names the address, never the password.
func Check(ctx context.Context, rdb redis.UniversalClient, rawURL string) error {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("%w at %s (--redis-url / REDIS_URL): %s; %s", ErrUnreachable, RedactURL(rawURL),
			RedactPassword(err.Error(), rawURL), hint(err))
	}
	return nil
}

// hint says what to do about a failed start-up check.
func hint(err error) string {
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
