package apiserver

import (
	"bytes"
	"context"
	stdjson "encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/hibiken/asynq"

	"essworker/api"
	"essworker/tasks"
)

// documented are the statuses the API answers on each job route; the
// document must describe each, with a JSON schema, and nothing else.
var documented = map[string][]int{
	"POST /v1/detach-jobs":               {200, 202, 400, 401, 409, 413, 415, 503},
	"GET /v1/detach-jobs/{client_token}": {200, 400, 401, 404, 503},
	"POST /v1/drain-jobs":                {200, 202, 400, 401, 409, 413, 415, 503},
	"GET /v1/drain-jobs/{client_token}":  {200, 400, 401, 404, 503},
}

// loadDocument loads and validates api/openapi.yaml with kin-openapi.
func loadDocument(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatalf("load api/openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("api/openapi.yaml is not a valid OpenAPI 3 document: %v", err)
	}
	return doc
}

func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	doc := loadDocument(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.0") {
		t.Errorf("openapi %q, want 3.0.x", doc.OpenAPI)
	}
	if s := doc.Components.SecuritySchemes["bearer"]; s == nil || s.Value.Type != "http" || s.Value.Scheme != "bearer" {
		t.Fatalf("no bearer security scheme: %+v", s)
	}
	for route, statuses := range documented {
		method, path, _ := strings.Cut(route, " ")
		item := doc.Paths.Find(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Fatalf("%s: not in the document", route)
		}
		op := item.GetOperation(method)
		if op.Security == nil || len(*op.Security) != 1 || (*op.Security)[0]["bearer"] == nil {
			t.Errorf("%s: does not require the bearer scheme", route)
		}
		if op.Responses.Default() != nil {
			t.Errorf("%s: has a catch-all default response", route)
		}
		var got []int
		for code, resp := range op.Responses.Map() {
			n, _ := strconv.Atoi(code)
			got = append(got, n)
			mt := resp.Value.Content.Get("application/json")
			if mt == nil || mt.Schema == nil {
				t.Errorf("%s %s: no application/json schema", route, code)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, statuses) {
			t.Errorf("%s: documented statuses %v, want %v", route, got, statuses)
		}
	}
	post := doc.Paths.Find("/v1/detach-jobs").Post
	if post.RequestBody == nil || post.RequestBody.Value.Content.Get("application/json").Schema.Value.Properties["LoadBalancerIds"] == nil {
		t.Error("POST has no request body schema with LoadBalancerIds")
	}
	drain := doc.Paths.Find("/v1/drain-jobs").Post
	if drain.RequestBody == nil || drain.RequestBody.Value.Content.Get("application/json").Schema.Value.Properties["LoadBalancerId"] == nil {
		t.Error("POST /v1/drain-jobs has no request body schema with LoadBalancerId")
	}
}

// validator checks real requests and answers of a running server against
// the document.
type validator struct {
	t      *testing.T
	a      *testAPI
	router routers.Router
	seen   map[string]map[int]bool // route -> statuses validated
}

func newValidator(t *testing.T, a *testAPI) *validator {
	doc := loadDocument(t)
	doc.Servers = openapi3.Servers{{URL: a.URL()}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &validator{t: t, a: a, router: router, seen: map[string]map[int]bool{}}
}

var validationOptions = &openapi3filter.Options{
	IncludeResponseStatus: true,
	MultiError:            true,
	AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
		if !strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
			return in.NewError(nil)
		}
		return nil
	},
}

// check sends a request, validates it when validRequest (a request the
// document allows) and its answer always, and returns the answer's status.
func (v *validator) check(method, path, token, contentType, body string, validRequest bool) int {
	t := v.t
	t.Helper()
	newRequest := func() *http.Request {
		req, err := http.NewRequest(method, v.a.URL()+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		return req
	}
	// The validation may rewrite the body it checks (it fills in defaults),
	// so the request sent is another copy.
	req := newRequest()
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: no route in the document: %v", method, path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: validationOptions}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	if validRequest && reqErr != nil {
		t.Errorf("%s %s: request the document should allow: %v", method, path, reqErr)
	}
	if !validRequest && reqErr == nil {
		t.Errorf("%s %s: request the document should refuse passed its validation", method, path)
	}
	resp, err := http.DefaultClient.Do(newRequest())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(b)), Options: validationOptions,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s: answer %d %s does not match the document: %v", method, path, resp.StatusCode, b, err)
	}
	key := route.Method + " " + route.Path
	if v.seen[key] == nil {
		v.seen[key] = map[int]bool{}
	}
	v.seen[key][resp.StatusCode] = true
	if resp.StatusCode == http.StatusOK && strings.Contains(string(b), `"result"`) {
		v.seen[key][0] = true // an answer with a result object was validated
	}
	return resp.StatusCode
}

// oneDrain is a drain request of the tests.
const oneDrain = `{"LoadBalancerId":"lb-1","Async":true,"ClientToken":"drain-1"}`

// TestAnswersMatchOpenAPI drives the running server through every documented
// status of both job routes and validates each request and answer with
// kin-openapi's openapi3filter.
func TestAnswersMatchOpenAPI(t *testing.T) {
	t.Parallel()
	a := startAPI(t, "", nil)
	v := newValidator(t, a)
	const json = "application/json"
	huge := `{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"],"ClientToken":"` + strings.Repeat("x", 70<<10) + `"}`
	seven := `{"ScalingGroupId":"asg-7","LoadBalancerIds":["a","b","c","d","e","f","g"],"ClientToken":"big","Async":true}`
	steps := []struct {
		method, path, token, contentType, body string
		valid                                  bool
		status                                 int
	}{
		{"POST", "/v1/detach-jobs", tokenCI, json, oneJob, true, 202},
		{"POST", "/v1/detach-jobs", tokenCI, json + "; charset=utf-8", oneJob, true, 200},
		{"POST", "/v1/detach-jobs?queue=q7", tokenCI, json, seven, true, 202},
		{"POST", "/v1/detach-jobs", tokenCI, json, `{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"],"ClientToken":"req-1"}`, true, 409},
		{"POST", "/v1/detach-jobs", tokenCI, json, `{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"],"Force":true}`, false, 400},
		{"POST", "/v1/detach-jobs", tokenCI, json, `{"ScalingGroupId":`, false, 400},
		{"POST", "/v1/detach-jobs?queue=", tokenCI, json, oneJob, false, 400},
		{"POST", "/v1/detach-jobs", "", json, oneJob, false, 401},
		{"POST", "/v1/detach-jobs", tokenCI, json, huge, false, 413},
		{"POST", "/v1/detach-jobs", tokenCI, "text/plain", oneJob, false, 415},
		{"POST", "/v1/detach-jobs?in=90m", tokenCI, json, `{"ScalingGroupId":"asg-8","LoadBalancerIds":["lb-1"],"ClientToken":"later"}`, true, 202},
		{"POST", "/v1/detach-jobs?at=2020-01-01T00:00:00Z", tokenCI, json, oneJob, true, 400},
		{"POST", "/v1/detach-jobs?in=soon", tokenCI, json, oneJob, true, 400},
		{"GET", "/v1/detach-jobs/later", tokenCI, "", "", true, 200},
		{"GET", "/v1/detach-jobs/req-1", tokenCI, "", "", true, 200},
		{"GET", "/v1/detach-jobs/req-1?wait=50ms", tokenCI, "", "", true, 200},
		{"GET", "/v1/detach-jobs/big", tokenCI, "", "", true, 404},
		{"GET", "/v1/detach-jobs/req-1?wait=2m", tokenCI, "", "", true, 400},
		{"GET", "/v1/detach-jobs/req-1", "", "", "", false, 401},
		{"POST", "/v1/drain-jobs?queue=q7", tokenCI, json, oneDrain, true, 202},
		{"POST", "/v1/drain-jobs?queue=q7", tokenCI, json + "; charset=utf-8", oneDrain, true, 200},
		{"POST", "/v1/drain-jobs", tokenCI, json, oneDrain, true, 409},
		{"POST", "/v1/drain-jobs", tokenCI, json, `{"LoadBalancerIds":["lb-1"]}`, false, 400},
		{"POST", "/v1/drain-jobs?queue=", tokenCI, json, oneDrain, false, 400},
		{"POST", "/v1/drain-jobs", "", json, oneDrain, false, 401},
		{"POST", "/v1/drain-jobs", tokenCI, json, `{"LoadBalancerId":"lb-1","ClientToken":"` + strings.Repeat("x", 70<<10) + `"}`, false, 413},
		{"POST", "/v1/drain-jobs", tokenCI, "text/plain", oneDrain, false, 415},
		{"GET", "/v1/drain-jobs/drain-1", tokenCI, "", "", true, 200},
		{"GET", "/v1/drain-jobs/req-1", tokenCI, "", "", true, 404},
		{"GET", "/v1/drain-jobs/drain-1?wait=2m", tokenCI, "", "", true, 400},
		{"GET", "/v1/drain-jobs/drain-1", "", "", "", false, 401},
	}
	for _, s := range steps {
		if got := v.check(s.method, s.path, s.token, s.contentType, s.body, s.valid); got != s.status {
			t.Errorf("%s %s: answered %d, want %d", s.method, s.path, got, s.status)
		}
	}
	// A job that ends with a result: its answer carries the result object.
	srv := asynq.NewServer(asynq.RedisClientOpt{Addr: a.redis.Addr}, asynq.Config{
		Queues: map[string]int{"q7": 1}, Concurrency: 1, LogLevel: asynq.FatalLevel,
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(tasks.TypeDetachLoadBalancers, func(_ context.Context, task *asynq.Task) error {
		res, _ := stdjson.Marshal(tasks.DetachResult{Outcome: tasks.OutcomeDetached, ScalingGroupId: "asg-7",
			LoadBalancerIds: []string{"a"}, Async: true, ScalingActivityId: "asa-1", StatusCode: "Successful",
			RequestIds: []string{"r-1"}, Attempts: 1})
		_, err := task.ResultWriter().Write(res)
		return err
	})
	mux.HandleFunc(tasks.TypeDrainLoadBalancer, func(_ context.Context, task *asynq.Task) error {
		res, _ := stdjson.Marshal(tasks.DrainResult{Outcome: tasks.OutcomeFannedOut, ClientToken: "drain-1", RegionId: "cn-hangzhou",
			LoadBalancerId: "lb-1", Groups: []tasks.DrainGroup{{ScalingGroupId: "asg-1", TaskId: "detach:t", ClientToken: "t"}},
			RequestIds: []string{"r-1"}, Attempts: 1})
		_, err := task.ResultWriter().Write(res)
		return err
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	if got := v.check("GET", "/v1/detach-jobs/"+tasks.ChunkToken("big", 1)+"?wait=20s", tokenCI, "", "", true); got != http.StatusOK {
		t.Errorf("GET of a job that ends: %d", got)
	}
	if got := v.check("GET", "/v1/drain-jobs/drain-1?wait=20s", tokenCI, "", "", true); got != http.StatusOK {
		t.Errorf("GET of a drain that ends: %d", got)
	}
	srv.Shutdown()
	a.redis.RequireReal(t)
	a.redis.Stop(t)
	if got := v.check("POST", "/v1/detach-jobs", tokenCI, json, oneJob, true); got != http.StatusServiceUnavailable {
		t.Errorf("POST with Redis stopped: %d, want 503", got)
	}
	if got := v.check("GET", "/v1/detach-jobs/req-1", tokenCI, "", "", true); got != http.StatusServiceUnavailable {
		t.Errorf("GET with Redis stopped: %d, want 503", got)
	}
	if got := v.check("POST", "/v1/drain-jobs", tokenCI, json, oneDrain, true); got != http.StatusServiceUnavailable {
		t.Errorf("POST of a drain with Redis stopped: %d, want 503", got)
	}
	if got := v.check("GET", "/v1/drain-jobs/drain-1", tokenCI, "", "", true); got != http.StatusServiceUnavailable {
		t.Errorf("GET of a drain with Redis stopped: %d, want 503", got)
	}
	a.redis.Restart(t)
	if !v.seen["GET /v1/detach-jobs/{client_token}"][0] {
		t.Error("no job answer with a result was validated")
	}
	if !v.seen["GET /v1/drain-jobs/{client_token}"][0] {
		t.Error("no drain answer with a result was validated")
	}
	for route, statuses := range documented {
		for _, code := range statuses {
			if !v.seen[route][code] {
				t.Errorf("%s %d: never answered and validated", route, code)
			}
		}
	}
}

// TestServesDocumentByteForByte: GET /v1/openapi.yaml, without a token, is
// api/openapi.yaml as it is in the tree.
func TestServesDocumentByteForByte(t *testing.T) {
	t.Parallel()
	a := startAPI(t, "", nil)
	onDisk, err := os.ReadFile("../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := a.do(t, "GET", "/v1/openapi.yaml", "", "")
	if r.status != http.StatusOK || !bytes.Equal(r.body, onDisk) || len(onDisk) == 0 {
		t.Fatalf("GET /v1/openapi.yaml: %d, %d bytes; want 200 and the %d bytes of api/openapi.yaml", r.status, len(r.body), len(onDisk))
	}
	if ct := r.header.Get("Content-Type"); ct != "application/yaml" {
		t.Errorf("Content-Type %q", ct)
	}
}
