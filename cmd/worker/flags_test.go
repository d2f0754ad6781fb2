package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"essworker/internal/worker"
)

func envOf(m map[string]string) envLookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestFlagsEnvAndDefaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(worker.Config) bool
	}{
		{"defaults", nil, nil, func(c worker.Config) bool {
			return c.RedisURL == worker.DefaultRedisURL && c.Concurrency == worker.DefaultConcurrency &&
				c.MetricsAddr == worker.DefaultMetricsAddr && c.ESSQPS == worker.DefaultESSQPS && c.ESSEndpoint == ""
		}},
		{"env", nil, map[string]string{
			"REDIS_URL": "redis://10.0.0.1:6379/2", "WORKER_CONCURRENCY": "3", "WORKER_QUEUES": "a=2,b",
			"ESS_ENDPOINT": "http://127.0.0.1:8080", "ALIBABA_CLOUD_REGION_ID": "cn-beijing", "ESS_QPS": "2.5",
			"POLL_INTERVAL": "3s", "POLL_TIMEOUT": "10m", "MAX_RETRY": "4", "METRICS_ADDR": "127.0.0.1:9999",
			"SHUTDOWN_TIMEOUT": "7s", "LOG_LEVEL": "debug", "LOG_FORMAT": "text", "STRICT_NOT_ATTACHED": "true",
			"REDIS_TLS_CA_FILE": "/etc/essworker/ca.pem",
		}, func(c worker.Config) bool {
			return c.RedisURL == "redis://10.0.0.1:6379/2" && c.Concurrency == 3 && c.Queues == "a=2,b" &&
				c.ESSEndpoint == "http://127.0.0.1:8080" && c.Region == "cn-beijing" && c.ESSQPS == 2.5 &&
				c.PollInterval == 3*time.Second && c.PollTimeout == 10*time.Minute && c.MaxRetry == 4 &&
				c.MetricsAddr == "127.0.0.1:9999" && c.ShutdownTimeout == 7*time.Second && c.LogLevel == "debug" &&
				c.LogFormat == "text" && c.StrictNotAttached && c.RedisTLSCAFile == "/etc/essworker/ca.pem"
		}},
		{"flag wins over env", []string{"--concurrency", "8", "--region", "cn-shanghai"},
			map[string]string{"WORKER_CONCURRENCY": "3", "ALIBABA_CLOUD_REGION_ID": "cn-beijing"},
			func(c worker.Config) bool { return c.Concurrency == 8 && c.Region == "cn-shanghai" }},
		{"flag wins over a bad env value", []string{"--concurrency", "8"}, map[string]string{"WORKER_CONCURRENCY": "many"},
			func(c worker.Config) bool { return c.Concurrency == 8 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o, err := parseFlags(c.args, envOf(c.env), io.Discard)
			if err == nil {
				err = o.cfg.Validate()
			}
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(o.cfg) {
				t.Fatalf("config %+v", o.cfg)
			}
		})
	}
}

func TestBadFlagsExit2NamingTheFlag(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--concurrency", "x"}, nil, "concurrency"},
		{nil, map[string]string{"WORKER_CONCURRENCY": "x"}, "WORKER_CONCURRENCY"},
		{nil, map[string]string{"POLL_INTERVAL": "soon"}, "POLL_INTERVAL"},
		{[]string{"--ess-qps", "0"}, nil, "--ess-qps"},
		{[]string{"--ess-qps", "-1"}, nil, "--ess-qps"},
		{[]string{"--queues", "a=0"}, nil, "--queues"},
		{[]string{"--queues", "a,,b"}, nil, "--queues"},
		{[]string{"--log-level", "loud"}, nil, "--log-level"},
		{[]string{"--log-format", "xml"}, nil, "--log-format"},
		{[]string{"--region", "CN HANGZHOU"}, nil, "--region"},
		{[]string{"--poll-interval", "10s", "--poll-timeout", "5s"}, nil, "--poll-timeout"},
		{[]string{"--metrics-addr", "9090"}, nil, "--metrics-addr"},
		{[]string{"--max-retry", "-1"}, nil, "--max-retry"},
		{[]string{"--nope"}, nil, "nope"},
		{[]string{"extra"}, nil, "extra"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " ")+strings.Join(keys(c.env), ","), func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			if code := run(c.args, envOf(c.env), io.Discard, &stderr); code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Fatalf("stderr %q does not name %q", stderr.String(), c.want)
			}
		})
	}
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestUnreachableRedisFailsFast(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	start := time.Now()
	// Port 1 on loopback: nothing listens there.
	code := run([]string{"--redis-url", "redis://:hunter2-secret@127.0.0.1:1/0", "--metrics-addr", "127.0.0.1:0"}, envOf(nil), io.Discard, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", code, stderr.String())
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("took %v to give up", time.Since(start))
	}
	out := stderr.String()
	if !strings.Contains(out, "redis unreachable") || !strings.Contains(out, "127.0.0.1:1") {
		t.Fatalf("stderr %q does not say Redis is unreachable where", out)
	}
	if strings.Contains(out, "hunter2-secret") {
		t.Fatalf("stderr leaks the Redis password: %q", out)
	}
}

// TestNotifyFlags: --notify-url and --notify-secret-file (or their variables)
// go together, the secret file must hold a secret, and no error quotes it or
// the URL's credentials.
func TestNotifyFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secret, empty := write("secret", " hook-Secret-Do-Not-Show\n"), write("empty", " \n")
	o, err := parseFlags(nil, envOf(map[string]string{"NOTIFY_URL": "https://hooks.example.com/essworker", "NOTIFY_SECRET_FILE": secret}), io.Discard)
	if err == nil {
		err = o.cfg.Validate()
	}
	if err != nil || o.cfg.NotifyURL != "https://hooks.example.com/essworker" || o.cfg.NotifySecretFile != secret {
		t.Fatalf("from the environment: %+v, %v", o.cfg.NotifyURL, err)
	}

	const url = "http://hook-user:hook-Pass-Do-Not-Show@127.0.0.1:9/hook"
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--notify-url", url}, "--notify-secret-file: is required with --notify-url"},
		{[]string{"--notify-secret-file", secret}, "--notify-url: is required with --notify-secret-file"},
		{[]string{"--notify-url", url, "--notify-secret-file", empty}, "--notify-secret-file: " + empty + " holds no secret"},
		{[]string{"--notify-url", url, "--notify-secret-file", filepath.Join(dir, "missing")}, "--notify-secret-file: open " + filepath.Join(dir, "missing")},
		{[]string{"--notify-url", "ftp://hook-user:hook-Pass-Do-Not-Show@h/", "--notify-secret-file", secret}, "--notify-url: must start with http:// or https://"},
		{[]string{"--notify-url", "hooks.example.com", "--notify-secret-file", secret}, "--notify-url: must start with http:// or https://"},
	}
	for _, c := range cases {
		var stderr bytes.Buffer
		if code := run(c.args, envOf(nil), io.Discard, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2; stderr %q", c.args, code, stderr.String())
		}
		if !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: stderr %q, want %q", c.args, stderr.String(), c.want)
		}
		if strings.Contains(stderr.String(), "Do-Not-Show") {
			t.Errorf("%v: stderr %q quotes a secret", c.args, stderr.String())
		}
	}
}
