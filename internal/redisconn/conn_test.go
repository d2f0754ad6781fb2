package redisconn_test

import (
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"essworker/internal/redisconn"
	"essworker/internal/redistest"
)

func TestRedisConnParses(t *testing.T) {
	t.Parallel()
	ca := redistest.WriteUnrelatedCA(t)
	const pw = "Conn-Pass-Do-Not-Leak"
	tests := []struct {
		name   string
		url    string
		caFile string
		check  func(t *testing.T, opt asynq.RedisConnOpt)
	}{
		{"plain", "redis://127.0.0.1:6379/2", "", func(t *testing.T, opt asynq.RedisConnOpt) {
			o := opt.(asynq.RedisClientOpt)
			if o.Addr != "127.0.0.1:6379" || o.DB != 2 || o.TLSConfig != nil || o.Password != "" {
				t.Errorf("got %+v", o)
			}
		}},
		{"password", "redis://:" + pw + "@127.0.0.1:6379/0", "", func(t *testing.T, opt asynq.RedisConnOpt) {
			if o := opt.(asynq.RedisClientOpt); o.Password != pw {
				t.Errorf("Password = %q, want the URL's", o.Password)
			}
		}},
		{"TLS, system roots", "rediss://redis.example:6380/0", "", func(t *testing.T, opt asynq.RedisConnOpt) {
			c := opt.(asynq.RedisClientOpt).TLSConfig
			if c == nil || c.RootCAs != nil || c.ServerName != "redis.example" || c.MinVersion != tls.VersionTLS12 || c.InsecureSkipVerify {
				t.Errorf("TLSConfig = %+v, want system roots, ServerName redis.example, TLS 1.2+", c)
			}
		}},
		{"TLS, CA file", "rediss://:" + pw + "@127.0.0.1:6380/0", ca, func(t *testing.T, opt asynq.RedisConnOpt) {
			o := opt.(asynq.RedisClientOpt)
			if c := o.TLSConfig; c == nil || c.RootCAs == nil || c.ServerName != "127.0.0.1" || c.InsecureSkipVerify {
				t.Errorf("TLSConfig = %+v, want the CA file's pool", c)
			}
			if o.Password != pw {
				t.Errorf("Password = %q, want the URL's", o.Password)
			}
		}},
		{"sentinel with password: sentinels and data nodes", "redis-sentinel://:" + pw + "@10.0.0.1:26379,10.0.0.2:26379?master=mymaster", "", func(t *testing.T, opt asynq.RedisConnOpt) {
			o := opt.(asynq.RedisFailoverClientOpt)
			if o.MasterName != "mymaster" || !slices.Equal(o.SentinelAddrs, []string{"10.0.0.1:26379", "10.0.0.2:26379"}) {
				t.Errorf("got master %q, sentinels %v", o.MasterName, o.SentinelAddrs)
			}
			if o.SentinelPassword != pw || o.Password != pw {
				t.Errorf("SentinelPassword %q, Password %q: want the URL's password in both", o.SentinelPassword, o.Password)
			}
		}},
		{"sentinel without password", "redis-sentinel://10.0.0.1:26379?master=m", "", func(t *testing.T, opt asynq.RedisConnOpt) {
			o := opt.(asynq.RedisFailoverClientOpt)
			if o.SentinelPassword != "" || o.Password != "" || o.MasterName != "m" {
				t.Errorf("got %+v, want no password", o)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opt, rdb, err := redisconn.Open(tt.url, redisconn.Options{TLSCAFile: tt.caFile})
			if err != nil {
				t.Fatalf("RedisConn: %v", err)
			}
			t.Cleanup(func() { _ = rdb.Close() })
			tt.check(t, opt)
		})
	}
}

func TestRedisConnRejects(t *testing.T) {
	t.Parallel()
	ca := redistest.WriteUnrelatedCA(t)
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const pw = "Conn-Pass-Do-Not-Leak"
	tests := []struct {
		name      string
		url       string
		caFile    string
		wantField string
		wantText  string
	}{
		{"not a Redis URL", "http://:" + pw + "@127.0.0.1/0", "", "redis-url", "cannot parse"},
		{"sentinel without master", "redis-sentinel://:" + pw + "@10.0.0.1:26379", "", "redis-url", "?master=NAME"},
		{"CA file with plain redis", "redis://:" + pw + "@127.0.0.1:6379/0", ca, "redis-tls-ca-file", "only used with a rediss:// URL"},
		{"CA file with sentinel", "redis-sentinel://:" + pw + "@10.0.0.1:26379?master=m", ca, "redis-tls-ca-file", "only used with a rediss:// URL"},
		{"CA file missing", "rediss://:" + pw + "@127.0.0.1:6380/0", filepath.Join(t.TempDir(), "missing.pem"), "redis-tls-ca-file", "no such file"},
		{"CA file not PEM", "rediss://:" + pw + "@127.0.0.1:6380/0", notPEM, "redis-tls-ca-file", "holds no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := redisconn.Open(tt.url, redisconn.Options{TLSCAFile: tt.caFile})
			var fe *redisconn.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.wantField {
				t.Fatalf("err = %v, want a FieldError of --%s", err, tt.wantField)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("err = %q, want it to say %q", err, tt.wantText)
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("err = %q repeats the password", err)
			}
		})
	}
}
