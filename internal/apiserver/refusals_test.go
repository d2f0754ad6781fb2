package apiserver

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"essworker/tasks"
)

// TestRefusals sends every kind of bad request: each answers its status and
// code in the one error shape, and none queues anything.
func TestRefusals(t *testing.T) {
	t.Parallel()
	a := startAPI(t, "", nil)
	huge := `{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"],"ClientToken":"` + strings.Repeat("x", tasks.MaxPayloadSize) + `"}`
	cases := []struct {
		name, method, path, token, contentType string
		body                                   io.Reader
		status                                 int
		code, field                            string
	}{
		{"no token", "POST", "/v1/detach-jobs", "", "application/json", strings.NewReader(oneJob), 401, codeUnauthorized, ""},
		{"wrong token", "POST", "/v1/detach-jobs", "not-a-token-of-the-file", "application/json", strings.NewReader(oneJob), 401, codeUnauthorized, ""},
		{"token prefix", "POST", "/v1/detach-jobs", tokenCI[:len(tokenCI)-1], "application/json", strings.NewReader(oneJob), 401, codeUnauthorized, ""},
		{"status without token", "GET", "/v1/detach-jobs/req-1", "", "", nil, 401, codeUnauthorized, ""},
		{"text body", "POST", "/v1/detach-jobs", tokenCI, "text/plain", strings.NewReader(oneJob), 415, codeUnsupportedMediaType, ""},
		{"no content type", "POST", "/v1/detach-jobs", tokenCI, "", strings.NewReader(oneJob), 415, codeUnsupportedMediaType, ""},
		{"json lookalike", "POST", "/v1/detach-jobs", tokenCI, "application/jsonl", strings.NewReader(oneJob), 415, codeUnsupportedMediaType, ""},
		{"too large", "POST", "/v1/detach-jobs", tokenCI, "application/json", strings.NewReader(huge), 413, codePayloadTooLarge, ""},
		{"too large, chunked", "POST", "/v1/detach-jobs", tokenCI, "application/json", io.MultiReader(strings.NewReader(huge)), 413, codePayloadTooLarge, ""},
		{"malformed JSON", "POST", "/v1/detach-jobs", tokenCI, "application/json", strings.NewReader(`{"ScalingGroupId":`), 400, codeInvalidPayload, ""},
		{"empty body", "POST", "/v1/detach-jobs", tokenCI, "application/json", strings.NewReader(""), 400, codeInvalidPayload, ""},
		{"unknown field", "POST", "/v1/detach-jobs", tokenCI, "application/json", strings.NewReader(`{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"],"Force":true}`), 400, codeInvalidPayload, "Force"},
		{"no group", "POST", "/v1/detach-jobs", tokenCI, "application/json", strings.NewReader(`{"LoadBalancerIds":["lb-1"]}`), 400, codeInvalidPayload, "ScalingGroupId"},
		{"no load balancers", "POST", "/v1/detach-jobs", tokenCI, "application/json", strings.NewReader(`{"ScalingGroupId":"asg-1","LoadBalancerIds":[]}`), 400, codeInvalidPayload, "LoadBalancerIds"},
		{"repeated load balancer in the second job", "POST", "/v1/detach-jobs", tokenCI, "application/json", strings.NewReader(`{"ScalingGroupId":"asg-1","LoadBalancerIds":["a","b","c","d","e","f","a"]}`), 400, codeInvalidPayload, "LoadBalancerIds[6]"},
		{"long token", "POST", "/v1/detach-jobs", tokenCI, "application/json", strings.NewReader(`{"ScalingGroupId":"asg-1","LoadBalancerIds":["a"],"ClientToken":"` + strings.Repeat("t", 65) + `"}`), 400, codeInvalidPayload, "ClientToken"},
		{"array body", "POST", "/v1/detach-jobs", tokenCI, "application/json", strings.NewReader(`[` + oneJob + `]`), 400, codeInvalidPayload, ""},
		{"empty queue", "POST", "/v1/detach-jobs?queue=", tokenCI, "application/json", strings.NewReader(oneJob), 400, codeInvalidParameter, "queue"},
		{"queue with a space", "POST", "/v1/detach-jobs?queue=a%20b", tokenCI, "application/json", strings.NewReader(oneJob), 400, codeInvalidParameter, "queue"},
		{"queue twice", "POST", "/v1/detach-jobs?queue=a&queue=b", tokenCI, "application/json", strings.NewReader(oneJob), 400, codeInvalidParameter, "queue"},
		{"unknown parameter", "POST", "/v1/detach-jobs?queu=a", tokenCI, "application/json", strings.NewReader(oneJob), 400, codeInvalidParameter, "queu"},
		{"bad wait", "GET", "/v1/detach-jobs/req-1?wait=soon", tokenCI, "", nil, 400, codeInvalidParameter, "wait"},
		{"negative wait", "GET", "/v1/detach-jobs/req-1?wait=-1s", tokenCI, "", nil, 400, codeInvalidParameter, "wait"},
		{"wait over 60s", "GET", "/v1/detach-jobs/req-1?wait=61s", tokenCI, "", nil, 400, codeInvalidParameter, "wait"},
		{"unknown job", "GET", "/v1/detach-jobs/never-submitted", tokenCI, "", nil, 404, codeNotFound, ""},
		{"token too long to be a job", "GET", "/v1/detach-jobs/" + strings.Repeat("t", 65), tokenCI, "", nil, 404, codeNotFound, ""},
		{"unknown route", "GET", "/v2/detach-jobs", tokenCI, "", nil, 404, codeNotFound, ""},
		{"GET on the submit route", "GET", "/v1/detach-jobs", tokenCI, "", nil, 405, codeMethodNotAllowed, ""},
		{"DELETE on a job", "DELETE", "/v1/detach-jobs/req-1", tokenCI, "", nil, 405, codeMethodNotAllowed, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := a.doWith(t, tc.method, tc.path, tc.token, tc.contentType, tc.body)
			r.wantError(t, tc.status, tc.code, tc.field)
			if tc.status == http.StatusUnauthorized && r.header.Get("WWW-Authenticate") != `Bearer realm="essworker"` {
				t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
		})
	}
	if n := a.totalTasks(t); n != 0 {
		t.Fatalf("%d tasks queued by refused requests", n)
	}
	if !strings.Contains(a.logs.String(), `"msg":"unauthorized request"`) {
		t.Errorf("no unauthorized request logged:\n%s", a.logs.String())
	}
}
