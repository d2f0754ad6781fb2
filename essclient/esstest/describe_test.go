package esstest_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ess"

	"essworker/essclient/esstest"
)

func TestDescribeScalingGroupsPaging(t *testing.T) {
	t.Parallel()
	var groups []esstest.ScalingGroup
	for i := 1; i <= 12; i++ {
		groups = append(groups, group(fmt.Sprintf("asg-%02d", i), fmt.Sprintf("lb-%02d", i)))
	}
	elsewhere := group("asg-beijing", "lb-b")
	elsewhere.RegionId = "cn-beijing"
	srv, _ := newServer(t, esstest.Config{}, append(groups, elsewhere)...)
	c := newSDK(t, srv)

	tests := []struct {
		name                          string
		page, size                    int
		ids                           []string
		wantIDs                       []string
		wantPage, wantSize, wantTotal int
	}{
		{"defaults", 0, 0, nil, ids("asg-%02d", 1, 10), 1, 10, 12},
		{"second page", 2, 0, nil, ids("asg-%02d", 11, 12), 2, 10, 12},
		{"past the end", 3, 0, nil, nil, 3, 10, 12},
		{"size 50", 1, 50, nil, ids("asg-%02d", 1, 12), 1, 50, 12},
		{"by ID", 0, 0, []string{"asg-03", "asg-nope", "asg-beijing"}, []string{"asg-03"}, 1, 10, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.groups(tt.page, tt.size, tt.ids...)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range resp.ScalingGroups.ScalingGroup {
				got = append(got, g.ScalingGroupId)
			}
			if !slices.Equal(got, tt.wantIDs) || resp.PageNumber != tt.wantPage || resp.PageSize != tt.wantSize || resp.TotalCount != tt.wantTotal {
				t.Errorf("got %v page %d size %d total %d, want %v page %d size %d total %d",
					got, resp.PageNumber, resp.PageSize, resp.TotalCount, tt.wantIDs, tt.wantPage, tt.wantSize, tt.wantTotal)
			}
		})
	}

	resp, err := c.groups(0, 0, "asg-05")
	if err != nil {
		t.Fatal(err)
	}
	g := resp.ScalingGroups.ScalingGroup[0]
	if g.RegionId != esstest.DefaultRegionID || g.LifecycleState != "Active" || !slices.Equal(g.LoadBalancerIds.LoadBalancerId, []string{"lb-05"}) {
		t.Errorf("group = region %s state %s lbs %v", g.RegionId, g.LifecycleState, g.LoadBalancerIds.LoadBalancerId)
	}

	_, err = c.groups(0, 51)
	wantServerError(t, err, http.StatusBadRequest, "InvalidParameter", `"PageSize"`)
	_, err = c.groups(-1, 0)
	wantServerError(t, err, http.StatusBadRequest, "InvalidParameter", `"PageNumber"`)
	_, err = c.groups(0, 0, ids("asg-%02d", 1, 21)...)
	wantServerError(t, err, http.StatusBadRequest, "InvalidParameter", `"ScalingGroupId"`)
}

// ids formats IDs from..to.
func ids(format string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf(format, i))
	}
	return out
}

func TestDescribeScalingActivities(t *testing.T) {
	t.Parallel()
	failing := group("asg-2", "lb-x")
	failing.ActivityStatusCode = esstest.StatusFailed
	srv, clock := newServer(t, esstest.Config{ActivityDuration: time.Minute}, group("asg-1", "lb-1"), failing)
	c := newSDK(t, srv)

	// 12 activities on asg-1, one after another (detach and re-attach lb-1).
	var made []string
	for i := range 12 {
		var id string
		if i%2 == 0 {
			id = c.mustDetach("asg-1", true, "", "lb-1").ScalingActivityId
		} else {
			resp, err := c.attach("asg-1", true, "", "lb-1")
			if err != nil {
				t.Fatal(err)
			}
			id = resp.ScalingActivityId
		}
		made = append(made, id)
		clock.Advance(time.Hour)
	}
	failed := c.mustDetach("asg-2", true, "", "lb-x").ScalingActivityId
	clock.Advance(time.Minute)
	running := c.mustDetach("asg-1", true, "", "lb-1").ScalingActivityId

	newestFirst := append([]string{running}, made...)
	slices.Reverse(newestFirst[1:])
	tests := []struct {
		name       string
		group      string
		status     string
		page, size int
		ids        []string
		want       []string
		wantTotal  int
	}{
		{"group, defaults", "asg-1", "", 0, 0, nil, newestFirst[:10], 13},
		{"group, page 2", "asg-1", "", 2, 0, nil, newestFirst[10:], 13},
		{"group, size 5 page 3", "asg-1", "", 3, 5, nil, newestFirst[10:], 13},
		{"status InProgress", "asg-1", "InProgress", 0, 0, nil, []string{running}, 1},
		{"status Failed", "asg-2", "Failed", 0, 0, nil, []string{failed}, 1},
		{"status Failed in asg-1", "asg-1", "Failed", 0, 0, nil, nil, 0},
		{"by IDs, unknown left out", "", "", 0, 0, []string{made[0], "asa-unknown", failed}, []string{failed, made[0]}, 2},
		{"group and IDs", "asg-1", "", 0, 0, []string{made[0], failed}, []string{made[0]}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.activities(tt.group, tt.status, tt.page, tt.size, tt.ids...)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range resp.ScalingActivities.ScalingActivity {
				got = append(got, a.ScalingActivityId)
			}
			if !slices.Equal(got, tt.want) || resp.TotalCount != tt.wantTotal {
				t.Errorf("got %v total %d, want %v total %d", got, resp.TotalCount, tt.want, tt.wantTotal)
			}
		})
	}

	errTests := []struct {
		name, group string
		ids         []string
		status      string
		code        string
		want        string
		httpStatus  int
	}{
		{"neither group nor IDs", "", nil, "", "MissingParameter", `"ScalingGroupId"`, 400},
		{"21 IDs", "", ids("asa-%d", 1, 21), "", "InvalidParameter", `"ScalingActivityId"`, 400},
		{"bad status", "asg-1", nil, "Done", "InvalidParameter", `"StatusCode"`, 400},
		{"unknown group", "asg-nope", nil, "", "InvalidScalingGroupId.NotFound", "", 404},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.activities(tt.group, tt.status, 0, 0, tt.ids...)
			wantServerError(t, err, tt.httpStatus, tt.code, tt.want)
		})
	}

	// Now is 12h01m after epoch; move it so that 30 days back falls between
	// the starts of made[10] (10h) and made[11] (11h).
	clock.Advance(30*24*time.Hour - 91*time.Minute)
	resp, err := c.activities("asg-1", "", 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	if resp.TotalCount != 2 {
		t.Errorf("after 30 days: %d activities, want 2 (the running one and the last one started within 30 days)", resp.TotalCount)
	}
	if _, ok := srv.Activity(made[0]); ok {
		t.Errorf("Activity(%s) still known after 30 days", made[0])
	}
}

// TestDescribeScalingActivitiesRegion shows that an activity is found only in
// its group's region, by ID as by group.
func TestDescribeScalingActivitiesRegion(t *testing.T) {
	t.Parallel()
	beijing := group("asg-bj", "lb-b")
	beijing.RegionId = "cn-beijing"
	srv, _ := newServer(t, esstest.Config{}, group("asg-hz", "lb-h"), beijing)
	c := newSDK(t, srv)

	req := c.detachReq("asg-bj", true, "", "lb-b")
	req.RegionId = "cn-beijing"
	resp, err := c.client.DetachLoadBalancers(req)
	if err != nil {
		t.Fatal(err)
	}
	bj := resp.ScalingActivityId
	hz := c.mustDetach("asg-hz", true, "", "lb-h").ScalingActivityId
	own, err := srv.StartGroupActivity("asg-bj", esstest.GroupActivity{})
	if err != nil {
		t.Fatal(err)
	}
	bjOwn := own.ScalingActivityId

	describe := func(region, groupID string) ([]string, error) {
		req := ess.CreateDescribeScalingActivitiesRequest()
		c.target(req.RpcRequest)
		req.RegionId, req.ScalingGroupId = region, groupID
		req.ScalingActivityId = &[]string{hz, bj, bjOwn}
		resp, err := c.client.DescribeScalingActivities(req)
		if err != nil {
			return nil, err
		}
		var got []string
		for _, a := range resp.ScalingActivities.ScalingActivity {
			got = append(got, a.ScalingActivityId)
		}
		if resp.TotalCount != len(got) {
			t.Errorf("TotalCount %d, listed %v", resp.TotalCount, got)
		}
		return got, nil
	}
	tests := []struct {
		region, group string
		want          []string
	}{
		{"cn-hangzhou", "", []string{hz}},
		{"cn-beijing", "", []string{bjOwn, bj}},
		{"cn-shanghai", "", nil},
		{"cn-beijing", "asg-bj", []string{bjOwn, bj}},
	}
	for _, tt := range tests {
		got, err := describe(tt.region, tt.group)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("by IDs in %s (group %q) = %v, %v; want %v", tt.region, tt.group, got, err, tt.want)
		}
	}
	_, err = describe("cn-hangzhou", "asg-bj")
	wantServerError(t, err, http.StatusNotFound, "InvalidScalingGroupId.NotFound")
}
