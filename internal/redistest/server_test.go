package redistest_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"essworker/internal/redistest"
)

func TestStartServesAndRestartKeepsAOFData(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{AppendOnly: true, Password: "pw-redistest"})
	ctx := context.Background()
	c := s.Client(t)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	s.Restart(t)
	got, err := c.Get(ctx, "k").Result()
	if err != nil || got != "v" {
		t.Fatalf("after restart GET k = %q, %v; want v", got, err)
	}
}

func TestPasswordRequired(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{Password: "pw-redistest"})
	err := s.Client(t).Ping(context.Background()).Err()
	if err != nil {
		t.Fatalf("PING with password: %v", err)
	}
	noAuth := redistest.Server{Addr: s.Addr}
	if err := noAuth.Client(t).Ping(context.Background()).Err(); err == nil {
		t.Fatal("PING without password succeeded; want NOAUTH")
	}
}

func TestTLSOnly(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{TLS: true, Password: "pw-redistest"})
	if !strings.HasPrefix(s.URL(0), "rediss://") || s.CAFile == "" || s.CertPool() == nil {
		t.Fatalf("URL %q, CAFile %q, pool %v: want rediss:// and the CA", s.URL(0), s.CAFile, s.CertPool())
	}
	if err := s.Client(t).Ping(context.Background()).Err(); err != nil {
		t.Fatalf("PING over TLS: %v", err)
	}
	plain := redis.NewClient(&redis.Options{Addr: s.Addr, Password: "pw-redistest", MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: time.Second})
	t.Cleanup(func() { _ = plain.Close() })
	if err := plain.Ping(context.Background()).Err(); err == nil {
		t.Fatal("PING without TLS succeeded; want the TLS port only")
	}
	untrusting := redis.NewClient(&redis.Options{Addr: s.Addr, Password: "pw-redistest", MaxRetries: -1,
		TLSConfig: &tls.Config{ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}})
	t.Cleanup(func() { _ = untrusting.Close() })
	if err := untrusting.Ping(context.Background()).Err(); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("PING trusting the system roots only: %v, want a certificate error", err)
	}
}

// TestStartProcessAndClose starts a server without a testing.TB, as cmd/bench
// does; Close stops it and removes its files, and may come twice.
func TestStartProcessAndClose(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("redis-server"); err != nil && os.Getenv(redistest.RequireEnv) != "1" {
		t.Skip("StartProcess needs redis-server on the PATH")
	}
	s, err := redistest.StartProcess(redistest.Options{TLS: true, Password: "pw-redistest"})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Client(t)
	if err := c.Ping(context.Background()).Err(); err != nil {
		s.Close()
		t.Fatalf("PING: %v", err)
	}
	s.Close()
	s.Close()
	if err := c.Ping(context.Background()).Err(); err == nil {
		t.Fatal("PING after Close succeeded")
	}
	if _, err := os.Stat(s.CAFile); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("CA file after Close: %v, want it removed", err)
	}
}
