package esstest_test

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"essworker/essclient/esstest"
)

// groupActivitiesURL is the control endpoint that starts an activity of a group.
func groupActivitiesURL(srv *esstest.Server, groupID string) string {
	return srv.URL + esstest.PathScalingGroups + "/" + url.PathEscape(groupID) + "/activities"
}

// TestGroupActivity runs two of a group's own activities at once, one
// started over HTTP and one from Go, and shows that they block detaches and
// attaches until the last one ends, and change nothing in the group.
func TestGroupActivity(t *testing.T) {
	t.Parallel()
	srv, clock := newServer(t, esstest.Config{}, group("asg-1", "lb-1", "lb-2"))
	c := newSDK(t, srv)

	status, body := post(t, groupActivitiesURL(srv, "asg-1"),
		`{"Duration":"20s","StatusCode":"Warning","Description":"Add \"2\" ECS instances"}`)
	first, _ := body["ScalingActivityId"].(string)
	if status != http.StatusOK || !strings.HasPrefix(first, "asa-") {
		t.Fatalf("POST activities = %d %v, want 200 with a ScalingActivityId", status, body)
	}
	want := map[string]any{
		"ScalingActivityId": first, "ScalingGroupId": "asg-1", "StatusCode": "InProgress", "StatusMessage": "",
		"Progress": 0.0, "Cause": "The scaling group started this activity itself.", "Description": `Add "2" ECS instances`,
		"StartTime": "2026-11-25T09:54Z", "EndTime": "", "TotalCapacity": "0", "AttachedCapacity": "0",
		"AutoCreatedCapacity": "0", "ScalingInstanceNumber": 0.0,
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("POST activities answered %s = %#v, want %#v", k, body[k], v)
		}
	}
	if len(body) != len(want) {
		t.Errorf("POST activities answered %d fields, want %d: %v", len(body), len(want), body)
	}

	clock.Advance(10 * time.Second)
	second, err := srv.StartGroupActivity("asg-1", esstest.GroupActivity{Duration: esstest.Duration(20 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if second.StatusCode != "InProgress" || second.Description != "An activity of the scaling group." || !second.StartTime.Equal(epoch.Add(10*time.Second)) {
		t.Errorf("StartGroupActivity = %+v", second)
	}

	busy := func(running string) {
		t.Helper()
		_, err := c.detach("asg-1", false, "", "lb-1")
		wantServerError(t, err, http.StatusBadRequest, "ScalingActivityInProgress", running)
		_, err = c.attach("asg-1", true, "", "lb-3")
		wantServerError(t, err, http.StatusBadRequest, "ScalingActivityInProgress", running)
	}
	busy(first)

	resp, err := c.activities("asg-1", "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.ScalingActivities.ScalingActivity; resp.TotalCount != 2 || len(got) != 2 ||
		got[0].ScalingActivityId != second.ScalingActivityId || got[1].ScalingActivityId != first {
		t.Errorf("activities of asg-1 = %+v, want the second then the first", got)
	}
	if a := c.activity(first); a.StatusCode != "InProgress" || a.Progress != 50 || a.Description != `Add "2" ECS instances` {
		t.Errorf("first after 10s of 20s = %+v, want InProgress 50 with its Description", a)
	}

	clock.Advance(10 * time.Second)
	if a := c.activity(first); a.StatusCode != "Warning" || a.Progress != 100 || a.EndTime != "2026-11-25T09:54Z" ||
		a.StatusMessage != "The scaling activity partially succeeded." {
		t.Errorf("first at its end = %+v, want Warning 100 with an EndTime", a)
	}
	if a := c.activity(second.ScalingActivityId); a.StatusCode != "InProgress" || a.Progress != 50 {
		t.Errorf("second after 10s of 20s = %s %d, want InProgress 50", a.StatusCode, a.Progress)
	}
	busy(second.ScalingActivityId)

	clock.Advance(10 * time.Second)
	if a, ok := srv.Activity(second.ScalingActivityId); !ok || a.StatusCode != "Successful" || !a.EndTime.Equal(epoch.Add(30*time.Second)) {
		t.Errorf("Activity(second) = %+v, %v; want Successful at 30s", a, ok)
	}
	if got := lbsOf(t, srv, "asg-1"); !slices.Equal(got, []string{"lb-1", "lb-2"}) {
		t.Errorf("load balancers = %v: a group's own activity must change nothing", got)
	}
	c.mustDetach("asg-1", false, "", "lb-1")

	st := srv.Stats()
	if st.GroupActivitiesCreated != 2 || st.ActivitiesCreated != 0 || st.DetachesApplied != 1 ||
		st.Calls["DetachLoadBalancers"]["ScalingActivityInProgress"] != 2 || st.Calls["AttachLoadBalancers"]["ScalingActivityInProgress"] != 2 {
		t.Errorf("stats = %+v, want 2 group activities, no other, 1 detach applied, 2 busy answers per action", st)
	}
}

// TestGroupActivityEndings shows the default duration (the group's, else the
// Config's) and every status a group's own activity can end with.
func TestGroupActivityEndings(t *testing.T) {
	t.Parallel()
	slow := group("asg-slow", "lb-1")
	slow.ActivityDuration = esstest.Duration(time.Minute)
	slow.ActivityStatusCode = esstest.StatusFailed // for its detaches, not its own activities
	tests := []struct {
		group, body   string
		duration      time.Duration
		code, message string
	}{
		{"asg-1", `{}`, 10 * time.Second, "Successful", ""},
		{"asg-slow", `{}`, time.Minute, "Successful", ""},
		{"asg-slow", `{"Duration":"5s"}`, 5 * time.Second, "Successful", ""},
		{"asg-1", `{"StatusCode":"Successful"}`, 10 * time.Second, "Successful", ""},
		{"asg-1", `{"StatusCode":"Warning"}`, 10 * time.Second, "Warning", "The scaling activity partially succeeded."},
		{"asg-1", `{"StatusCode":"Failed"}`, 10 * time.Second, "Failed", "The scaling activity failed."},
		{"asg-1", `{"StatusCode":"Rejected"}`, 10 * time.Second, "Rejected", "The scaling activity was rejected."},
	}
	for _, tt := range tests {
		t.Run(tt.group+tt.body, func(t *testing.T) {
			t.Parallel()
			srv, clock := newServer(t, esstest.Config{ActivityDuration: 10 * time.Second}, group("asg-1", "lb-1"), slow)
			c := newSDK(t, srv)
			status, body := post(t, groupActivitiesURL(srv, tt.group), tt.body)
			id, _ := body["ScalingActivityId"].(string)
			if status != http.StatusOK || id == "" {
				t.Fatalf("POST activities = %d %v", status, body)
			}
			clock.Advance(tt.duration - time.Second)
			if a := c.activity(id); a.StatusCode != "InProgress" {
				t.Fatalf("a second before its end: %s, want InProgress", a.StatusCode)
			}
			clock.Advance(time.Second)
			if a := c.activity(id); a.StatusCode != tt.code || a.StatusMessage != tt.message || a.Progress != 100 {
				t.Errorf("at its end: %s %q %d, want %s %q 100", a.StatusCode, a.StatusMessage, a.Progress, tt.code, tt.message)
			}
			if got := lbsOf(t, srv, tt.group); !slices.Equal(got, []string{"lb-1"}) {
				t.Errorf("load balancers = %v, want [lb-1]", got)
			}
			c.mustDetach(tt.group, false, "", "lb-1")
		})
	}
}

// TestGroupActivityReplaysFirst shows that a ClientToken already answered is
// answered again while the group's own activity runs; only new requests wait.
func TestGroupActivityReplaysFirst(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{}, group("asg-1", "lb-1", "lb-2", "lb-3"))
	c := newSDK(t, srv)
	c.mustDetach("asg-1", false, "sync-tok", "lb-1")
	if _, err := c.attach("asg-1", false, "attach-tok", "lb-4"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.StartGroupActivity("asg-1", esstest.GroupActivity{Duration: esstest.Duration(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	c.mustDetach("asg-1", false, "sync-tok", "lb-1")
	if _, err := c.attach("asg-1", false, "attach-tok", "lb-4"); err != nil {
		t.Errorf("attach replay during the group's activity: %v", err)
	}
	_, err := c.detach("asg-1", false, "new-tok", "lb-2")
	wantServerError(t, err, http.StatusBadRequest, "ScalingActivityInProgress")
	_, err = c.detach("asg-1", false, "sync-tok", "lb-2")
	wantServerError(t, err, http.StatusBadRequest, "IdempotentParameterMismatch")

	if got := lbsOf(t, srv, "asg-1"); !slices.Equal(got, []string{"lb-2", "lb-3", "lb-4"}) {
		t.Errorf("load balancers = %v, want [lb-2 lb-3 lb-4]", got)
	}
	st := srv.Stats()
	if st.DetachesApplied != 1 || st.Calls["DetachLoadBalancers"]["OK"] != 2 || st.Calls["AttachLoadBalancers"]["OK"] != 2 {
		t.Errorf("stats = %+v, want 1 detach applied and 2 OK calls per action", st)
	}
}

func TestGroupActivityErrors(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{}, group("asg-1", "lb-1"))

	status, body := post(t, groupActivitiesURL(srv, "asg-nope"), `{}`)
	checkErrorBody(t, body)
	if status != http.StatusNotFound || body["Code"] != "InvalidScalingGroupId.NotFound" || !strings.Contains(body["Message"].(string), `"asg-nope"`) {
		t.Errorf("unknown group: %d %v, want 404 InvalidScalingGroupId.NotFound naming it", status, body)
	}

	bad := map[string]string{
		`{"Duration":"-1s"}`:           "Duration",
		`{"Duration":"soon"}`:          "Duration",
		`{"Duration":20}`:              "Duration",
		`{"StatusCode":"InProgress"}`:  "StatusCode",
		`{"StatusCode":"Done"}`:        "StatusCode",
		`{"Description":7}`:            "Description",
		`{"Colour":"blue"}`:            "Colour",
		``:                             "empty",
		`{} {}`:                        "trailing",
		`{"Duration":"1s","Extra":{}}`: "Extra",
	}
	for in, field := range bad {
		status, body := post(t, groupActivitiesURL(srv, "asg-1"), in)
		checkErrorBody(t, body)
		if msg, _ := body["Message"].(string); status != http.StatusBadRequest || body["Code"] != "InvalidParameter" || !strings.Contains(msg, field) {
			t.Errorf("POST activities %s = %d %v, want 400 InvalidParameter naming %s", in, status, body, field)
		}
	}

	req := mustRequest(t, http.MethodGet, groupActivitiesURL(srv, "asg-1"))
	if status, body := do(t, req); status != http.StatusMethodNotAllowed {
		t.Errorf("GET activities = %d %v, want 405", status, body)
	}
	for _, path := range []string{
		esstest.PathScalingGroups + "//activities",
		esstest.PathScalingGroups + "/asg-1/activity",
		esstest.PathScalingGroups + "/asg-1/x/activities",
	} {
		status, body := post(t, srv.URL+path, `{}`)
		checkErrorBody(t, body)
		if status != http.StatusNotFound || body["Code"] != "NotFound" {
			t.Errorf("POST %s = %d %v, want 404 NotFound", path, status, body)
		}
	}

	if _, err := srv.StartGroupActivity("asg-nope", esstest.GroupActivity{}); !errors.Is(err, esstest.ErrGroupNotFound) {
		t.Errorf("StartGroupActivity(unknown group) = %v, want ErrGroupNotFound", err)
	}
	_, err := srv.StartGroupActivity("asg-1", esstest.GroupActivity{StatusCode: "Pending"})
	if !errors.Is(err, esstest.ErrInvalidState) || !strings.Contains(err.Error(), "StatusCode") {
		t.Errorf("StartGroupActivity(bad StatusCode) = %v, want ErrInvalidState naming StatusCode", err)
	}
	if st := srv.Stats(); st.GroupActivitiesCreated != 0 {
		t.Errorf("GroupActivitiesCreated = %d after only errors, want 0", st.GroupActivitiesCreated)
	}
	if _, err := newSDK(t, srv).detach("asg-1", false, "", "lb-1"); err != nil {
		t.Errorf("detach after failed starts: %v", err)
	}
}

// TestGroupActivityEscapedID names a group whose ID needs escaping in a path.
func TestGroupActivityEscapedID(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{}, group("asg/odd id", "lb-1"))
	status, body := post(t, groupActivitiesURL(srv, "asg/odd id"), `{}`)
	if status != http.StatusOK || body["ScalingGroupId"] != "asg/odd id" {
		t.Errorf("POST activities of %q = %d %v", "asg/odd id", status, body)
	}
}
