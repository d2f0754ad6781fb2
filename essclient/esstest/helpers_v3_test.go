package esstest_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/google/uuid"

	"essworker/essclient/esstest"
)

// newOpenAPI is Alibaba's generic client (darabonba-openapi, the base of
// github.com/alibabacloud-go/ess-20220222) pointed at one emulator. It signs
// with Signature V3, its default. token, when not empty, makes it an STS
// credential.
func newOpenAPI(t *testing.T, endpoint, id, secret, token string) *openapi.Client {
	t.Helper()
	cfg := &openapi.Config{
		AccessKeyId:     dara.String(id),
		AccessKeySecret: dara.String(secret),
		Endpoint:        dara.String(strings.TrimPrefix(endpoint, "http://")),
		Protocol:        dara.String("http"),
		ReadTimeout:     dara.Int(10000),
		ConnectTimeout:  dara.Int(5000),
	}
	if token != "" {
		cfg.SecurityToken = dara.String(token)
	}
	client, err := openapi.NewClient(cfg)
	if err != nil {
		t.Fatalf("openapi.NewClient: %v", err)
	}
	return client
}

// callAPI calls action in API version version with RPC style, as the
// ess-20220222 client does: parameters in the query, flattened by
// openapiutil.Query (a list becomes name.1, name.2, ...), POST, JSON answer.
// It returns the answer's body.
func callAPI(c *openapi.Client, action, version string, query map[string]any) (map[string]any, error) {
	params := &openapiutil.Params{
		Action:      dara.String(action),
		Version:     dara.String(version),
		Protocol:    dara.String("HTTP"),
		Pathname:    dara.String("/"),
		Method:      dara.String("POST"),
		AuthType:    dara.String("AK"),
		Style:       dara.String("RPC"),
		ReqBodyType: dara.String("formData"),
		BodyType:    dara.String("json"),
	}
	req := &openapiutil.OpenApiRequest{Query: openapiutil.Query(query)}
	res, err := c.CallApi(params, req, &dara.RuntimeOptions{})
	if err != nil {
		return nil, err
	}
	body, _ := res["body"].(map[string]any)
	return body, nil
}

// mustCallAPI is callAPI that fails the test on error.
func mustCallAPI(t *testing.T, c *openapi.Client, action, version string, query map[string]any) map[string]any {
	t.Helper()
	body, err := callAPI(c, action, version, query)
	if err != nil {
		t.Fatalf("%s (%s): %v", action, version, err)
	}
	if id, _ := body["RequestId"].(string); id == "" {
		t.Fatalf("%s (%s): answer without RequestId: %v", action, version, body)
	}
	return body
}

// wantSDKError checks that err is darabonba's error with this status and
// code, that its body is ESS's error shape, and that its message contains
// every part of want.
func wantSDKError(t *testing.T, err error, status int, code string, want ...string) {
	t.Helper()
	var se *tea.SDKError
	if !errors.As(err, &se) {
		t.Fatalf("error = %v (%T), want *tea.SDKError %d %s", err, err, status, code)
	}
	if dara.IntValue(se.StatusCode) != status || dara.StringValue(se.Code) != code {
		t.Fatalf("SDKError = %d %s (%s), want %d %s", dara.IntValue(se.StatusCode), dara.StringValue(se.Code), dara.StringValue(se.Message), status, code)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(dara.StringValue(se.Data)), &body); err != nil {
		t.Fatalf("SDKError data %q: %v", dara.StringValue(se.Data), err)
	}
	checkErrorBody(t, body)
	for _, w := range want {
		if !strings.Contains(dara.StringValue(se.Message), w) {
			t.Errorf("SDKError message %q does not contain %q", dara.StringValue(se.Message), w)
		}
	}
}

// v3Call is a request signed by hand with Signature V3, by the tests' own
// signer (signV3), which follows Alibaba's V3 document and shares no code
// with the emulator.
type v3Call struct {
	method          string // default POST
	action, version string
	query           map[string]string
	form            map[string]string // sent as the form body when not empty
}

// build returns the request with the headers V3 wants, unsigned, and its body.
func (c v3Call) build(t *testing.T, base string) (*http.Request, []byte) {
	t.Helper()
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	u := base + "/"
	if len(c.query) > 0 {
		u += "?" + values(c.query).Encode()
	}
	var body []byte
	if len(c.form) > 0 {
		body = []byte(values(c.form).Encode())
	}
	req, err := http.NewRequest(method, u, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	h := req.Header
	h.Set("x-acs-action", c.action)
	h.Set("x-acs-version", c.version)
	h.Set("x-acs-date", time.Now().UTC().Format("2006-01-02T15:04:05Z"))
	h.Set("x-acs-signature-nonce", uuid.NewString())
	h.Set("x-acs-content-sha256", hexSHA256(body))
	if len(body) > 0 {
		h.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req, body
}

func values(m map[string]string) url.Values {
	v := url.Values{}
	for k, val := range m {
		v.Set(k, val)
	}
	return v
}

// allSignable is every header of req that V3 signs: host, x-acs-*, and
// Content-Type when set.
func allSignable(req *http.Request) []string {
	names := []string{"host"}
	for k := range req.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-acs-") || lk == "content-type" {
			names = append(names, lk)
		}
	}
	return names
}

// signV3 sets req's Authorization: Signature V3 over the given header names
// (lower case), as keyID with secret.
func signV3(req *http.Request, keyID, secret string, signed []string) {
	signed = slices.Sorted(slices.Values(signed))
	query := req.URL.Query()
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range query {
			if !yield(k) {
				return
			}
		}
	})
	enc := strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~")
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = enc.Replace(url.QueryEscape(k)) + "=" + enc.Replace(url.QueryEscape(query.Get(k)))
	}
	var headers strings.Builder
	for _, name := range signed {
		v := req.Header.Get(name)
		if name == "host" {
			v = req.URL.Host
		}
		headers.WriteString(name + ":" + strings.TrimSpace(v) + "\n")
	}
	canonical := strings.Join([]string{
		req.Method, "/", strings.Join(pairs, "&"), headers.String(), strings.Join(signed, ";"),
		req.Header.Get("x-acs-content-sha256"),
	}, "\n")
	stringToSign := "ACS3-HMAC-SHA256\n" + hexSHA256([]byte(canonical))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(stringToSign))
	req.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential="+keyID+",SignedHeaders="+strings.Join(signed, ";")+
		",Signature="+hex.EncodeToString(mac.Sum(nil)))
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// signedV3 builds c and signs every signable header with the default key.
func signedV3(t *testing.T, base string, c v3Call) *http.Request {
	t.Helper()
	req, _ := c.build(t, base)
	signV3(req, esstest.DefaultAccessKeyID, esstest.DefaultAccessKeySecret, allSignable(req))
	return req
}
