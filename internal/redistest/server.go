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
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"essworker/internal/embeddedredis"
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
}

// Start starts a server for t and stops it in t.Cleanup.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("redistest: redis-server not on PATH and %s=1", RequireEnv)
		}
		if opts.TLS {
			t.Skip("redistest: TLS needs a real redis-server, and none is on PATH")
		}
		t.Logf("redistest: redis-server not on PATH; falling back to miniredis")
		return startMini(t, opts)
	}
	s := &Server{opts: opts, dir: t.TempDir()}
	if opts.TLS {
		s.tls = writeTLSFiles(t, s.dir)
		s.CAFile = s.tls.ca
	}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	s.startProcess(t, path)
	t.Cleanup(s.stopProcess)
	return s
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
	s.startProcess(t, path)
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

func (s *Server) startProcess(t testing.TB, path string) {
	t.Helper()
	cmd := exec.Command(path, s.args()...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("redistest: start redis-server: %v", err)
	}
	s.cmd = cmd
	c := redis.NewClient(&redis.Options{Addr: s.Addr, Password: s.opts.Password, TLSConfig: s.TLSConfig(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			s.stopProcess()
			t.Fatalf("redistest: redis-server on %s did not answer within %v: %v\n%s", s.Addr, startTimeout, err, log)
		}
		time.Sleep(20 * time.Millisecond) // polling interval while the server boots
	}
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
	t.Cleanup(m.Close)
	return &Server{Addr: m.Addr(), opts: opts, mini: m}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
