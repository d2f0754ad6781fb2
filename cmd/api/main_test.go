package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"essworker/internal/apiserver"
	"essworker/internal/logcapture"
	"essworker/internal/redistest"
	"essworker/internal/sharedtest"
)

const (
	tokenOld = "old-token-0123456789abcdef"
	tokenNew = "new-token-fedcba9876543210"
)

func envOf(m map[string]string) envLookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRefusesToStart: every configuration the API refuses exits 2 (1 for
// Redis) with the reason, naming the flag, on standard error.
func TestRefusesToStart(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{})
	empty := writeFile(t, "empty-tokens", "# no client\nshort:abc\n")
	good := writeFile(t, "tokens", "ci:"+tokenOld+"\n")
	closed, err := sharedtest.FreeAddr() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stderr string
	}{
		{"no tokens file, no insecure", nil, nil, 2, "api: --tokens-file: required"},
		{"both", []string{"--tokens-file", good, "--insecure-no-auth"}, nil, 2, "api: --tokens-file: " + good + " given with --insecure-no-auth"},
		{"both from env", nil, map[string]string{"API_TOKENS_FILE": good, "API_INSECURE_NO_AUTH": "true"}, 2, "given with --insecure-no-auth"},
		{"tokens file without a valid line", []string{"--tokens-file", empty}, nil, 2, "api: --tokens-file: " + empty + " holds no valid NAME:TOKEN line"},
		{"missing tokens file", []string{"--tokens-file", "/nonexistent/tokens"}, nil, 2, "api: --tokens-file: open /nonexistent/tokens"},
		{"bad flag", []string{"--bogus"}, nil, 2, "flag provided but not defined: -bogus"},
		{"bad duration", []string{"--insecure-no-auth", "--shutdown-timeout", "soon"}, nil, 2, `invalid value "soon" for flag -shutdown-timeout`},
		{"bad env bool", nil, map[string]string{"API_INSECURE_NO_AUTH": "maybe"}, 2, `api: --insecure-no-auth: API_INSECURE_NO_AUTH="maybe" is not true or false`},
		{"bad addr", []string{"--insecure-no-auth", "--addr", "8088"}, nil, 2, "api: --addr: want HOST:PORT"},
		{"key without cert", []string{"--insecure-no-auth", "--tls-key-file", good}, nil, 2, "api: --tls-cert-file: required with --tls-key-file"},
		{"unreadable key pair", []string{"--insecure-no-auth", "--tls-key-file", good, "--tls-cert-file", good}, nil, 2, "api: --tls-cert-file:"},
		{"extra argument", []string{"--insecure-no-auth", "extra"}, nil, 2, `unexpected argument "extra"`},
		{"redis unreachable", []string{"--insecure-no-auth", "--redis-url", "redis://:hunter2-secret@" + closed + "/0"}, nil, 1,
			"api: redis unreachable at redis://:xxxxx@" + closed},
		{"redis unreachable from env", []string{"--tokens-file", good}, map[string]string{"REDIS_URL": "redis://:hunter2-secret@" + closed + "/0"}, 1,
			"redis unreachable at redis://:xxxxx@" + closed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"REDIS_URL": s.URL(0), "API_ADDR": "127.0.0.1:0"}
			for k, v := range tc.env {
				env[k] = v
			}
			var stderr logcapture.Buffer
			code := run(context.Background(), tc.args, envOf(env), &stderr, nil, func(*apiserver.Server) {
				t.Error("the server started")
			})
			if code != tc.code || !strings.Contains(stderr.String(), tc.stderr) || strings.Contains(stderr.String(), "hunter2") {
				t.Fatalf("exit %d, stderr %q; want %d with %q", code, stderr.String(), tc.code, tc.stderr)
			}
		})
	}
	if code := run(context.Background(), []string{"-h"}, envOf(nil), io.Discard, nil, nil); code != 0 {
		t.Errorf("-h: exit %d, want 0", code)
	}
}

// TestHangUpAndTerminate runs the command: SIGHUP rereads the tokens file,
// a bad file then keeps the tokens in use, and SIGTERM lets a request in
// flight answer before run returns 0.
func TestHangUpAndTerminate(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{})
	tokens := writeFile(t, "tokens", "ci:"+tokenOld+"\n")
	env := envOf(map[string]string{"REDIS_URL": s.URL(0), "API_TOKENS_FILE": tokens, "API_ADDR": "127.0.0.1:0"})
	ctx, terminate := context.WithCancel(context.Background())
	defer terminate()
	hup := make(chan os.Signal, 1)
	started := make(chan *apiserver.Server, 1)
	var stderr logcapture.Buffer
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, nil, env, &stderr, hup, func(srv *apiserver.Server) { started <- srv })
	}()
	srv := <-started
	status := func(token, path string) int {
		req, _ := http.NewRequest("GET", srv.URL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
		if err != nil {
			t.Errorf("GET %s: %v", path, err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(tokenOld, "/v1/detach-jobs/none"); got != http.StatusNotFound {
		t.Fatalf("old token before SIGHUP: %d, want 404", got)
	}
	if err := os.WriteFile(tokens, []byte("ci:"+tokenNew+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hup <- syscall.SIGHUP
	sharedtest.WaitFor(t, "the old token refused after SIGHUP", 10*time.Second, func() (bool, string) {
		got := status(tokenOld, "/v1/detach-jobs/none")
		return got == http.StatusUnauthorized, fmt.Sprint(got)
	})
	if got := status(tokenNew, "/v1/detach-jobs/none"); got != http.StatusNotFound {
		t.Fatalf("new token after SIGHUP: %d, want 404", got)
	}
	if err := os.WriteFile(tokens, []byte("# emptied by mistake\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hup <- syscall.SIGHUP
	sharedtest.WaitFor(t, "a bad tokens file refused on SIGHUP", 10*time.Second, func() (bool, string) {
		return strings.Contains(stderr.String(), "tokens file not reloaded"), "not logged yet"
	})
	if got := status(tokenNew, "/v1/detach-jobs/none"); got != http.StatusNotFound {
		t.Fatalf("new token after a bad SIGHUP: %d, want 404", got)
	}

	req, _ := http.NewRequest("POST", srv.URL()+"/v1/detach-jobs",
		strings.NewReader(`{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"],"ClientToken":"inflight"}`))
	req.Header.Set("Authorization", "Bearer "+tokenNew)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST: %d, want 202", resp.StatusCode)
	}
	// No worker runs: the wait holds the request until SIGTERM cuts it short.
	inflight := make(chan int, 1)
	go func() { inflight <- status(tokenNew, "/v1/detach-jobs/inflight?wait=60s") }()
	sharedtest.WaitFor(t, "one request in flight", 10*time.Second, func() (bool, string) {
		resp, err := http.Get(srv.URL() + "/metrics")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), "essworker_api_requests_in_flight 1"), "not in /metrics yet"
	})
	terminate()
	if got := <-inflight; got != http.StatusOK {
		t.Fatalf("request in flight at SIGTERM: %d, want 200", got)
	}
	if code := <-exit; code != 0 {
		t.Fatalf("exit %d after SIGTERM, want 0; stderr:\n%s", code, stderr.String())
	}
	for _, tok := range []string{tokenOld, tokenNew} {
		if strings.Contains(stderr.String(), tok) {
			t.Fatalf("a token appears in the logs:\n%s", stderr.String())
		}
	}
	if !strings.Contains(stderr.String(), `"msg":"api stopped"`) {
		t.Errorf("no stop logged:\n%s", stderr.String())
	}
}

func TestFlagsAndEnvironment(t *testing.T) {
	t.Parallel()
	env := envOf(map[string]string{
		"API_ADDR": "0.0.0.0:9000", "REDIS_URL": "redis://10.0.0.1:6379/2", "REDIS_TLS_CA_FILE": "/ca.pem",
		"API_TOKENS_FILE": "/etc/tokens", "API_INSECURE_NO_AUTH": "false", "API_TLS_CERT_FILE": "/c.pem",
		"API_TLS_KEY_FILE": "/k.pem", "LOG_LEVEL": "debug", "LOG_FORMAT": "text", "SHUTDOWN_TIMEOUT": "7s",
	})
	c, err := parseFlags(nil, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := apiserver.Config{Addr: "0.0.0.0:9000", RedisURL: "redis://10.0.0.1:6379/2", RedisTLSCAFile: "/ca.pem",
		TokensFile: "/etc/tokens", TLSCertFile: "/c.pem", TLSKeyFile: "/k.pem", LogLevel: "debug", LogFormat: "text",
		ShutdownTimeout: 7 * time.Second}
	if c != want {
		t.Fatalf("from the environment: %+v, want %+v", c, want)
	}
	c, err = parseFlags([]string{"--addr", "127.0.0.1:1", "--shutdown-timeout", "1s", "--insecure-no-auth", "--tokens-file", ""},
		envOf(map[string]string{"API_ADDR": "0.0.0.0:9000", "SHUTDOWN_TIMEOUT": "never", "API_TOKENS_FILE": "/etc/tokens"}), io.Discard)
	if err != nil || c.Addr != "127.0.0.1:1" || c.ShutdownTimeout != time.Second || !c.InsecureNoAuth || c.TokensFile != "" {
		t.Fatalf("flags over the environment: %+v, %v", c, err)
	}
	c, err = parseFlags(nil, envOf(nil), io.Discard)
	if err != nil || c.Addr != apiserver.DefaultAddr || c.RedisURL != "redis://127.0.0.1:6379/0" || c.ShutdownTimeout != apiserver.DefaultShutdownTimeout {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
}
