package redistest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"essworker/internal/embeddedredis"
	"essworker/internal/sharedtest"
)

// RequireEnv names the environment variable that, set to "1", turns the miniredis
// fallback into a test failure.
const RequireEnv = "ESSWORKER_REQUIRE_REDIS"

// startTimeout bounds how long a redis-server may take to answer PING.
const startTimeout = 10 * time.Second

// Options tune the server a test gets. The zero value is a plain server.
type Options struct {
	// Password, when set, is required by the server (requirepass). Default: none.
	Password string
	// AppendOnly turns on AOF persistence in the server's own temporary directory,
	// so data survives Restart. Default: off (nothing kept on disk).
	AppendOnly bool
	// TLS makes the server speak TLS only (no plain port), with a certificate
	// for 127.0.0.1 and localhost signed by a CA made for this test (see
	// Server.CAFile). It needs a redis-server built with TLS: without
	// redis-server on the PATH the test skips (fails under RequireEnv).
	// Default: off.
	TLS bool
}

// Server is a Redis server for one test.
type Server struct {
	// Addr is "127.0.0.1:PORT".
	Addr string
	// CAFile is the PEM file of the CA that signed the server's certificate,
	// with Options.TLS; "" otherwise.
	CAFile string
	opts   Options
	tls    tlsFiles
	dir    string
	cmd    *exec.Cmd
	mini   *embeddedredis.Server
	closed sync.Once
}

// Start starts a server for t, a redis-server process (see StartProcess) or
// the miniredis fallback, and closes it in t.Cleanup.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("redistest: redis-server not on PATH and %s=1", RequireEnv)
		}
		if opts.TLS {
			t.Skip("redistest: TLS needs a real redis-server, and none is on PATH")
		}
		t.Logf("redistest: redis-server not on PATH; falling back to miniredis")
		return startMini(t, opts)
	}
	s, err := StartProcess(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// StartProcess starts redis-server from the PATH on a free loopback port,
// its files in a temporary directory, and returns once it answers PING. It
// needs no testing.TB, for programs such as cmd/bench; the caller must Close
// the server. Without redis-server on the PATH it fails: it has no miniredis
// fallback.
func StartProcess(opts Options) (*Server, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	s := &Server{opts: opts, dir: dir}
	if opts.TLS {
		if s.tls, err = writeTLSFiles(dir); err != nil {
			s.Close()
			return nil, err
		}
		s.CAFile = s.tls.ca
	}
	if s.Addr, err = sharedtest.FreeAddr(); err != nil {
		s.Close()
		return nil, fmt.Errorf("redistest: %w", err)
	}
	if err := s.startProcess(path); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close stops the server and removes its files. Start calls it in
// t.Cleanup; it may be called more than once.
func (s *Server) Close() {
	s.closed.Do(func() {
		if s.mini != nil {
			s.mini.Close()
			return
		}
		s.stopProcess()
		_ = os.RemoveAll(s.dir)
	})
}

// Real reports whether this is a redis-server process (not the miniredis fallback).
func (s *Server) Real() bool { return s.mini == nil }

// RequireReal skips t when s is the miniredis fallback.
func (s *Server) RequireReal(t testing.TB) {
	t.Helper()
	if !s.Real() {
		t.Skip("redistest: needs a real redis-server process")
	}
}

// URL is the URL of the server, database db: redis://, or rediss:// with
// Options.TLS (trust CAFile to connect).
func (s *Server) URL(db int) string {
	scheme := "redis"
	if s.opts.TLS {
		scheme = "rediss"
	}
	if s.opts.Password != "" {
		return fmt.Sprintf("%s://:%s@%s/%d", scheme, s.opts.Password, s.Addr, db)
	}
	return fmt.Sprintf("%s://%s/%d", scheme, s.Addr, db)
}

// CertPool holds the CA of CAFile, with Options.TLS; nil otherwise.
func (s *Server) CertPool() *x509.CertPool { return s.tls.pool }

// TLSConfig is a client TLS configuration that trusts the server, with
// Options.TLS; nil otherwise.
func (s *Server) TLSConfig() *tls.Config {
	if !s.opts.TLS {
		return nil
	}
	return s.tls.clientTLS()
}

// Client returns a go-redis client of database 0, closed in t.Cleanup.
func (s *Server) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, Password: s.opts.Password, TLSConfig: s.TLSConfig()})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Stop stops the server process; Start it again with Restart.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.RequireReal(t)
	s.stopProcess()
}

// Restart starts the server again on the same port after Stop (or stops it first).
// With AppendOnly the data survive.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.RequireReal(t)
	s.stopProcess()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	if err := s.startProcess(path); err != nil {
		t.Fatal(err)
	}
}

func (s *Server) args() []string {
	_, port, _ := net.SplitHostPort(s.Addr)
	plainPort := port
	if s.opts.TLS {
		plainPort = "0" // the TLS port only: no plain way in
	}
	args := []string{
		"--bind", "127.0.0.1", "--port", plainPort, "--dir", s.dir,
		"--save", "", "--daemonize", "no", "--logfile", filepath.Join(s.dir, "redis.log"),
	}
	if s.opts.TLS {
		args = append(args, "--tls-port", port, "--tls-cert-file", s.tls.cert, "--tls-key-file", s.tls.key,
			"--tls-ca-cert-file", s.tls.ca, "--tls-auth-clients", "no")
	}
	if s.opts.AppendOnly {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	if s.opts.Password != "" {
		args = append(args, "--requirepass", s.opts.Password)
	}
	return args
}

// startProcess runs redis-server at path with s's arguments and waits until
// it answers PING.
func (s *Server) startProcess(path string) error {
	cmd := exec.Command(path, s.args()...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redistest: start redis-server: %w", err)
	}
	s.cmd = cmd
	c := redis.NewClient(&redis.Options{Addr: s.Addr, Password: s.opts.Password, TLSConfig: s.TLSConfig(), MaxRetries: -1})
	defer c.Close()
	err := sharedtest.Wait(context.Background(), "redistest: redis-server on "+s.Addr+" answers PING", startTimeout, func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err := c.Ping(ctx).Err()
		return err == nil, fmt.Sprint(err)
	})
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
		s.stopProcess()
		return fmt.Errorf("%w\n%s", err, log)
	}
	return nil
}

func (s *Server) stopProcess() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

func startMini(t testing.TB, opts Options) *Server {
	t.Helper()
	m, err := embeddedredis.Start("127.0.0.1:0", opts.Password)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	s := &Server{Addr: m.Addr(), opts: opts, mini: m}
	t.Cleanup(s.Close)
	return s
}
