package essclient

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	valid := Config{DefaultRegion: "cn-hangzhou"}
	tests := []struct {
		name      string
		mutate    func(*Config)
		wantField string
	}{
		{"unknown scheme", func(c *Config) { c.Endpoint = "ftp://127.0.0.1:21" }, "Config.Endpoint"},
		{"no scheme", func(c *Config) { c.Endpoint = "127.0.0.1:8080" }, "Config.Endpoint"},
		{"bare host", func(c *Config) { c.Endpoint = "ess.aliyuncs.com" }, "Config.Endpoint"},
		{"path", func(c *Config) { c.Endpoint = "http://127.0.0.1:8080/ess" }, "Config.Endpoint"},
		{"query", func(c *Config) { c.Endpoint = "http://127.0.0.1:8080?x=1" }, "Config.Endpoint"},
		{"fragment", func(c *Config) { c.Endpoint = "http://127.0.0.1:8080#x" }, "Config.Endpoint"},
		{"user info", func(c *Config) { c.Endpoint = "https://admin:hunter2@127.0.0.1" }, "Config.Endpoint"},
		{"no host", func(c *Config) { c.Endpoint = "http://" }, "Config.Endpoint"},
		{"missing region", func(c *Config) { c.DefaultRegion = "" }, "Config.DefaultRegion"},
		{"bad region", func(c *Config) { c.DefaultRegion = "cn hangzhou" }, "Config.DefaultRegion"},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "Config.Timeout"},
		{"negative pool size", func(c *Config) { c.PoolSize = -1 }, "Config.PoolSize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid
			tt.mutate(&cfg)
			c, err := New(cfg)
			if err == nil {
				c.Close()
				t.Fatalf("New(%+v) succeeded, want an error naming %s", cfg, tt.wantField)
			}
			if !strings.Contains(err.Error(), tt.wantField) {
				t.Errorf("error %q does not name %s", err, tt.wantField)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q echoes a password", err)
			}
		})
	}
}

func TestConfigDefaultsAndEndpoints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		endpoint   string
		wantScheme string
		wantDomain string
	}{
		{"", "https", ""},
		{"http://127.0.0.1:8080", "http", "127.0.0.1:8080"},
		{"https://127.0.0.1:8443/", "https", "127.0.0.1:8443"},
		{"HTTPS://ess-vpc.cn-hangzhou.aliyuncs.com", "https", "ess-vpc.cn-hangzhou.aliyuncs.com"},
	}
	for _, tt := range tests {
		cfg, ep, err := Config{Endpoint: tt.endpoint, DefaultRegion: "cn-hangzhou"}.withDefaults()
		if err != nil {
			t.Errorf("Endpoint %q: %v", tt.endpoint, err)
			continue
		}
		if ep.scheme != tt.wantScheme || ep.domain != tt.wantDomain {
			t.Errorf("Endpoint %q = %s %q, want %s %q", tt.endpoint, ep.scheme, ep.domain, tt.wantScheme, tt.wantDomain)
		}
		if cfg.Timeout != DefaultTimeout || cfg.PoolSize != DefaultPoolSize {
			t.Errorf("defaults: Timeout %v PoolSize %d, want %v %d", cfg.Timeout, cfg.PoolSize, DefaultTimeout, DefaultPoolSize)
		}
	}
}

func TestSDKDebugOn(t *testing.T) {
	t.Parallel()
	// The SDK's rule: DEBUG split at commas, one part exactly "sdk".
	tests := []struct {
		debug string
		want  bool
	}{
		{"", false},
		{"sdk", true},
		{"tea,sdk", true},
		{"sdk,signer", true},
		{"sdkx", false},
		{"SDK", false},
		{" sdk", false},
		{"*", false},
	}
	for _, tt := range tests {
		if got := sdkDebugOn(tt.debug); got != tt.want {
			t.Errorf("sdkDebugOn(%q) = %v, want %v", tt.debug, got, tt.want)
		}
	}
}

// The SDK read DEBUG when this test binary started, so this cannot show its
// output; it shows that New refuses whenever the variable would turn it on.
func TestNewRefusesSDKDebugOutput(t *testing.T) {
	cfg := Config{DefaultRegion: "cn-hangzhou"}
	t.Setenv("DEBUG", "tea,sdk")
	if c, err := New(cfg); err == nil {
		c.Close()
		t.Fatal("New succeeded with DEBUG=tea,sdk, want ErrSDKDebug")
	} else if !errors.Is(err, ErrSDKDebug) || !strings.Contains(err.Error(), `DEBUG contains "sdk"`) {
		t.Fatalf("error %q is not ErrSDKDebug naming DEBUG", err)
	}
	t.Setenv("DEBUG", "tea")
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New with DEBUG=tea: %v", err)
	}
	c.Close()
}
