package esstest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"

	"essworker/essclient/esstest"
)

// TestV3SDKAPIVersion2022 drives every action through darabonba-openapi in
// API version 2022-02-22, with its list names and its plain-array answers.
func TestV3SDKAPIVersion2022(t *testing.T) {
	t.Parallel()
	srv, clock := newServer(t, esstest.Config{}, group("asg-1", "lb-1", "lb-2"))
	c := newOpenAPI(t, srv.URL, esstest.DefaultAccessKeyID, esstest.DefaultAccessKeySecret, "")
	const v = esstest.APIVersion2022

	body := mustCallAPI(t, c, "DetachLoadBalancers", v, map[string]any{
		"RegionId": esstest.DefaultRegionID, "ScalingGroupId": "asg-1", "LoadBalancers": []*string{dara.String("lb-1")},
	})
	if _, ok := body["ScalingActivityId"]; ok {
		t.Errorf("synchronous detach answered %v, want no ScalingActivityId", body)
	}
	if got := lbsOf(t, srv, "asg-1"); !slices.Equal(got, []string{"lb-2"}) {
		t.Fatalf("after detach: load balancers %v, want [lb-2]", got)
	}

	attach := map[string]any{
		"ScalingGroupId": "asg-1", "LoadBalancers": []*string{dara.String("lb-3"), dara.String("lb-4")},
		"Async": dara.Bool(true), "ClientToken": dara.String("v3-token-1"),
	}
	first := mustCallAPI(t, c, "AttachLoadBalancers", v, attach)
	again := mustCallAPI(t, c, "AttachLoadBalancers", v, attach)
	activityID, _ := first["ScalingActivityId"].(string)
	if activityID == "" || again["ScalingActivityId"] != activityID {
		t.Fatalf("attach answered %v then %v, want one ScalingActivityId twice", first, again)
	}

	describe := func(wantStatus, wantProgress string) {
		t.Helper()
		body := mustCallAPI(t, c, "DescribeScalingActivities", v, map[string]any{
			"RegionId": esstest.DefaultRegionID, "ScalingActivityIds": []*string{dara.String(activityID), dara.String("asa-unknown")},
		})
		acts := objects(t, body["ScalingActivities"])
		if len(acts) != 1 || acts[0]["ScalingActivityId"] != activityID || acts[0]["ScalingGroupId"] != "asg-1" ||
			acts[0]["StatusCode"] != wantStatus || fmt.Sprint(acts[0]["Progress"]) != wantProgress || fmt.Sprint(body["TotalCount"]) != "1" {
			t.Fatalf("DescribeScalingActivities = %v, want %s only, %s at %s%%", body, activityID, wantStatus, wantProgress)
		}
	}
	describe(esstest.StatusInProgress, "0")
	clock.Advance(esstest.DefaultActivityDuration)
	describe(esstest.StatusSuccessful, "100")

	body = mustCallAPI(t, c, "DescribeScalingGroups", v, map[string]any{
		"RegionId": esstest.DefaultRegionID, "ScalingGroupIds": []*string{dara.String("asg-1")},
	})
	groups := objects(t, body["ScalingGroups"])
	if len(groups) != 1 || groups[0]["ScalingGroupId"] != "asg-1" || groups[0]["LifecycleState"] != "Active" || fmt.Sprint(body["TotalCount"]) != "1" {
		t.Fatalf("DescribeScalingGroups = %v, want asg-1 alone", body)
	}
	if got := strs(t, groups[0]["LoadBalancerIds"]); !slices.Equal(got, []string{"lb-2", "lb-3", "lb-4"}) {
		t.Errorf("LoadBalancerIds = %v, want [lb-2 lb-3 lb-4]", got)
	}

	st := srv.Stats()
	for action, want := range map[string]int{
		"DetachLoadBalancers": 1, "AttachLoadBalancers": 2, "DescribeScalingActivities": 2, "DescribeScalingGroups": 1,
	} {
		if got := st.Calls[action]; got["OK"] != want || len(got) != 1 {
			t.Errorf("calls of %s = %v, want %d OK", action, got, want)
		}
	}
	if st.ActivitiesCreated != 1 {
		t.Errorf("ActivitiesCreated = %d, want 1 (the token's replay starts none)", st.ActivitiesCreated)
	}

	// The list names of 2014-08-28 are not those of 2022-02-22.
	_, err := callAPI(c, "DetachLoadBalancers", v, map[string]any{"ScalingGroupId": "asg-1", "LoadBalancer": []*string{dara.String("lb-2")}})
	wantSDKError(t, err, http.StatusBadRequest, "MissingParameter", `"LoadBalancers.1"`)
	_, err = callAPI(c, "DetachLoadBalancers", v, map[string]any{
		"ScalingGroupId": "asg-1", "LoadBalancers": []*string{dara.String("lb-2"), dara.String("lb-2")},
	})
	wantSDKError(t, err, http.StatusBadRequest, "InvalidParameter", `"LoadBalancers"`)
}

// TestV3SDKAPIVersion2014 shows a V3-signed request in API version
// 2014-08-28: the older list names and the wrapped answers.
func TestV3SDKAPIVersion2014(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{}, group("asg-1", "lb-1", "lb-2"))
	c := newOpenAPI(t, srv.URL, esstest.DefaultAccessKeyID, esstest.DefaultAccessKeySecret, "")
	const v = esstest.APIVersion

	mustCallAPI(t, c, "DetachLoadBalancers", v, map[string]any{"ScalingGroupId": "asg-1", "LoadBalancer": []*string{dara.String("lb-1")}})
	body := mustCallAPI(t, c, "DescribeScalingGroups", v, map[string]any{"ScalingGroupId": []*string{dara.String("asg-1")}})
	wrapped, ok := body["ScalingGroups"].(map[string]any)
	if !ok {
		t.Fatalf("ScalingGroups = %#v, want the object {\"ScalingGroup\":[...]}", body["ScalingGroups"])
	}
	groups := objects(t, wrapped["ScalingGroup"])
	lbs, ok := groups[0]["LoadBalancerIds"].(map[string]any)
	if len(groups) != 1 || !ok || !slices.Equal(strs(t, lbs["LoadBalancerId"]), []string{"lb-2"}) {
		t.Errorf("ScalingGroup = %v, want asg-1 with {\"LoadBalancerId\":[\"lb-2\"]}", groups)
	}
	body = mustCallAPI(t, c, "DescribeScalingActivities", v, map[string]any{"ScalingGroupId": "asg-1"})
	if acts, ok := body["ScalingActivities"].(map[string]any); !ok || len(objects(t, acts["ScalingActivity"])) != 0 {
		t.Errorf("ScalingActivities = %#v, want {\"ScalingActivity\":[]}", body["ScalingActivities"])
	}
	mustCallAPI(t, c, "AttachLoadBalancers", v, map[string]any{"ScalingGroupId": "asg-1", "LoadBalancer": []*string{dara.String("lb-9")}})
	if got := lbsOf(t, srv, "asg-1"); !slices.Equal(got, []string{"lb-2", "lb-9"}) {
		t.Errorf("load balancers = %v, want [lb-2 lb-9]", got)
	}
}

// TestV3SDKGatewayErrors: the V1 gateway's codes, through darabonba-openapi.
func TestV3SDKGatewayErrors(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{})
	c := newOpenAPI(t, srv.URL, esstest.DefaultAccessKeyID, "not-the-secret", "")
	_, err := callAPI(c, "DescribeScalingGroups", esstest.APIVersion2022, nil)
	wantSDKError(t, err, http.StatusBadRequest, "SignatureDoesNotMatch", "server string to sign is:ACS3-HMAC-SHA256\n")

	c = newOpenAPI(t, srv.URL, "NOSUCHKEY", esstest.DefaultAccessKeySecret, "")
	_, err = callAPI(c, "DescribeScalingGroups", esstest.APIVersion2022, nil)
	wantSDKError(t, err, http.StatusNotFound, "InvalidAccessKeyId.NotFound")

	c = newOpenAPI(t, srv.URL, esstest.DefaultAccessKeyID, esstest.DefaultAccessKeySecret, "")
	_, err = callAPI(c, "DescribeScalingGroups", "2099-01-01", nil)
	wantSDKError(t, err, http.StatusBadRequest, "InvalidParameter", `"Version"`)
	_, err = callAPI(c, "DeleteEverything", esstest.APIVersion2022, nil)
	wantSDKError(t, err, http.StatusNotFound, "InvalidApi.NotFound", "DeleteEverything")

	st := srv.Stats().Calls
	if got := st["DescribeScalingGroups"]; got["SignatureDoesNotMatch"] != 1 || got["InvalidAccessKeyId.NotFound"] != 1 || got["InvalidParameter"] != 1 || len(got) != 3 {
		t.Errorf("calls of DescribeScalingGroups = %v", got)
	}
}

// TestV3SDKSecurityToken: with STS credentials the SDK sends and signs
// x-acs-security-token, and the emulator accepts it.
func TestV3SDKSecurityToken(t *testing.T) {
	t.Parallel()
	emu := esstest.New(esstest.Config{})
	if err := emu.AddScalingGroup(group("asg-1", "lb-1")); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var token, authorization string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		token, authorization = r.Header.Get("x-acs-security-token"), r.Header.Get("Authorization")
		mu.Unlock()
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	c := newOpenAPI(t, srv.URL, esstest.DefaultAccessKeyID, esstest.DefaultAccessKeySecret, "sts-token-1")
	mustCallAPI(t, c, "DetachLoadBalancers", esstest.APIVersion2022, map[string]any{
		"ScalingGroupId": "asg-1", "LoadBalancers": []*string{dara.String("lb-1")},
	})
	mu.Lock()
	defer mu.Unlock()
	if token != "sts-token-1" || !strings.Contains(authorization, "x-acs-security-token") {
		t.Errorf("token header %q, Authorization %q: want the token sent and signed", token, authorization)
	}
	if got := emu.Stats().DetachesApplied; got != 1 {
		t.Errorf("DetachesApplied = %d, want 1", got)
	}
}

// TestV3Gateway covers the V3 gateway with requests signed by hand.
func TestV3Gateway(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{}, group("asg-1", "lb-1", "lb-2", "lb-3", "lb-4"))
	describe := v3Call{action: "DescribeScalingGroups", version: esstest.APIVersion2022}
	withBody := v3Call{action: "DescribeScalingGroups", version: esstest.APIVersion2022, form: map[string]string{"PageSize": "5"}}
	stamp := func(d time.Duration) string { return time.Now().Add(d).UTC().Format("2006-01-02T15:04:05Z") }
	// signedWithout signs c over every signable header but omit.
	signedWithout := func(c v3Call, omit string, edit func(*http.Request)) func(*testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			req, _ := c.build(t, srv.URL)
			if edit != nil {
				edit(req)
			}
			names := slices.DeleteFunc(allSignable(req), func(n string) bool { return n == omit })
			signV3(req, esstest.DefaultAccessKeyID, esstest.DefaultAccessKeySecret, names)
			return req
		}
	}
	// edited builds c, edits it, then signs it with key and secret.
	edited := func(c v3Call, key, secret string, edit func(*http.Request)) func(*testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			req, _ := c.build(t, srv.URL)
			if edit != nil {
				edit(req)
			}
			signV3(req, key, secret, allSignable(req))
			return req
		}
	}
	// after signs c, then edits it.
	after := func(c v3Call, edit func(*http.Request)) func(*testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			req := signedV3(t, srv.URL, c)
			edit(req)
			return req
		}
	}
	setHeader := func(name, value string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set(name, value) }
	}
	delHeader := func(name string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Del(name) }
	}
	key, secret := esstest.DefaultAccessKeyID, esstest.DefaultAccessKeySecret
	type testCase struct {
		name   string
		req    func(*testing.T) *http.Request
		status int
		code   string // "" for success
		want   string // part of the error message
	}
	tests := []testCase{
		{"query", edited(v3Call{action: "DescribeScalingGroups", version: esstest.APIVersion2022, query: map[string]string{"ScalingGroupIds.1": "asg-1", "Note": "a b*~/é+"}}, key, secret, nil), 200, "", ""},
		{"form body", edited(withBody, key, secret, nil), 200, "", ""},
		{"GET", edited(v3Call{method: http.MethodGet, action: "DescribeScalingGroups", version: esstest.APIVersion}, key, secret, nil), 200, "", ""},
		{"detach in 2014-08-28 by form", edited(v3Call{action: "DetachLoadBalancers", version: esstest.APIVersion, form: map[string]string{"ScalingGroupId": "asg-1", "LoadBalancer.1": "lb-1"}}, key, secret, nil), 200, "", ""},
		{"attach in 2022-02-22 by query", edited(v3Call{action: "AttachLoadBalancers", version: esstest.APIVersion2022, query: map[string]string{"ScalingGroupId": "asg-1", "LoadBalancers.1": "lb-5"}}, key, secret, nil), 200, "", ""},
		{"activities in 2022-02-22", edited(v3Call{action: "DescribeScalingActivities", version: esstest.APIVersion2022, query: map[string]string{"ScalingActivityIds.1": "asa-none"}}, key, secret, nil), 200, "", ""},
		{"security token signed", edited(describe, key, secret, setHeader("x-acs-security-token", "sts-token-1")), 200, "", ""},

		{"wrong secret", edited(describe, key, "wrong-secret", nil), 400, "SignatureDoesNotMatch", "server string to sign is:ACS3-HMAC-SHA256\n"},
		{"unknown access key", edited(describe, "NOSUCHKEY", secret, nil), 404, "InvalidAccessKeyId.NotFound", ""},
		{"query changed after signing", after(describe, func(r *http.Request) { r.URL.RawQuery = "PageSize=2" }), 400, "SignatureDoesNotMatch", "server string to sign is:"},
		{"header changed after signing", after(describe, setHeader("x-acs-version", esstest.APIVersion)), 400, "SignatureDoesNotMatch", "server string to sign is:"},
		{"body changed after signing", after(withBody, func(r *http.Request) {
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader("PageSize=6")), int64(len("PageSize=6"))
		}), 400, "SignatureDoesNotMatch", "x-acs-content-sha256"},
		{"body hash of another body", edited(withBody, key, secret, setHeader("x-acs-content-sha256", hexSHA256([]byte("PageSize=6")))), 400, "SignatureDoesNotMatch", "x-acs-content-sha256"},
		{"date 20 minutes old", edited(describe, key, secret, setHeader("x-acs-date", stamp(-20*time.Minute))), 400, "InvalidTimeStamp.Expired", ""},
		{"date 20 minutes ahead", edited(describe, key, secret, setHeader("x-acs-date", stamp(20*time.Minute))), 400, "InvalidTimeStamp.Expired", ""},
		{"date not ISO 8601", edited(describe, key, secret, setHeader("x-acs-date", "yesterday")), 400, "InvalidTimeStamp.Format", ""},
		{"other version", edited(v3Call{action: "DescribeScalingGroups", version: "2099-01-01"}, key, secret, nil), 400, "InvalidParameter", `"Version"`},
		{"unknown action", edited(v3Call{action: "DeleteEverything", version: esstest.APIVersion2022}, key, secret, nil), 404, "InvalidApi.NotFound", "DeleteEverything"},
		{"query Action differs", edited(v3Call{action: "DescribeScalingGroups", version: esstest.APIVersion2022, query: map[string]string{"Action": "DetachLoadBalancers"}}, key, secret, nil), 400, "InvalidParameter", `"Action"`},
		{"other algorithm", after(describe, func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "ACS3-HMAC-SHA256", "ACS3-HMAC-SM3", 1))
		}), 400, "InvalidParameter", `"Authorization"`},
		{"x-acs-date not signed", signedWithout(describe, "x-acs-date", nil), 400, "SignatureDoesNotMatch", `"x-acs-date"`},
		{"host not signed", signedWithout(describe, "host", nil), 400, "SignatureDoesNotMatch", `"host"`},
		{"x-acs-content-sha256 not signed", signedWithout(describe, "x-acs-content-sha256", nil), 400, "SignatureDoesNotMatch", `"x-acs-content-sha256"`},
		{"content-type not signed", signedWithout(withBody, "content-type", nil), 400, "SignatureDoesNotMatch", `"content-type"`},
		{"security token not signed", signedWithout(describe, "x-acs-security-token", setHeader("x-acs-security-token", "sts-token-1")), 400, "SignatureDoesNotMatch", `"x-acs-security-token"`},
	}
	for _, name := range []string{"x-acs-action", "x-acs-signature-nonce", "x-acs-date", "x-acs-version", "x-acs-content-sha256"} {
		tests = append(tests, testCase{"missing " + name, after(describe, delHeader(name)), 400, "MissingParameter", `"` + name + `"`})
	}
	for _, part := range []string{"Credential", "SignedHeaders", "Signature"} {
		tests = append(tests, testCase{"Authorization without " + part, after(describe, func(r *http.Request) {
			fields := strings.Split(strings.TrimPrefix(r.Header.Get("Authorization"), "ACS3-HMAC-SHA256 "), ",")
			fields = slices.DeleteFunc(fields, func(f string) bool { return strings.HasPrefix(f, part+"=") })
			r.Header.Set("Authorization", "ACS3-HMAC-SHA256 "+strings.Join(fields, ","))
		}), 400, "MissingParameter", `"Authorization ` + part + `"`})
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := do(t, tt.req(t))
			if tt.code == "" {
				if status != tt.status || body["Code"] != nil {
					t.Fatalf("answer %d %v, want %d", status, body, tt.status)
				}
				return
			}
			checkErrorBody(t, body)
			if status != tt.status || body["Code"] != tt.code {
				t.Fatalf("answer %d %v, want %d %s", status, body, tt.status, tt.code)
			}
			if msg, _ := body["Message"].(string); !strings.Contains(msg, tt.want) {
				t.Errorf("Message %q does not contain %q", msg, tt.want)
			}
		})
	}
	if got := lbsOf(t, srv, "asg-1"); !slices.Equal(got, []string{"lb-2", "lb-3", "lb-4", "lb-5"}) {
		t.Errorf("load balancers = %v, want lb-1 detached and lb-5 attached", got)
	}
}

// TestV3GatewayNonceReuse replays one signed request: same nonce, same key.
func TestV3GatewayNonceReuse(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{})
	req := signedV3(t, srv.URL, v3Call{action: "DescribeScalingGroups", version: esstest.APIVersion2022})
	replay := req.Clone(req.Context())
	if status, body := do(t, req); status != http.StatusOK {
		t.Fatalf("first use: %d %v", status, body)
	}
	status, body := do(t, replay)
	checkErrorBody(t, body)
	if status != http.StatusBadRequest || body["Code"] != "SignatureNonceUsed" {
		t.Errorf("second use: %d %v, want 400 SignatureNonceUsed", status, body)
	}
	if got := srv.Stats().Calls["DescribeScalingGroups"]; got["OK"] != 1 || got["SignatureNonceUsed"] != 1 || len(got) != 2 {
		t.Errorf("calls = %v", got)
	}
}

// TestV3SignatureVector pins Signature V3's canonicalization: the tests'
// signer and darabonba-openapi's own (openapiutil.GetAuthorization) both give
// the signature computed apart from any Go code (see vectorV3 in
// signature_v3_test.go, which checks the emulator's signer against it).
func TestV3SignatureVector(t *testing.T) {
	t.Parallel()
	const want = "00ebae31d8b115eb2ff63d5bfee6ff69d08ff70df8c7f2058e4492fa817f5e34"
	query := map[string]string{"ScalingGroupId": "asg-bp1", "LoadBalancers.1": "lb-a", "LoadBalancers.2": "lb b*~/é", "ClientToken": ""}
	headers := map[string]string{
		"host":                  "ess.cn-hangzhou.aliyuncs.com",
		"content-type":          "application/x-www-form-urlencoded",
		"x-acs-action":          "DetachLoadBalancers",
		"x-acs-version":         "2022-02-22",
		"x-acs-date":            "  2026-11-25T09:54:00Z ",
		"x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
		"x-acs-content-sha256":  hexSHA256([]byte("Async=true")),
	}

	req, err := http.NewRequest(http.MethodPost, "http://"+headers["host"]+"/?"+values(query).Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for k, v := range headers {
		if k != "host" {
			req.Header.Set(k, v)
		}
		names = append(names, k)
	}
	signV3(req, "testid", "testsecret", names)
	if got := req.Header.Get("Authorization"); !strings.HasSuffix(got, ",Signature="+want) {
		t.Errorf("tests' signer: Authorization %q, want Signature=%s", got, want)
	}

	sdkReq := dara.NewRequest()
	sdkReq.Method, sdkReq.Pathname = dara.String(http.MethodPost), dara.String("/")
	for k, v := range query {
		sdkReq.Query[k] = dara.String(v)
	}
	for k, v := range headers {
		sdkReq.Headers[k] = dara.String(v)
	}
	auth := openapiutil.GetAuthorization(sdkReq, dara.String("ACS3-HMAC-SHA256"), dara.String(headers["x-acs-content-sha256"]), dara.String("testid"), dara.String("testsecret"))
	if got := dara.StringValue(auth); !strings.HasSuffix(got, ",Signature="+want) {
		t.Errorf("darabonba-openapi: Authorization %q, want Signature=%s", got, want)
	}
}
