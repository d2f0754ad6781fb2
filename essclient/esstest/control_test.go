package esstest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"essworker/essclient/esstest"
)

func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

func TestControlStatsShape(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{}, group("asg-1", "lb-1", "lb-2"))
	c := newSDK(t, srv)
	c.mustDetach("asg-1", true, "", "lb-1")
	_, _ = c.detach("asg-1", false, "", "lb-2") // ScalingActivityInProgress
	if _, err := srv.StartGroupActivity("asg-1", esstest.GroupActivity{}); err != nil {
		t.Fatal(err)
	}

	resp, err := http.Get(srv.URL + esstest.PathStats)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Calls":{"DetachLoadBalancers":{"OK":1,"ScalingActivityInProgress":1}},"ActivitiesCreated":1,"DetachesApplied":0,"GroupActivitiesCreated":1}`
	if got := strings.TrimSpace(string(b)); resp.StatusCode != 200 || got != want {
		t.Errorf("GET /_emulator/stats = %d %s, want %s", resp.StatusCode, got, want)
	}

	empty, _ := newServer(t, esstest.Config{})
	_, body := do(t, mustRequest(t, http.MethodGet, empty.URL+esstest.PathStats))
	if calls, ok := body["Calls"].(map[string]any); !ok || len(calls) != 0 {
		t.Errorf("fresh stats Calls = %#v, want {}", body["Calls"])
	}
}

func TestControlFaults(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{}, group("asg-1", "lb-1"))
	c := newSDK(t, srv)

	status, body := post(t, srv.URL+esstest.PathFaults,
		`{"DetachLoadBalancers":{"ErrorRate":1,"ErrorCodes":["InternalError"],"Latency":"20ms","LostAnswerRate":0,"ThrottleQPS":20,"ErrorAfterWorkRate":0.5,"Status":502}}`)
	if plan, _ := body["DetachLoadBalancers"].(map[string]any); status != 200 || plan["Status"] != 502.0 {
		t.Fatalf("POST faults: %d %v", status, body)
	}
	if got := srv.Faults()["DetachLoadBalancers"]; got.Latency != esstest.Duration(20*time.Millisecond) || got.ThrottleQPS != 20 ||
		got.ErrorAfterWorkRate != 0.5 || got.Status == nil || *got.Status != 502 {
		t.Errorf("plan = %+v", got)
	}
	_, err := c.detach("asg-1", false, "", "lb-1")
	wantServerError(t, err, http.StatusBadGateway, "InternalError")

	if status, body := post(t, srv.URL+esstest.PathFaults, `{}`); status != 200 {
		t.Fatalf("POST {}: %d %v", status, body)
	}
	c.mustDetach("asg-1", false, "", "lb-1")

	bad := map[string]string{
		`{"DetachLoadBalancers":{"ErrorRat":1}}`:            "ErrorRat",
		`{"DetachLoadBalancers":{"ErrorRate":"high"}}`:      "ErrorRate",
		`{"DetachLoadBalancers":{"Latency":"soon"}}`:        "Latency",
		`{"DetachLoadBalancers":{"Latency":200}}`:           "Latency",
		`{"DetachLoadBalancers":{"ErrorRate":2}}`:           "ErrorRate",
		`{"DetachLoadBalancers":{"ErrorAfterWorkRate":-1}}`: "ErrorAfterWorkRate",
		`{"DetachLoadBalancers":{"Status":600}}`:            "Status",
		`{"DetachLoadBalancers":{"Status":"503"}}`:          "Status",
		`{"DetachLoadBalancers":{"Status":503.5}}`:          "Status",
		`{"Detach":{}}`: "Detach",
		`[]`:            "fault plan",
		`{} {}`:         "trailing",
	}
	for in, field := range bad {
		status, body := post(t, srv.URL+esstest.PathFaults, in)
		checkErrorBody(t, body)
		if msg, _ := body["Message"].(string); status != 400 || !strings.Contains(msg, field) {
			t.Errorf("POST faults %s = %d %q, want 400 naming %s", in, status, msg, field)
		}
	}
}

func TestControlScalingGroups(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{})
	c := newSDK(t, srv)

	status, body := post(t, srv.URL+esstest.PathScalingGroups,
		`{"ScalingGroupId":"asg-new","RegionId":"cn-hangzhou","LoadBalancerIds":["lb-1","lb-2"]}`)
	if status != 200 || body["LifecycleState"] != "Active" {
		t.Fatalf("POST scaling-groups: %d %v", status, body)
	}
	c.mustDetach("asg-new", false, "", "lb-1")
	// Replace it.
	if status, body := post(t, srv.URL+esstest.PathScalingGroups,
		`{"ScalingGroupId":"asg-new","LoadBalancerIds":["lb-7"],"ActivityStatusCode":"Failed","ActivityDuration":"1s"}`); status != 200 {
		t.Fatalf("replace: %d %v", status, body)
	}
	if got := lbsOf(t, srv, "asg-new"); !slices.Equal(got, []string{"lb-7"}) {
		t.Errorf("after replace: %v", got)
	}

	resp, err := http.Get(srv.URL + esstest.PathScalingGroups)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var groups []esstest.ScalingGroup
	if err := json.NewDecoder(resp.Body).Decode(&groups); err != nil || len(groups) != 1 || groups[0].ActivityDuration != esstest.Duration(time.Second) {
		t.Errorf("GET scaling-groups = %+v, %v", groups, err)
	}

	bad := map[string]string{
		`{"LoadBalancerIds":["lb-1"]}`:                       "ScalingGroupId",
		`{"ScalingGroupId":"g","LoadBalancerIds":["a","a"]}`: "LoadBalancerIds[1]",
		tooManyLBs(): "LoadBalancerIds",
		`{"ScalingGroupId":"g","LoadBalancerIds":"lb-1"}`:    "LoadBalancerIds",
		`{"ScalingGroupId":"g","LifecycleState":"Sleeping"}`: "LifecycleState",
		`{"ScalingGroupId":"g","ActivityStatusCode":"Done"}`: "ActivityStatusCode",
		`{"ScalingGroupId":"g","Colour":"blue"}`:             "Colour",
	}
	for in, field := range bad {
		status, body := post(t, srv.URL+esstest.PathScalingGroups, in)
		checkErrorBody(t, body)
		if msg, _ := body["Message"].(string); status != 400 || !strings.Contains(msg, field) {
			t.Errorf("POST scaling-groups %s = %d %q, want 400 naming %s", in, status, msg, field)
		}
	}
	if _, ok := srv.ScalingGroup("g"); ok {
		t.Error("an invalid group was added")
	}

	for _, req := range []*http.Request{
		mustRequest(t, http.MethodDelete, srv.URL+esstest.PathStats),
		mustRequest(t, http.MethodGet, srv.URL+"/_emulator/nothing"),
	} {
		status, body := do(t, req)
		checkErrorBody(t, body)
		if status != http.StatusMethodNotAllowed && status != http.StatusNotFound {
			t.Errorf("%s %s = %d", req.Method, req.URL.Path, status)
		}
	}
}

func TestLoadState(t *testing.T) {
	t.Parallel()
	st, err := esstest.LoadState(strings.NewReader(`{"AccessKeys":{"TESTAKID":"TESTSECRET"},
	 "ScalingGroups":[{"ScalingGroupId":"asg-demo-1","RegionId":"cn-hangzhou","LoadBalancerIds":["lb-demo-1","lb-demo-2"]},
	                  {"ScalingGroupId":"asg-demo-2","LoadBalancerIds":[],"ActivityDuration":"500ms"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.ScalingGroups) != 2 || st.ScalingGroups[1].RegionId != esstest.DefaultRegionID ||
		st.ScalingGroups[1].ActivityDuration != esstest.Duration(500*time.Millisecond) || st.AccessKeys["TESTAKID"] != "TESTSECRET" {
		t.Errorf("state = %+v", st)
	}

	bad := map[string]string{
		``:              "empty",
		`{"Groups":[]}`: "Groups",
		`{"ScalingGroups":[{"ScalingGroupId":"a"},{"ScalingGroupId":"a"}]}`:     "ScalingGroups[1].ScalingGroupId",
		`{"ScalingGroups":[{"ScalingGroupId":"a","LoadBalancerIds":[""]}]}`:     "ScalingGroups[0].LoadBalancerIds[0]",
		`{"ScalingGroups":[{"ScalingGroupId":"a","ActivityDuration":"-1s"}]}`:   "ScalingGroups[0].ActivityDuration",
		`{"ScalingGroups":[{"ScalingGroupId":"a","ActivityDuration":"later"}]}`: "ActivityDuration",
		`{"AccessKeys":{"AK":""}}`:                 "AccessKeys",
		`{"ScalingGroups":[{"ScalingGroupId":7}]}`: "ScalingGroupId",
	}
	for in, field := range bad {
		_, err := esstest.LoadState(strings.NewReader(in))
		if !errors.Is(err, esstest.ErrInvalidState) || !strings.Contains(err.Error(), field) {
			t.Errorf("LoadState(%s) = %v, want ErrInvalidState naming %s", in, err, field)
		}
	}
}

func TestNewPanicsOnInvalidConfig(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("New with a negative ActivityDuration did not panic")
		}
	}()
	esstest.New(esstest.Config{ActivityDuration: -time.Second})
}

// tooManyLBs is a group with one load balancer more than a seeded group may have.
func tooManyLBs() string {
	ids := make([]string, esstest.MaxSeededLoadBalancers+1)
	for i := range ids {
		ids[i] = fmt.Sprintf("lb-%d", i)
	}
	b, _ := json.Marshal(esstest.ScalingGroup{ScalingGroupId: "g", LoadBalancerIds: ids})
	return string(b)
}
