package redisconn

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestRedisHint(t *testing.T) {
	t.Parallel()
	cert := &x509.Certificate{}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"unknown CA", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{Cert: cert}}, "--redis-tls-ca-file"},
		{"other host", fmt.Errorf("dial: %w", &tls.CertificateVerificationError{Err: x509.HostnameError{Certificate: cert, Host: "redis.example"}}), "not for this host"},
		{"client closed", redis.ErrClosed, "start Redis"},
		{"WRONGPASS", errors.New("WRONGPASS invalid username-password pair or user is disabled."), "check the password"},
		{"NOAUTH", errors.New("NOAUTH Authentication required."), "check the password"},
		{"old server", errors.New("ERR invalid password"), "check the password"},
		{"refused", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), "start Redis, or try --demo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := hint(tt.err); !strings.Contains(got, tt.want) {
				t.Errorf("hint(%v) = %q, want it to say %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestRedactPassword(t *testing.T) {
	t.Parallel()
	const pw = "p@ss word/+"
	rawURL := "redis://:" + "p%40ss%20word%2F+" + "@127.0.0.1:6379/0"
	tests := []struct{ name, text, url, want string }{
		{"raw", "auth p@ss word/+ failed", rawURL, "auth xxxxx failed"},
		{"query-escaped", "auth p%40ss+word%2F%2B failed", rawURL, "auth xxxxx failed"},
		{"no password", "auth p@ss failed", "redis://127.0.0.1:6379/0", "auth p@ss failed"},
		{"unparseable URL", "auth x failed", "redis://%zz", "auth x failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := RedactPassword(tt.text, tt.url); got != tt.want || strings.Contains(got, pw) {
				t.Errorf("RedactPassword(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}
