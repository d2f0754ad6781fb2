package essclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ess"

	"essworker/essclient/esstest"
)

// TestErrorsNeverHoldSecrets forces every kind of failure with a distinctive
// secret and STS token and checks every rendering of the error.
func TestErrorsNeverHoldSecrets(t *testing.T) {
	t.Parallel()
	const (
		akID        = "LTAIdistinctKeyId42"
		secret      = "Sup3r/Secret+Value=Q9*x~"
		wrongSecret = "Wr0ng/Secret+Other=Q9*x~"
		token       = "CAIS-sts/Token+with=chars*and~more"
	)
	forbidden := []string{"Signature=", "AccessKeyId=", "SecurityToken=", "SignatureNonce="}
	for _, s := range []string{secret, wrongSecret, token} {
		forbidden = append(forbidden, s, url.QueryEscape(s), percentEncode(s), percentEncode(percentEncode(s)))
	}

	closedPort := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr
	}
	tests := []struct {
		name   string
		faults esstest.FaultPlan
		secret string
		closed bool          // point the client at a closed port
		ctx    time.Duration // cancel the context after this long; 0: never
	}{
		{name: "timeout", faults: esstest.FaultPlan{esstest.AllActions: {Latency: esstest.Duration(time.Second)}}, secret: secret},
		{name: "lost answer", faults: esstest.FaultPlan{esstest.AllActions: {LostAnswerRate: 1}}, secret: secret},
		{name: "503", faults: esstest.FaultPlan{esstest.AllActions: {ErrorRate: 1}}, secret: secret},
		{name: "throttled", faults: esstest.FaultPlan{esstest.AllActions: {ErrorRate: 1, ErrorCodes: []string{"Throttling.User"}}}, secret: secret},
		{name: "signature mismatch", secret: wrongSecret},
		{name: "cancelled", faults: esstest.FaultPlan{esstest.AllActions: {Latency: esstest.Duration(time.Second)}}, secret: secret, ctx: 50 * time.Millisecond},
		{name: "connection refused", secret: secret, closed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startEmulator(t, esstest.Config{AccessKeys: map[string]string{akID: secret}}, testGroupWith(testGroup, "lb-1"))
			setFaults(t, srv, tt.faults)
			endpoint := srv.URL
			if tt.closed {
				endpoint = closedPort(t)
			}
			c := newTestClient(t, endpoint, func(cfg *Config) {
				cfg.Credentials = StaticCredentials(akID, tt.secret, token)
				cfg.Timeout = 200 * time.Millisecond
			})
			ctx := t.Context()
			if tt.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				time.AfterFunc(tt.ctx, cancel)
			}
			for _, call := range []func() error{
				func() error {
					_, err := c.DetachLoadBalancers(ctx, DetachRequest{ScalingGroupID: testGroup, LoadBalancerIDs: []string{"lb-1"}, ClientToken: "tok"})
					return err
				},
				func() error { _, err := c.DescribeScalingActivities(ctx, "", []string{"asa-1"}); return err },
			} {
				err := call()
				e := asError(t, err)
				t.Logf("%v", err)
				renderings := []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%+v", *e), fmt.Sprintf("%#v", *e)}
				for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
					renderings = append(renderings, u.Error(), fmt.Sprintf("%+v", u))
				}
				for _, r := range renderings {
					for _, f := range forbidden {
						if strings.Contains(r, f) {
							t.Errorf("error text holds %q:\n%s", f, r)
						}
					}
				}
			}
		})
	}
}

// TestRawSDKErrorHoldsSecretsAndFromSDKRemovesThem is the control of the test
// above: the SDK's own error text does carry the credentials.
func TestRawSDKErrorHoldsSecretsAndFromSDKRemovesThem(t *testing.T) {
	t.Parallel()
	const token = "RawSDKDistinctToken"
	srv := startEmulator(t, esstest.Config{}, testGroupWith(testGroup, "lb-1"))
	setFaults(t, srv, esstest.FaultPlan{esstest.AllActions: {LostAnswerRate: 1}})
	creds := &credentialSource{configured: StaticCredentials(esstest.DefaultAccessKeyID, esstest.DefaultAccessKeySecret, token)}
	pool, err := newRegionPool(testRegion, 1, "http", http.DefaultTransport, creds)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := pool.acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sc.rt.ctx = t.Context()
	req := ess.CreateDescribeScalingGroupsRequest()
	req.Scheme = "http"
	req.Domain = strings.TrimPrefix(srv.URL, "http://")
	rawErr := sc.ess.DoAction(req, ess.CreateDescribeScalingGroupsResponse())
	if rawErr == nil {
		t.Fatal("DoAction succeeded despite LostAnswerRate 1")
	}
	for _, want := range []string{"Signature=", "AccessKeyId=", "SecurityToken=" + token} {
		if !strings.Contains(rawErr.Error(), want) {
			t.Errorf("raw SDK error lacks %q (the control failed): %v", want, rawErr)
		}
	}
	e := fromSDK(ActionDescribeScalingGroups, rawErr, creds.knownSecrets())
	for _, bad := range []string{"Signature=", "AccessKeyId=", "SecurityToken=", token} {
		if text := fmt.Sprintf("%v %+v", e, *e); strings.Contains(text, bad) {
			t.Errorf("fromSDK kept %q: %s", bad, text)
		}
	}
	if e.Class != ClassRetryable || e.Code != CodeNetwork {
		t.Errorf("lost answer: %+v, want a retryable network error", *e)
	}
}
