package esstest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"essworker/essclient/esstest"
)

// TestGatewayParameterSources shows that parameters are read from the query
// string and from a form body, by GET and POST.
func TestGatewayParameterSources(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{}, group("asg-1", "lb-1", "lb-2", "lb-3"))
	for i, mode := range []string{"GET", "POST-query", "POST-form"} {
		t.Run(mode, func(t *testing.T) {
			lb := []string{"lb-1", "lb-2", "lb-3"}[i]
			p := commonParams("DetachLoadBalancers")
			p["ScalingGroupId"], p["LoadBalancer.1"] = "asg-1", lb
			method := http.MethodPost
			if mode == "GET" {
				method = http.MethodGet
			}
			status, body := rawCall(t, srv, mode, signed(method, p, esstest.DefaultAccessKeySecret))
			if status != http.StatusOK || body["RequestId"] == "" {
				t.Fatalf("status %d body %v, want 200 with a RequestId", status, body)
			}
		})
	}
	if got := lbsOf(t, srv, "asg-1"); len(got) != 0 {
		t.Errorf("load balancers = %v, want all three detached", got)
	}
}

func TestGatewayErrors(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{}, group("asg-1", "lb-1"))
	describe := func(edit func(p map[string]string)) func() map[string]string {
		return func() map[string]string {
			p := commonParams("DescribeScalingGroups")
			edit(p)
			return signed(http.MethodGet, p, esstest.DefaultAccessKeySecret)
		}
	}
	stamp := func(d time.Duration) string { return time.Now().Add(d).UTC().Format("2006-01-02T15:04:05Z") }
	tests := []struct {
		name   string
		params func() map[string]string
		status int
		code   string
		want   string
	}{
		{"unknown access key", describe(func(p map[string]string) { p["AccessKeyId"] = "NOSUCHKEY" }), 404, "InvalidAccessKeyId.NotFound", ""},
		{"wrong signature", func() map[string]string {
			return signed(http.MethodGet, commonParams("DescribeScalingGroups"), "wrong-secret")
		}, 400, "SignatureDoesNotMatch", "server string to sign is:GET&%2F&AccessKeyId%3DTESTAKID"},
		{"signed for POST, sent by GET", func() map[string]string {
			return signed(http.MethodPost, commonParams("DescribeScalingGroups"), esstest.DefaultAccessKeySecret)
		}, 400, "SignatureDoesNotMatch", "server string to sign is:GET&"},
		{"timestamp 20 minutes old", describe(func(p map[string]string) { p["Timestamp"] = stamp(-20 * time.Minute) }), 400, "InvalidTimeStamp.Expired", ""},
		{"timestamp 20 minutes ahead", describe(func(p map[string]string) { p["Timestamp"] = stamp(20 * time.Minute) }), 400, "InvalidTimeStamp.Expired", ""},
		{"timestamp not UTC ISO 8601", describe(func(p map[string]string) { p["Timestamp"] = "yesterday" }), 400, "InvalidTimeStamp.Format", ""},
		{"unknown action", func() map[string]string {
			return signed(http.MethodGet, commonParams("DeleteEverything"), esstest.DefaultAccessKeySecret)
		}, 404, "InvalidApi.NotFound", "DeleteEverything"},
		{"other version", describe(func(p map[string]string) { p["Version"] = "2099-01-01" }), 400, "InvalidParameter", `"Version"`},
		{"XML format", describe(func(p map[string]string) { p["Format"] = "XML" }), 400, "InvalidParameter", `"Format"`},
		{"other signature method", describe(func(p map[string]string) { p["SignatureMethod"] = "HMAC-SHA256" }), 400, "InvalidParameter", `"SignatureMethod"`},
	}
	for _, name := range []string{"Action", "AccessKeyId", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp", "Version", "RegionId"} {
		tests = append(tests, struct {
			name   string
			params func() map[string]string
			status int
			code   string
			want   string
		}{"missing " + name, describe(func(p map[string]string) { delete(p, name) }), 400, "MissingParameter", `"` + name + `"`})
	}
	tests = append(tests, struct {
		name   string
		params func() map[string]string
		status int
		code   string
		want   string
	}{"missing Signature", func() map[string]string { return commonParams("DescribeScalingGroups") }, 400, "MissingParameter", `"Signature"`})

	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := rawCall(t, srv, "GET", tt.params())
			checkErrorBody(t, body)
			if status != tt.status || body["Code"] != tt.code {
				t.Fatalf("answer %d %v, want %d %s", status, body, tt.status, tt.code)
			}
			if msg, _ := body["Message"].(string); !strings.Contains(msg, tt.want) {
				t.Errorf("Message %q does not contain %q", msg, tt.want)
			}
			id, _ := body["RequestId"].(string)
			if seen[id] {
				t.Errorf("RequestId %s answered twice", id)
			}
			seen[id] = true
		})
	}
}

func TestGatewaySignatureMessageIsTheStringToSign(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{})
	p := commonParams("DescribeScalingGroups")
	p["Name With Space*"] = "a~b c*d+e/é"
	_, want := signV1(http.MethodPost, p, "x")
	status, body := rawCall(t, srv, "POST-form", signed(http.MethodPost, p, "wrong"))
	checkErrorBody(t, body)
	msg, _ := body["Message"].(string)
	if _, got, ok := strings.Cut(msg, "server string to sign is:"); status != 400 || !ok || got != want {
		t.Errorf("status %d, server string to sign %q, want %q", status, got, want)
	}
}

func TestGatewayNonceReuse(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{})
	p := signed(http.MethodGet, commonParams("DescribeScalingGroups"), esstest.DefaultAccessKeySecret)
	if status, body := rawCall(t, srv, "GET", p); status != http.StatusOK {
		t.Fatalf("first use: %d %v", status, body)
	}
	status, body := rawCall(t, srv, "GET", p)
	checkErrorBody(t, body)
	if status != http.StatusBadRequest || body["Code"] != "SignatureNonceUsed" {
		t.Errorf("second use: %d %v, want 400 SignatureNonceUsed", status, body)
	}
	if got := srv.Stats().Calls["DescribeScalingGroups"]; got["OK"] != 1 || got["SignatureNonceUsed"] != 1 {
		t.Errorf("calls = %v", got)
	}
}

func TestGatewayErrorBodies(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{}, group("asg-1", "lb-1"))
	setFaults(t, srv, esstest.FaultPlan{"AttachLoadBalancers": {ErrorRate: 1, ErrorCodes: []string{"InternalError"}}})
	calls := map[string]map[string]string{
		"action error": {"Action": "DetachLoadBalancers", "ScalingGroupId": "asg-1", "LoadBalancer.1": "lb-x"},
		"fault":        {"Action": "AttachLoadBalancers", "ScalingGroupId": "asg-1", "LoadBalancer.1": "lb-2"},
		"bad paging":   {"Action": "DescribeScalingActivities", "ScalingGroupId": "asg-1", "PageSize": "ten"},
	}
	for name, extra := range calls {
		t.Run(name, func(t *testing.T) {
			p := commonParams(extra["Action"])
			for k, v := range extra {
				p[k] = v
			}
			status, body := rawCall(t, srv, "POST-query", signed(http.MethodPost, p, esstest.DefaultAccessKeySecret))
			if status < 400 {
				t.Fatalf("status %d, want an error", status)
			}
			checkErrorBody(t, body)
		})
	}
	// Not a GET or POST, and not the API path.
	for _, req := range []*http.Request{
		mustRequest(t, http.MethodPut, srv.URL+"/?Action=DescribeScalingGroups"),
		mustRequest(t, http.MethodGet, srv.URL+"/v2/whatever"),
	} {
		status, body := do(t, req)
		if status < 400 {
			t.Errorf("%s %s: status %d", req.Method, req.URL.Path, status)
		}
		checkErrorBody(t, body)
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestGatewaySDKWrongSecret drives SignatureDoesNotMatch through the SDK: its
// Recommend says the secret is wrong only when the emulator's string to sign
// equals the SDK's own, so this proves the two sign identically.
func TestGatewaySDKWrongSecret(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{})
	_, err := newSDKWithKey(t, srv, esstest.DefaultAccessKeyID, "not-the-secret").groups(0, 0)
	se := wantServerError(t, err, http.StatusBadRequest, "SignatureDoesNotMatch", "server string to sign is:")
	if !strings.Contains(se.Recommend(), "InvalidAccessKeySecret") {
		t.Errorf("Recommend = %q: the SDK's string to sign differs from the emulator's", se.Recommend())
	}
	_, err = newSDKWithKey(t, srv, "OTHERKEY", "x").groups(0, 0)
	wantServerError(t, err, http.StatusNotFound, "InvalidAccessKeyId.NotFound")
}

func TestGatewayCustomAccessKeys(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{AccessKeys: map[string]string{"AK2": "S2"}})
	if _, err := newSDKWithKey(t, srv, "AK2", "S2").groups(0, 0); err != nil {
		t.Errorf("configured key: %v", err)
	}
	_, err := newSDK(t, srv).groups(0, 0)
	wantServerError(t, err, http.StatusNotFound, "InvalidAccessKeyId.NotFound")
}
