package essclient

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials/provider"

	"essworker/essclient/esstest"
)

// credentialEnv is every variable the SDK's default chain reads.
var credentialEnv = []string{
	"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
	"ALIBABA_CLOUD_CREDENTIALS_FILE", "ALIBABA_CLOUD_PROFILE", "ALIBABA_CLOUD_ROLE_ARN",
	"ALIBABA_CLOUD_ROLE_SESSION_NAME", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
	"ALIBABA_CLOUD_CREDENTIALS_URI", "ALIBABA_CLOUD_ECS_METADATA",
}

// isolateCredentials leaves the default chain nothing to find: no variables,
// a HOME without profile files, and the ECS metadata service (100.100.100.200)
// switched off so that nothing leaves loopback.
func isolateCredentials(t *testing.T) {
	t.Helper()
	for _, k := range credentialEnv {
		t.Setenv(k, "") // restores the old value at cleanup
		os.Unsetenv(k)
	}
	t.Setenv("HOME", t.TempDir())
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
}

func TestCredentialsFromEnvironment(t *testing.T) {
	isolateCredentials(t)
	const token = "EnvSTSTokenDistinct"
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", esstest.DefaultAccessKeyID)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", esstest.DefaultAccessKeySecret)
	t.Setenv("ALIBABA_CLOUD_SECURITY_TOKEN", token)
	srv := startEmulator(t, esstest.Config{}, testGroupWith(testGroup, "lb-1"))
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Credentials = nil })

	if err := c.CheckCredentials(t.Context()); err != nil {
		t.Fatalf("CheckCredentials: %v", err)
	}
	if _, err := c.DescribeScalingGroups(t.Context(), "", []string{testGroup}); err != nil {
		t.Fatalf("call with environment credentials (and STS token): %v", err)
	}
	setFaults(t, srv, esstest.FaultPlan{esstest.AllActions: {LostAnswerRate: 1}})
	_, err := c.DescribeScalingGroups(t.Context(), "", []string{testGroup})
	if e := asError(t, err); e.Code != CodeNetwork || strings.Contains(err.Error(), token) || strings.Contains(err.Error(), esstest.DefaultAccessKeySecret) {
		t.Errorf("lost answer with environment credentials: %v", err)
	}
}

func TestNoCredentialsIsAClearError(t *testing.T) {
	isolateCredentials(t)
	srv := startEmulator(t, esstest.Config{}, testGroupWith(testGroup, "lb-1"))
	tests := []struct {
		name  string
		creds provider.Provider
	}{
		{"default chain", nil},
		{"environment provider", provider.NewEnvProvider()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Credentials = tt.creds })
			start := time.Now()
			_, err := c.DetachLoadBalancers(t.Context(), DetachRequest{ScalingGroupID: testGroup, LoadBalancerIDs: []string{"lb-1"}, ClientToken: "t"})
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("failing without credentials took %v", took)
			}
			e := asError(t, err)
			t.Logf("%v", err)
			if e.Code != CodeCredentials || e.Class != ClassPermanent || !errors.Is(err, ErrNoCredentials) {
				t.Errorf("err = %v, want a permanent %s error matching ErrNoCredentials", err, CodeCredentials)
			}
			for _, name := range []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"} {
				if !strings.Contains(err.Error(), name) {
					t.Errorf("error does not name %s: %v", name, err)
				}
			}
			if err := c.CheckCredentials(t.Context()); !errors.Is(err, ErrNoCredentials) {
				t.Errorf("CheckCredentials = %v, want ErrNoCredentials", err)
			}
		})
	}
	if calls := srv.Stats().Calls; len(calls) != 0 {
		t.Errorf("emulator saw calls %v, want none", calls)
	}

	// Credentials that appear later are picked up: a failure is not cached.
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Credentials = nil })
	if err := c.CheckCredentials(t.Context()); err == nil {
		t.Fatal("CheckCredentials succeeded without credentials")
	}
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", esstest.DefaultAccessKeyID)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", esstest.DefaultAccessKeySecret)
	if _, err := c.DescribeScalingGroups(t.Context(), "", []string{testGroup}); err != nil {
		t.Errorf("call after the environment got credentials: %v", err)
	}
}

// rotatingSTS hands out a new STS token on every Resolve, as an STS
// provider does once its token has expired.
type rotatingSTS struct {
	mu       sync.Mutex
	resolves int
}

func (p *rotatingSTS) Resolve() (auth.Credential, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resolves++
	token := fmt.Sprintf("RotatingSTSToken%d", p.resolves)
	return StaticCredentials(esstest.DefaultAccessKeyID, esstest.DefaultAccessKeySecret, token).Resolve()
}

func (p *rotatingSTS) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.resolves
}

// An expired STS token is retryable, and the call after it resolves the
// credentials again; other failures keep the resolved credentials.
func TestExpiredSecurityTokenResolvesAgain(t *testing.T) {
	srv := startEmulator(t, esstest.Config{}, testGroupWith(testGroup, "lb-1"))
	sts := &rotatingSTS{}
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Credentials = sts })
	describe := func() error {
		_, err := c.DescribeScalingGroups(t.Context(), "", []string{testGroup})
		return err
	}
	if err := describe(); err != nil || sts.count() != 1 {
		t.Fatalf("first call: err %v, %d resolves, want nil and 1", err, sts.count())
	}

	setFaults(t, srv, esstest.FaultPlan{esstest.AllActions: {ErrorRate: 1, ErrorCodes: []string{CodeSecurityTokenExpired}}})
	err := describe()
	if e := asError(t, err); e.Code != CodeSecurityTokenExpired || e.Class != ClassRetryable {
		t.Fatalf("expired token: code %s class %v, want %s retryable", e.Code, e.Class, CodeSecurityTokenExpired)
	}
	if strings.Contains(err.Error(), "RotatingSTSToken") {
		t.Errorf("error text holds the STS token: %v", err)
	}

	setFaults(t, srv, esstest.FaultPlan{})
	if err := describe(); err != nil || sts.count() != 2 {
		t.Fatalf("call after the expired token: err %v, %d resolves, want nil and 2", err, sts.count())
	}
	setFaults(t, srv, esstest.FaultPlan{esstest.AllActions: {ErrorRate: 1, ErrorCodes: []string{"ServiceUnavailable"}}})
	_ = describe()
	setFaults(t, srv, esstest.FaultPlan{})
	if err := describe(); err != nil || sts.count() != 2 {
		t.Errorf("after a 503: err %v, %d resolves, want nil and still 2", err, sts.count())
	}
}
