package esstest_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ess"
	"github.com/google/uuid"

	"essworker/essclient/esstest"
)

// epoch is the FakeClock start of the tests; any fixed time works because the
// gateway's timestamp check uses the real clock.
var epoch = time.Date(2026, 11, 25, 9, 54, 0, 0, time.UTC)

// newServer starts an emulator with a FakeClock and the given groups.
func newServer(t *testing.T, cfg esstest.Config, groups ...esstest.ScalingGroup) (*esstest.Server, *esstest.FakeClock) {
	t.Helper()
	clock := esstest.NewFakeClock(epoch)
	if cfg.Clock == nil {
		cfg.Clock = clock
	}
	srv := esstest.NewServer(cfg)
	t.Cleanup(srv.Close)
	for _, g := range groups {
		if err := srv.AddScalingGroup(g); err != nil {
			t.Fatalf("AddScalingGroup(%s): %v", g.ScalingGroupId, err)
		}
	}
	return srv, clock
}

// group is a scaling group in the default region.
func group(id string, lbs ...string) esstest.ScalingGroup {
	return esstest.ScalingGroup{ScalingGroupId: id, LoadBalancerIds: lbs}
}

// sdk is the real SDK client pointed at one emulator. The SDK shares its
// http.Client between calls, so each test makes its own.
type sdk struct {
	t      *testing.T
	client *ess.Client
	host   string
}

var endpointMapOnce sync.Once

func newSDK(t *testing.T, srv *esstest.Server) *sdk {
	t.Helper()
	return newSDKWithKey(t, srv, esstest.DefaultAccessKeyID, esstest.DefaultAccessKeySecret)
}

func newSDKWithKey(t *testing.T, srv *esstest.Server, id, secret string) *sdk {
	t.Helper()
	// ess.NewClientWithAccessKey lazily fills a package-level map without a
	// lock (a data race between concurrent constructors); fill it once first.
	endpointMapOnce.Do(func() { ess.GetEndpointMap() })
	client, err := ess.NewClientWithAccessKey(esstest.DefaultRegionID, id, secret)
	if err != nil {
		t.Fatalf("ess.NewClientWithAccessKey: %v", err)
	}
	return &sdk{t: t, client: client, host: strings.TrimPrefix(srv.URL, "http://")}
}

// target points one request at the emulator, with a timeout so a broken test
// fails instead of hanging.
func (s *sdk) target(r *requests.RpcRequest) {
	r.Scheme = "http"
	r.Domain = s.host
	r.SetReadTimeout(10 * time.Second)
	r.SetConnectTimeout(5 * time.Second)
}

// detachReq is a DetachLoadBalancers request for the emulator.
func (s *sdk) detachReq(groupID string, async bool, token string, lbs ...string) *ess.DetachLoadBalancersRequest {
	req := ess.CreateDetachLoadBalancersRequest()
	s.target(req.RpcRequest)
	req.ScalingGroupId = groupID
	req.LoadBalancer = &lbs
	req.Async = requests.NewBoolean(async)
	req.ClientToken = token
	return req
}

func (s *sdk) detach(groupID string, async bool, token string, lbs ...string) (*ess.DetachLoadBalancersResponse, error) {
	return s.client.DetachLoadBalancers(s.detachReq(groupID, async, token, lbs...))
}

// mustDetach detaches and fails the test on error.
func (s *sdk) mustDetach(groupID string, async bool, token string, lbs ...string) *ess.DetachLoadBalancersResponse {
	s.t.Helper()
	resp, err := s.detach(groupID, async, token, lbs...)
	if err != nil {
		s.t.Fatalf("DetachLoadBalancers(%s, %v): %v", groupID, lbs, err)
	}
	return resp
}

func (s *sdk) attach(groupID string, async bool, token string, lbs ...string) (*ess.AttachLoadBalancersResponse, error) {
	req := ess.CreateAttachLoadBalancersRequest()
	s.target(req.RpcRequest)
	req.ScalingGroupId = groupID
	req.LoadBalancer = &lbs
	req.Async = requests.NewBoolean(async)
	req.ClientToken = token
	return s.client.AttachLoadBalancers(req)
}

// activities describes activities by group and/or IDs; page and size 0 mean unset.
func (s *sdk) activities(groupID, status string, page, size int, ids ...string) (*ess.DescribeScalingActivitiesResponse, error) {
	req := ess.CreateDescribeScalingActivitiesRequest()
	s.target(req.RpcRequest)
	req.ScalingGroupId = groupID
	req.StatusCode = status
	if len(ids) > 0 {
		req.ScalingActivityId = &ids
	}
	if page != 0 {
		req.PageNumber = requests.NewInteger(page)
	}
	if size > 0 {
		req.PageSize = requests.NewInteger(size)
	}
	return s.client.DescribeScalingActivities(req)
}

// activity describes one activity and fails the test unless exactly it comes back.
func (s *sdk) activity(id string) ess.ScalingActivity {
	s.t.Helper()
	resp, err := s.activities("", "", 0, 0, id)
	if err != nil {
		s.t.Fatalf("DescribeScalingActivities(%s): %v", id, err)
	}
	if got := resp.ScalingActivities.ScalingActivity; len(got) != 1 || got[0].ScalingActivityId != id {
		s.t.Fatalf("DescribeScalingActivities(%s) = %+v, want that one activity", id, got)
	}
	return resp.ScalingActivities.ScalingActivity[0]
}

func (s *sdk) groups(page, size int, ids ...string) (*ess.DescribeScalingGroupsResponse, error) {
	return s.client.DescribeScalingGroups(s.groupsReq(page, size, ids...))
}

func (s *sdk) groupsReq(page, size int, ids ...string) *ess.DescribeScalingGroupsRequest {
	req := ess.CreateDescribeScalingGroupsRequest()
	s.target(req.RpcRequest)
	if len(ids) > 0 {
		req.ScalingGroupId = &ids
	}
	if page != 0 {
		req.PageNumber = requests.NewInteger(page)
	}
	if size > 0 {
		req.PageSize = requests.NewInteger(size)
	}
	return req
}

// wantServerError checks that err is the SDK's ServerError with this status
// and code, and that its message contains every part of want.
func wantServerError(t *testing.T, err error, status int, code string, want ...string) *sdkerrors.ServerError {
	t.Helper()
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("error = %v (%T), want *errors.ServerError %d %s", err, err, status, code)
	}
	if se.HttpStatus() != status || se.ErrorCode() != code {
		t.Fatalf("ServerError = %d %s (%s), want %d %s", se.HttpStatus(), se.ErrorCode(), se.Message(), status, code)
	}
	for _, w := range want {
		if !strings.Contains(se.Message(), w) {
			t.Errorf("ServerError message %q does not contain %q", se.Message(), w)
		}
	}
	if se.RequestId() == "" {
		t.Error("ServerError has no RequestId")
	}
	return se
}

// lbsOf returns the current load balancers of a group.
func lbsOf(t *testing.T, srv *esstest.Server, id string) []string {
	t.Helper()
	g, ok := srv.ScalingGroup(id)
	if !ok {
		t.Fatalf("ScalingGroup(%s) not found", id)
	}
	return g.LoadBalancerIds
}

// signV1 is an independent Signature V1, written as the SDK computes it.
func signV1(method string, p map[string]string, secret string) (signature, stringToSign string) {
	v := url.Values{}
	for k, val := range p {
		v.Set(k, val)
	}
	canon := strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(v.Encode())
	stringToSign = method + "&%2F&" + url.QueryEscape(canon)
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil)), stringToSign
}

// commonParams are the gateway's parameters for action, with a fresh nonce.
func commonParams(action string) map[string]string {
	return map[string]string{
		"Action":           action,
		"Version":          esstest.APIVersion,
		"Format":           "JSON",
		"AccessKeyId":      esstest.DefaultAccessKeyID,
		"SignatureMethod":  "HMAC-SHA1",
		"SignatureVersion": "1.0",
		"SignatureType":    "",
		"SignatureNonce":   uuid.NewString(),
		"Timestamp":        time.Now().UTC().Format("2006-01-02T15:04:05Z"),
		"RegionId":         esstest.DefaultRegionID,
	}
}

// signed adds a Signature made with secret.
func signed(method string, p map[string]string, secret string) map[string]string {
	sig, _ := signV1(method, p, secret)
	p["Signature"] = sig
	return p
}

// rawCall sends p by GET (query), POST with a query, or POST with a form body
// and returns the status and the decoded JSON body.
func rawCall(t *testing.T, srv *esstest.Server, mode string, p map[string]string) (int, map[string]any) {
	t.Helper()
	v := url.Values{}
	for k, val := range p {
		v.Set(k, val)
	}
	var req *http.Request
	var err error
	switch mode {
	case "GET":
		req, err = http.NewRequest(http.MethodGet, srv.URL+"/?"+v.Encode(), nil)
	case "POST-query":
		req, err = http.NewRequest(http.MethodPost, srv.URL+"/?"+v.Encode(), nil)
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	case "POST-form":
		req, err = http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(v.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	default:
		t.Fatalf("unknown mode %q", mode)
	}
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("%s %s: body %q is not a JSON object: %v", req.Method, req.URL.Path, b, err)
	}
	return resp.StatusCode, body
}

// checkErrorBody checks ESS's error shape: exactly five string fields.
func checkErrorBody(t *testing.T, body map[string]any) {
	t.Helper()
	want := []string{"RequestId", "HostId", "Code", "Message", "Recommend"}
	if len(body) != len(want) {
		t.Errorf("error body has %d fields, want exactly %v: %v", len(body), want, body)
	}
	for _, k := range want {
		if s, ok := body[k].(string); !ok || (k != "Recommend" && s == "") {
			t.Errorf("error body field %s = %#v, want a non-empty string", k, body[k])
		}
	}
}
