package esstest_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ess"

	"essworker/essclient/esstest"
)

func TestDetachSync(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{}, group("asg-1", "lb-1", "lb-2", "lb-3"))
	c := newSDK(t, srv)

	resp := c.mustDetach("asg-1", false, "", "lb-1", "lb-3")
	if resp.ScalingActivityId != "" {
		t.Errorf("sync detach answered ScalingActivityId %q, want none", resp.ScalingActivityId)
	}
	if resp.RequestId == "" {
		t.Error("no RequestId")
	}
	if got := lbsOf(t, srv, "asg-1"); !slices.Equal(got, []string{"lb-2"}) {
		t.Errorf("load balancers after detach = %v, want [lb-2]", got)
	}
	st := srv.Stats()
	if st.DetachesApplied != 1 || st.ActivitiesCreated != 0 || st.Calls["DetachLoadBalancers"]["OK"] != 1 {
		t.Errorf("stats = %+v, want 1 detach applied, 0 activities, 1 OK call", st)
	}
}

func TestDetachAsyncActivity(t *testing.T) {
	t.Parallel()
	srv, clock := newServer(t, esstest.Config{ActivityDuration: 10 * time.Second}, group("asg-1", "lb-1", "lb-2"))
	c := newSDK(t, srv)

	id := c.mustDetach("asg-1", true, "", "lb-1").ScalingActivityId
	if !strings.HasPrefix(id, "asa-") {
		t.Fatalf("ScalingActivityId = %q, want asa-...", id)
	}
	a := c.activity(id)
	if a.StatusCode != "InProgress" || a.EndTime != "" || a.ScalingGroupId != "asg-1" || a.StartTime != "2026-11-25T09:54Z" {
		t.Errorf("at start: %+v, want InProgress, no EndTime, StartTime 2026-11-25T09:54Z", a)
	}
	if got := lbsOf(t, srv, "asg-1"); !slices.Equal(got, []string{"lb-1", "lb-2"}) {
		t.Errorf("load balancers during the activity = %v, want both still attached", got)
	}

	clock.Advance(4 * time.Second)
	mid := c.activity(id)
	if mid.StatusCode != "InProgress" || mid.Progress != 40 {
		t.Errorf("after 4s of 10s: %s progress %d, want InProgress 40", mid.StatusCode, mid.Progress)
	}
	if st := srv.Stats(); st.DetachesApplied != 0 || st.ActivitiesCreated != 1 {
		t.Errorf("stats during the activity = %+v, want 0 applied, 1 activity", st)
	}

	clock.Advance(6 * time.Second)
	end := c.activity(id)
	if end.StatusCode != "Successful" || end.Progress != 100 || end.EndTime != "2026-11-25T09:54Z" {
		t.Errorf("after 10s: %+v, want Successful, progress 100, EndTime 2026-11-25T09:54Z", end)
	}
	if got := lbsOf(t, srv, "asg-1"); !slices.Equal(got, []string{"lb-2"}) {
		t.Errorf("load balancers after the activity = %v, want [lb-2]", got)
	}
	if st := srv.Stats(); st.DetachesApplied != 1 {
		t.Errorf("DetachesApplied = %d, want 1", st.DetachesApplied)
	}
	if got, ok := srv.Activity(id); !ok || got.StatusCode != "Successful" || !got.EndTime.Equal(epoch.Add(10*time.Second)) {
		t.Errorf("Activity(%s) = %+v, %v", id, got, ok)
	}
}

func TestOneActivityPerGroup(t *testing.T) {
	t.Parallel()
	srv, clock := newServer(t, esstest.Config{}, group("asg-1", "lb-1", "lb-2"), group("asg-2", "lb-9"))
	c := newSDK(t, srv)
	running := c.mustDetach("asg-1", true, "", "lb-1").ScalingActivityId

	tests := []struct {
		name string
		call func() error
	}{
		{"async detach", func() error { _, err := c.detach("asg-1", true, "", "lb-2"); return err }},
		{"sync detach", func() error { _, err := c.detach("asg-1", false, "", "lb-2"); return err }},
		{"sync attach", func() error { _, err := c.attach("asg-1", false, "", "lb-3"); return err }},
		{"async attach", func() error { _, err := c.attach("asg-1", true, "", "lb-3"); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantServerError(t, tt.call(), http.StatusBadRequest, "ScalingActivityInProgress", running)
		})
	}
	// Another group is not blocked.
	c.mustDetach("asg-2", false, "", "lb-9")

	clock.Advance(esstest.DefaultActivityDuration)
	c.mustDetach("asg-1", false, "", "lb-2")
	if got := lbsOf(t, srv, "asg-1"); len(got) != 0 {
		t.Errorf("load balancers = %v, want none", got)
	}
}

func TestDetachErrors(t *testing.T) {
	t.Parallel()
	six := []string{"lb-1", "lb-2", "lb-3", "lb-4", "lb-5", "lb-6"}
	tests := []struct {
		name   string
		group  string
		lbs    []string
		token  string
		edit   func(r *ess.DetachLoadBalancersRequest)
		status int
		code   string
		want   []string
	}{
		{"not attached", "asg-1", []string{"lb-1", "lb-x"}, "", nil, 404, "InvalidLoadBalancerId.NotFound", []string{`"lb-x"`}},
		{"unknown group", "asg-nope", []string{"lb-1"}, "", nil, 404, "InvalidScalingGroupId.NotFound", []string{"scaling group does not exist"}},
		{"group of another region", "asg-1", []string{"lb-1"}, "", func(r *ess.DetachLoadBalancersRequest) { r.RegionId = "cn-beijing" }, 404, "InvalidScalingGroupId.NotFound", nil},
		{"inactive group", "asg-inactive", []string{"lb-1"}, "", nil, 400, "IncorrectScalingGroupStatus", nil},
		{"six load balancers", "asg-1", six, "", nil, 400, "InvalidParameter", []string{`"LoadBalancer"`}},
		{"no load balancer", "asg-1", nil, "", nil, 400, "MissingParameter", []string{`"LoadBalancer.1"`}},
		{"duplicate load balancers", "asg-1", []string{"lb-1", "lb-1"}, "", nil, 400, "InvalidParameter", []string{`"LoadBalancer"`, "duplicate"}},
		{"no group", "", []string{"lb-1"}, "", nil, 400, "MissingParameter", []string{`"ScalingGroupId"`}},
		{"token of 65 characters", "asg-1", []string{"lb-1"}, strings.Repeat("t", 65), nil, 400, "InvalidParameter", []string{`"ClientToken"`}},
		{"non-ASCII token", "asg-1", []string{"lb-1"}, "tökén", nil, 400, "InvalidParameter", []string{`"ClientToken"`, "ASCII"}},
		{"Async not a boolean", "asg-1", []string{"lb-1"}, "", func(r *ess.DetachLoadBalancersRequest) { r.Async = "maybe" }, 400, "InvalidParameter", []string{`"Async"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inactive := group("asg-inactive", "lb-1")
			inactive.LifecycleState = esstest.LifecycleInactive
			srv, _ := newServer(t, esstest.Config{}, group("asg-1", "lb-1", "lb-2"), inactive)
			c := newSDK(t, srv)
			req := c.detachReq(tt.group, false, tt.token, tt.lbs...)
			if tt.lbs == nil {
				req.LoadBalancer = nil
			}
			if tt.edit != nil {
				tt.edit(req)
			}
			_, err := c.client.DetachLoadBalancers(req)
			wantServerError(t, err, tt.status, tt.code, tt.want...)
			if st := srv.Stats(); st.DetachesApplied != 0 || st.Calls["DetachLoadBalancers"][tt.code] != 1 {
				t.Errorf("stats = %+v, want nothing applied and one %s call", st, tt.code)
			}
			if got := lbsOf(t, srv, "asg-1"); len(got) != 2 {
				t.Errorf("asg-1 load balancers = %v, want both", got)
			}
		})
	}
}

func TestClientTokenReplay(t *testing.T) {
	t.Parallel()
	srv, clock := newServer(t, esstest.Config{}, group("asg-1", "lb-1", "lb-2"))
	c := newSDK(t, srv)
	const token = "4f8e2c1a-0000-4000-8000-000000000001"

	first := c.mustDetach("asg-1", true, token, "lb-1")
	again := c.mustDetach("asg-1", true, token, "lb-1") // during its own activity: a replay, not "in progress"
	if again.ScalingActivityId != first.ScalingActivityId {
		t.Errorf("replay ScalingActivityId = %s, want %s", again.ScalingActivityId, first.ScalingActivityId)
	}
	if again.RequestId == first.RequestId {
		t.Error("replay has the same RequestId; every answer gets a fresh one")
	}
	clock.Advance(time.Hour)
	late := c.mustDetach("asg-1", true, token, "lb-1") // lb-1 is gone by now: still the same answer
	if late.ScalingActivityId != first.ScalingActivityId {
		t.Errorf("late replay ScalingActivityId = %s, want %s", late.ScalingActivityId, first.ScalingActivityId)
	}
	st := srv.Stats()
	if st.ActivitiesCreated != 1 || st.DetachesApplied != 1 || st.Calls["DetachLoadBalancers"]["OK"] != 3 {
		t.Errorf("stats = %+v, want 1 activity, 1 detach applied, 3 OK calls", st)
	}

	// A sync detach replayed after it applied is not "not attached".
	c.mustDetach("asg-1", false, "sync-token", "lb-2")
	c.mustDetach("asg-1", false, "sync-token", "lb-2")
	if st := srv.Stats(); st.DetachesApplied != 2 {
		t.Errorf("DetachesApplied = %d, want 2", st.DetachesApplied)
	}
}

func TestClientTokenMismatch(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, esstest.Config{}, group("asg-1", "lb-1", "lb-2"))
	c := newSDK(t, srv)
	c.mustDetach("asg-1", false, "tok", "lb-1")

	tests := []struct {
		name  string
		async bool
		lbs   []string
	}{
		{"other load balancer", false, []string{"lb-2"}},
		{"async instead of sync", true, []string{"lb-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.detach("asg-1", tt.async, "tok", tt.lbs...)
			wantServerError(t, err, http.StatusBadRequest, "IdempotentParameterMismatch")
		})
	}
	if got := lbsOf(t, srv, "asg-1"); !slices.Equal(got, []string{"lb-2"}) {
		t.Errorf("load balancers = %v, want [lb-2]", got)
	}
}

func TestClientTokenExpiry(t *testing.T) {
	t.Parallel()
	srv, clock := newServer(t, esstest.Config{}, group("asg-1", "lb-1"))
	c := newSDK(t, srv)
	c.mustDetach("asg-1", false, "day-token", "lb-1")
	if err := srv.AddScalingGroup(group("asg-1", "lb-1")); err != nil {
		t.Fatal(err)
	}

	clock.Advance(24*time.Hour - time.Minute)
	c.mustDetach("asg-1", false, "day-token", "lb-1")
	if got := srv.Stats().DetachesApplied; got != 1 {
		t.Fatalf("before 24h: DetachesApplied = %d, want 1 (a replay)", got)
	}
	clock.Advance(time.Minute)
	c.mustDetach("asg-1", false, "day-token", "lb-1")
	if got := srv.Stats().DetachesApplied; got != 2 {
		t.Errorf("after 24h: DetachesApplied = %d, want 2 (the token was forgotten)", got)
	}
	if got := lbsOf(t, srv, "asg-1"); len(got) != 0 {
		t.Errorf("load balancers = %v, want none", got)
	}
}

func TestActivityEndings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code, message, wantMessage string
		detached                   bool
	}{
		{"Successful", "", "", true},
		{"Warning", "", "The scaling activity partially succeeded.", true},
		{"Failed", "", "The scaling activity failed.", false},
		{"Failed", "the SLB backend refused", "the SLB backend refused", false},
		{"Rejected", "", "The scaling activity was rejected.", false},
	}
	for _, tt := range tests {
		t.Run(tt.code+"/"+tt.message, func(t *testing.T) {
			t.Parallel()
			g := group("asg-1", "lb-1", "lb-2")
			g.ActivityStatusCode, g.ActivityStatusMessage = tt.code, tt.message
			g.ActivityDuration = esstest.Duration(time.Minute)
			srv, clock := newServer(t, esstest.Config{}, g)
			c := newSDK(t, srv)

			id := c.mustDetach("asg-1", true, "", "lb-1").ScalingActivityId
			clock.Advance(59 * time.Second)
			if a := c.activity(id); a.StatusCode != "InProgress" {
				t.Fatalf("before the group's duration: %s, want InProgress", a.StatusCode)
			}
			clock.Advance(time.Second)
			a := c.activity(id)
			if a.StatusCode != tt.code || a.StatusMessage != tt.wantMessage || a.EndTime == "" {
				t.Errorf("activity = %s %q EndTime %q, want %s %q with an EndTime", a.StatusCode, a.StatusMessage, a.EndTime, tt.code, tt.wantMessage)
			}
			want := []string{"lb-1", "lb-2"}
			if tt.detached {
				want = []string{"lb-2"}
			}
			if got := lbsOf(t, srv, "asg-1"); !slices.Equal(got, want) {
				t.Errorf("load balancers = %v, want %v", got, want)
			}
			if got, wantN := srv.Stats().DetachesApplied, map[bool]int{true: 1, false: 0}[tt.detached]; got != wantN {
				t.Errorf("DetachesApplied = %d, want %d", got, wantN)
			}
			// The group is free again.
			c.mustDetach("asg-1", false, "", "lb-2")
		})
	}
}

func TestAttach(t *testing.T) {
	t.Parallel()
	srv, clock := newServer(t, esstest.Config{}, group("asg-1", "lb-1"), group("asg-full", "lb-1", "lb-2", "lb-3", "lb-4"))
	c := newSDK(t, srv)

	if _, err := c.attach("asg-1", false, "", "lb-2", "lb-1"); err != nil {
		t.Fatalf("sync attach: %v", err)
	}
	if got := lbsOf(t, srv, "asg-1"); !slices.Equal(got, []string{"lb-1", "lb-2"}) {
		t.Errorf("after sync attach: %v, want [lb-1 lb-2]", got)
	}

	resp, err := c.attach("asg-1", true, "", "lb-3")
	if err != nil || resp.ScalingActivityId == "" {
		t.Fatalf("async attach = %+v, %v; want an activity", resp, err)
	}
	if got := lbsOf(t, srv, "asg-1"); len(got) != 2 {
		t.Errorf("during the activity: %v, want lb-3 not yet attached", got)
	}
	clock.Advance(esstest.DefaultActivityDuration)
	if got := lbsOf(t, srv, "asg-1"); !slices.Equal(got, []string{"lb-1", "lb-2", "lb-3"}) {
		t.Errorf("after the activity: %v, want [lb-1 lb-2 lb-3]", got)
	}

	_, err = c.attach("asg-full", false, "", "lb-5", "lb-6")
	wantServerError(t, err, http.StatusBadRequest, "QuotaExceeded.LoadBalancer")
	if _, err := c.attach("asg-full", false, "", "lb-5"); err != nil {
		t.Errorf("attaching the fifth: %v", err)
	}
	if st := srv.Stats(); st.DetachesApplied != 0 || st.ActivitiesCreated != 1 {
		t.Errorf("stats = %+v, want no detaches, 1 activity", st)
	}
}
