package esstest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"essworker/essclient/esstest"
)

// The fuzz targets feed malformed and unexpected requests straight to
// Emulator.ServeHTTP. The emulator must never panic, and must answer every
// request: JSON, and on any non-2xx status ESS's five-string-field error body
// (the SDK panics on anything else). Each input gets a fresh emulator, so a
// crasher replays alone. Run one for a bounded time with, for example:
//
//	go test ./essclient/esstest -run '^$' -fuzz '^FuzzGatewayRaw$' -fuzztime 60s

// fuzzRequestTimeout bounds one request, should anything in it wait.
const fuzzRequestTimeout = 5 * time.Second

// fuzzEmulator is a fresh emulator with one group that has load balancers to detach.
func fuzzEmulator(t *testing.T) *esstest.Emulator {
	t.Helper()
	emu := esstest.New(esstest.Config{ActivityDuration: time.Minute})
	if err := emu.AddScalingGroup(group("asg-fuzz", "lb-1", "lb-2", "lb-3")); err != nil {
		t.Fatal(err)
	}
	return emu
}

// serve runs r through emu and checks the answer; it returns the ESS code of
// an error answer ("" on success).
func serve(t *testing.T, emu *esstest.Emulator, r *http.Request) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fuzzRequestTimeout)
	defer cancel()
	rec := httptest.NewRecorder()
	emu.ServeHTTP(rec, r.WithContext(ctx))
	body := rec.Body.Bytes()
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Errorf("%s %q: status %d with Content-Type %q, want JSON", r.Method, r.URL, rec.Code, rec.Header().Get("Content-Type"))
	}
	if rec.Code >= 200 && rec.Code < 300 {
		if !json.Valid(body) {
			t.Errorf("%s %q: status %d with a body that is not JSON: %q", r.Method, r.URL, rec.Code, body)
		}
		return ""
	}
	var fields map[string]any
	if err := json.Unmarshal(body, &fields); err != nil {
		t.Fatalf("%s %q: status %d with a body that is not a JSON object (%v): %q", r.Method, r.URL, rec.Code, err, body)
	}
	checkErrorBody(t, fields)
	if rec.Code < 400 || rec.Code > 599 {
		t.Errorf("%s %q: error %v with status %d, want 4xx or 5xx", r.Method, r.URL, fields["Code"], rec.Code)
	}
	code, _ := fields["Code"].(string)
	return code
}

// FuzzGatewayRaw sends arbitrary methods, paths (the ESS endpoint and the
// control endpoints alike), query strings, content types and bodies.
func FuzzGatewayRaw(f *testing.F) {
	valid := url.Values{}
	for k, v := range signed(http.MethodGet, commonParams(esstest.ActionDescribeScalingGroups), esstest.DefaultAccessKeySecret) {
		valid.Set(k, v)
	}
	const form = "application/x-www-form-urlencoded"
	seeds := []struct{ method, path, query, contentType, body string }{
		{"GET", "/", valid.Encode(), "", ""},
		{"POST", "/", "", form, valid.Encode()},
		{"POST", "/", valid.Encode() + "&Action=DetachLoadBalancers", form, ""},
		{"GET", "/", "Action=DetachLoadBalancers&LoadBalancer.0=x&LoadBalancer.x=y", "", ""},
		{"GET", "/", "%zz=1&a=%", "", ""},
		{"POST", "/", "", form, "a=1&a=2;b"},
		{"DELETE", "/", "", "", ""},
		{"GET", "/other", "", "", ""},
		{"POST", esstest.PathFaults, "", "application/json", `{"*":{"ErrorRate":2}}`},
		{"POST", esstest.PathScalingGroups, "", "application/json", `{"ScalingGroupId":"","LoadBalancerIds":[""]}`},
		{"GET", esstest.PathStats, "", "", ""},
		{"POST", esstest.PathScalingGroups + "/asg-fuzz/activities", "", "application/json", `{"Duration":"1s","StatusCode":"Failed"}`},
		{"POST", esstest.PathScalingGroups + "/asg%2Ffuzz/activities", "", "application/json", `{"StatusCode":"InProgress"}`},
		{"PUT", "/_emulator/nothing", "", "", "{"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.contentType, s.body)
	}
	f.Fuzz(func(t *testing.T, method, path, query, contentType, body string) {
		r := &http.Request{
			Method:        method,
			URL:           &url.URL{Path: path, RawQuery: query},
			Header:        http.Header{},
			Body:          io.NopCloser(strings.NewReader(body)),
			ContentLength: int64(len(body)),
			Host:          "ess.aliyuncs.com",
			RequestURI:    path + "?" + query,
		}
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		serve(t, fuzzEmulator(t), r)
	})
}

// FuzzSignedAction sends correctly signed requests whose action and
// parameters are fuzzed, so inputs get past the gateway into the actions.
// A signature made as the SDK makes it must always be accepted, whatever the
// parameters hold.
func FuzzSignedAction(f *testing.F) {
	type seed struct {
		action, group, lb1, lb2, async, token, page, activity, extraKey, extraValue string
		post                                                                        bool
	}
	seeds := []seed{
		{esstest.ActionDetachLoadBalancers, "asg-fuzz", "lb-1", "", "true", "tok-1", "", "", "", "", false},
		{esstest.ActionDetachLoadBalancers, "asg-fuzz", "lb-1", "lb-1", "false", "", "", "", "LoadBalancer.6", "lb-6", true},
		{esstest.ActionAttachLoadBalancers, "asg-fuzz", "lb-9", "", "maybe", strings.Repeat("t", 65), "", "", "", "", false},
		{esstest.ActionDescribeScalingActivities, "", "", "", "", "", "0", "asa-none", "PageSize", "51", false},
		{esstest.ActionDescribeScalingGroups, "asg-fuzz", "", "", "", "", "-1", "", "ScalingGroupId.21", "x", true},
		{"NoSuchAction", "", "", "", "", "", "", "", "", "", false},
		{esstest.ActionDescribeScalingActivities, "asg-fuzz", "", "", "", "", "1", "", "StatusCode", "InProgress", true},
		{esstest.ActionDescribeScalingGroups, "asg-fuzz", "", "", "", "", "", "", "Version", "2099-01-01", false},
		{esstest.ActionDetachLoadBalancers, "asg-fuzz", "lb-2", "", "", "ü\x00 +*~%", "", "", "Format", "XML", true},
	}
	for _, s := range seeds {
		f.Add(s.action, s.group, s.lb1, s.lb2, s.async, s.token, s.page, s.activity, s.extraKey, s.extraValue, s.post)
	}
	f.Fuzz(func(t *testing.T, action, group, lb1, lb2, async, token, page, activity, extraKey, extraValue string, post bool) {
		method := http.MethodGet
		if post {
			method = http.MethodPost
		}
		p := commonParams(action)
		for k, v := range map[string]string{
			"ScalingGroupId": group, "LoadBalancer.1": lb1, "LoadBalancer.2": lb2, "Async": async,
			"ClientToken": token, "PageNumber": page, "ScalingActivityId.1": activity,
		} {
			if v != "" {
				p[k] = v
			}
		}
		if extraKey != "" {
			p[extraKey] = extraValue
		}
		p = signed(method, p, esstest.DefaultAccessKeySecret)
		if extraKey == "Signature" {
			p["Signature"] = extraValue
		}
		v := url.Values{}
		for k, val := range p {
			v.Set(k, val)
		}
		r := httptest.NewRequest(method, "/", nil)
		if post {
			r = httptest.NewRequest(method, "/", strings.NewReader(v.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			r.URL.RawQuery = v.Encode()
		}
		code := serve(t, fuzzEmulator(t), r)
		if code == esstest.CodeSignatureDoesNotMatch && extraKey != "Signature" {
			t.Errorf("a correctly signed request was refused: %s %v", method, p)
		}
	})
}
