package essclient

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"essworker/essclient/esstest"
)

// countingLimiter lets every call go and counts them.
type countingLimiter struct{ n atomic.Int64 }

func (l *countingLimiter) Wait(context.Context) error { l.n.Add(1); return nil }

func TestListScalingGroups(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, esstest.Config{})
	var want []string
	for i := range 120 {
		id := fmt.Sprintf("asg-hz-%03d", i)
		want = append(want, id)
		if err := srv.AddScalingGroup(esstest.ScalingGroup{ScalingGroupId: id, RegionId: testRegion, LoadBalancerIds: []string{fmt.Sprintf("lb-%d", i%3)}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		if err := srv.AddScalingGroup(esstest.ScalingGroup{ScalingGroupId: fmt.Sprintf("asg-bj-%d", i), RegionId: "cn-beijing"}); err != nil {
			t.Fatal(err)
		}
	}
	obs, lim := &recordingObserver{}, &countingLimiter{}
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Observer, cfg.Limiter = obs, lim })

	list, err := c.ListScalingGroups(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range list.ScalingGroups {
		got = append(got, g.ScalingGroupID)
		if g.RegionID != testRegion {
			t.Fatalf("group %s of region %s in the list of %s", g.ScalingGroupID, g.RegionID, testRegion)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %d groups %v..., want the %d of %s in order", len(got), got[:min(3, len(got))], len(want), testRegion)
	}
	if g := list.ScalingGroups[7]; !slices.Equal(g.LoadBalancerIDs, []string{"lb-1"}) {
		t.Fatalf("group 7 load balancers = %v, want [lb-1]", g.LoadBalancerIDs)
	}
	if len(list.RequestIDs) != 3 || slices.Contains(list.RequestIDs, "") {
		t.Fatalf("RequestIDs = %v, want 3 (pages of 50, 50, 20)", list.RequestIDs)
	}
	if n := lim.n.Load(); n != 3 {
		t.Fatalf("limiter waited %d times, want 3 (one per page)", n)
	}
	if codes := obs.codes(); !slices.Equal(codes, []string{"DescribeScalingGroups/OK", "DescribeScalingGroups/OK", "DescribeScalingGroups/OK"}) {
		t.Fatalf("observed %v, want three OK pages", codes)
	}

	bj, err := c.ListScalingGroups(t.Context(), "cn-beijing")
	if err != nil || len(bj.ScalingGroups) != 3 || len(bj.RequestIDs) != 1 {
		t.Fatalf("cn-beijing: %d groups, %d pages, %v; want 3 groups in 1 page", len(bj.ScalingGroups), len(bj.RequestIDs), err)
	}
	empty, err := c.ListScalingGroups(t.Context(), "cn-shanghai")
	if err != nil || len(empty.ScalingGroups) != 0 || len(empty.RequestIDs) != 1 {
		t.Fatalf("cn-shanghai: %+v, %v; want no group in 1 page", empty, err)
	}
}

func TestListScalingGroupsExactPages(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, esstest.Config{})
	for i := range 100 {
		if err := srv.AddScalingGroup(testGroupWith(fmt.Sprintf("asg-%03d", i))); err != nil {
			t.Fatal(err)
		}
	}
	c := newTestClient(t, srv.URL)
	list, err := c.ListScalingGroups(t.Context(), testRegion)
	if err != nil || len(list.ScalingGroups) != 100 || len(list.RequestIDs) != 2 {
		t.Fatalf("%d groups in %d pages, %v; want 100 in 2 (no call for an empty third page)", len(list.ScalingGroups), len(list.RequestIDs), err)
	}
	if got := srv.Stats().Calls[ActionDescribeScalingGroups]["OK"]; got != 2 {
		t.Fatalf("emulator answered %d DescribeScalingGroups, want 2", got)
	}
}

func TestListScalingGroupsFailure(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, esstest.Config{}, testGroupWith(testGroup))
	setFaults(t, srv, esstest.FaultPlan{ActionDescribeScalingGroups: {ErrorRate: 1, ErrorCodes: []string{"Throttling.User"}}})
	c := newTestClient(t, srv.URL)
	_, err := c.ListScalingGroups(t.Context(), "")
	if e := asError(t, err); e.Code != "Throttling.User" || e.Class != ClassThrottled || e.Action != ActionDescribeScalingGroups {
		t.Fatalf("err = %+v, want Throttling.User, throttled, of DescribeScalingGroups", e)
	}
	_, err = c.ListScalingGroups(t.Context(), "Bad_Region")
	if e := asError(t, err); e.Code != CodeInvalidRequest || e.Class != ClassPermanent {
		t.Fatalf("bad region: err = %+v, want %s, permanent", e, CodeInvalidRequest)
	}
}
