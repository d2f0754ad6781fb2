package e2e

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"essworker/essclient"
	"essworker/essclient/esstest"
	"essworker/internal/redistest"
	"essworker/internal/sharedtest"
	"essworker/tasks"
)

// TestDrainKilledWhileListingGroups kills a worker with SIGKILL while its
// drain reads the region's scaling groups page by page, and checks that
// another worker runs the drain again to its end: every group of the region
// that held the load balancer detached once, and nothing else touched.
func TestDrainKilledWhileListingGroups(t *testing.T) {
	heavy(t)
	t.Parallel()
	start := time.Now()
	const otherRegion = "cn-shanghai"
	var groups []esstest.ScalingGroup
	var holders []string
	for i := range 3 * essclient.ListPageSize {
		id := fmt.Sprintf("asg-d%03d", i)
		lbs := []string{"lb-keep"}
		if i%3 == 0 {
			lbs = append(lbs, "lb-bad")
			holders = append(holders, id)
		}
		groups = append(groups, esstest.ScalingGroup{ScalingGroupId: id, LoadBalancerIds: lbs})
	}
	groups = append(groups, esstest.ScalingGroup{ScalingGroupId: "asg-elsewhere", RegionId: otherRegion, LoadBalancerIds: []string{"lb-keep", "lb-bad"}})
	rs := redistest.Start(t, redistest.Options{})
	emu := startEmulator(t, emulatorConfig{Groups: groups})
	// Each page of groups answers 2 s late, so the listing of three pages is
	// still under way when the test sees its first call.
	emu.setFaults(t, esstest.FaultPlan{esstest.ActionDescribeScalingGroups: {Latency: esstest.Duration(2 * time.Second)}})
	w1 := startWorker(t, "worker-1", rs.URL(0), emu.url)

	args := []string{"--redis-url", rs.URL(0), "--lb", "lb-bad", "--all-groups", "--region", esstest.DefaultRegionID, "--token", "drain-crash"}
	if lines, code := runEnqueue(t, "", args...); code != 0 || len(lines) != 1 || lines[0]["state"] != tasks.StateEnqueued {
		t.Fatalf("enqueue: exit %d, %v", code, lines)
	}
	sharedtest.WaitFor(t, "the drain reads its first page of groups", 20*time.Second, func() (bool, string) {
		n := emu.stats(t).Calls[esstest.ActionDescribeScalingGroups]["OK"]
		return n >= 1, "DescribeScalingGroups calls: " + strconv.Itoa(n)
	})
	w1.kill(t)
	atKill := emu.stats(t)
	pagesAtKill := atKill.Calls[esstest.ActionDescribeScalingGroups]["OK"]
	if pagesAtKill >= 3 || len(atKill.Calls[esstest.ActionDetachLoadBalancers]) != 0 {
		t.Fatalf("at the kill: stats %+v, want the listing under way and no detach", atKill)
	}
	emu.setFaults(t, esstest.FaultPlan{})

	startWorker(t, "worker-2", rs.URL(0), emu.url)
	// The same drain again: a duplicate, and --wait follows it, then its jobs,
	// to their ends.
	lines, code := runEnqueue(t, "", append(args, "--wait", "--wait-timeout", handBackBound.String())...)
	if code != 0 || len(lines) != 2+len(holders) {
		t.Fatalf("enqueue --wait: exit %d, %d lines; want 0, the drain's line, its end and %d jobs' ends:\n%v", code, len(lines), len(holders), lines)
	}
	if l := lines[0]; l["task_id"] != "drain:drain-crash" || l["state"] != tasks.StateDuplicate {
		t.Fatalf("first line %v, want the drain, a duplicate", lines[0])
	}
	if l := lines[1]; l["task_id"] != "drain:drain-crash" || l["state"] != "completed" {
		t.Fatalf("second line %v, want the drain completed", lines[1])
	}
	res, _ := lines[1]["result"].(map[string]any)
	fanned, _ := res["Groups"].([]any)
	var fannedIDs []string
	for _, g := range fanned {
		m, _ := g.(map[string]any)
		id, _ := m["ScalingGroupId"].(string)
		fannedIDs = append(fannedIDs, id)
	}
	if res["Outcome"] != tasks.OutcomeFannedOut || !slices.Equal(fannedIDs, holders) {
		t.Fatalf("drain result %v: want fanned_out to the %d groups that held lb-bad", res, len(holders))
	}
	completed := 0
	for _, l := range lines[2:] {
		if r, _ := l["result"].(map[string]any); l["state"] != "completed" || r["Outcome"] != tasks.OutcomeDetached {
			t.Errorf("job line %v, want completed, detached", l)
			continue
		}
		completed++
	}

	s := emu.stats(t)
	if calls := s.Calls[esstest.ActionDetachLoadBalancers]; len(calls) != 1 || calls["OK"] != len(holders) || s.DetachesApplied != len(holders) {
		t.Errorf("emulator stats %+v: want %d DetachLoadBalancers calls, all OK, each applied", s, len(holders))
	}
	for id, lbs := range emu.groups(t) {
		want := []string{"lb-keep"}
		if id == "asg-elsewhere" {
			want = []string{"lb-keep", "lb-bad"}
		}
		if !slices.Equal(lbs, want) {
			t.Errorf("group %s holds %v, want %v", id, lbs, want)
		}
	}
	t.Logf("summary: groups=%d holders=%d kills=1 pages_read_at_kill=%d jobs_completed=%d detach_calls=%d detaches_applied=%d applied_twice=%d elapsed=%s",
		len(groups), len(holders), pagesAtKill, completed, s.Calls[esstest.ActionDetachLoadBalancers]["OK"], s.DetachesApplied,
		max(0, s.DetachesApplied-len(holders)), time.Since(start).Round(time.Second))
}
