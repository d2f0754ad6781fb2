package e2e

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/essclient/esstest"
	"essworker/internal/redistest"
	"essworker/internal/sharedtest"
	"essworker/tasks"
)

// TestSharedCallsSurviveKills runs 20 one-load-balancer async jobs on one
// scaling group, which share calls, against an ESS that answers each call
// after 3 s. The one worker is killed with SIGKILL while the first call is in
// flight and again while a later, shared call is in flight; a fresh worker
// then finishes. Every job must complete detached, no call may meet a load
// balancer already gone (a call sent twice under different tokens), each
// call must be applied once, and the load balancers no job named must stay.
func TestSharedCallsSurviveKills(t *testing.T) {
	heavy(t)
	t.Parallel()
	start := time.Now()
	const group = "asg-share"
	var lbs []string
	for i := range 20 {
		lbs = append(lbs, fmt.Sprintf("lb-s%02d", i))
	}
	keep := []string{"lb-keep-1", "lb-keep-2"}
	rs := redistest.Start(t, redistest.Options{})
	emu := startEmulator(t, emulatorConfig{
		ActivityDuration: 2 * time.Second,
		Groups:           []esstest.ScalingGroup{{ScalingGroupId: group, LoadBalancerIds: slices.Concat(lbs, keep)}},
	})
	emu.setFaults(t, esstest.FaultPlan{esstest.ActionDetachLoadBalancers: {Latency: esstest.Duration(3 * time.Second)}})
	// A call's marker lives 2 × 4 s + 10 s: a shared call left by a killed
	// maker is sent again by a member 18 s after its claim.
	flags := []string{"--ess-timeout", "4s"}
	w := startWorker(t, "worker-1", rs.URL(0), emu.url, flags...)

	var in strings.Builder
	for i, lb := range lbs {
		fmt.Fprintf(&in, `{"ScalingGroupId":%q,"LoadBalancerIds":[%q],"Async":true,"ClientToken":"share-%02d"}`+"\n", group, lb, i)
	}
	if lines, code := runEnqueue(t, in.String(), "--redis-url", rs.URL(0), "--file", "-"); code != 0 || len(lines) != len(lbs) {
		t.Fatalf("enqueue: exit %d, %d lines", code, len(lines))
	}
	rdb := rs.Client(t)
	ctx := context.Background()
	// The first call is in flight while its job holds the group, has no
	// activity record yet, and others wait.
	sharedtest.WaitFor(t, "the first call in flight, jobs waiting", 30*time.Second, func() (bool, string) {
		holder, _ := rdb.Get(ctx, "essworker:lease:"+group).Result()
		token, own := strings.CutPrefix(holder, "detach:")
		recorded, _ := rdb.HExists(ctx, "essworker:activity:"+token, "record").Result()
		waiting, _ := rdb.ZCard(ctx, "essworker:waiting:"+group).Result()
		return own && !recorded && waiting > 0, fmt.Sprintf("holder %q, record %v, waiting %d", holder, recorded, waiting)
	})
	w.kill(t)
	w.restart(t)
	// A later call is in flight while the lease is its token, its marker
	// exists and it has no answer.
	var shared string
	sharedtest.WaitFor(t, "a shared call in flight", handBackBound+30*time.Second, func() (bool, string) {
		holder, _ := rdb.Get(ctx, "essworker:lease:"+group).Result()
		marked, _ := rdb.Exists(ctx, "essworker:calling:"+holder).Result()
		answered, _ := rdb.HExists(ctx, "essworker:call:"+holder, "answer").Result()
		shared = holder
		return marked == 1 && !answered, fmt.Sprintf("holder %q, marker %d, answered %v", holder, marked, answered)
	})
	w.kill(t)
	startWorker(t, "worker-2", rs.URL(0), emu.url, flags...)

	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: rs.Addr})
	t.Cleanup(func() { _ = insp.Close() })
	qi := queueDone(t, insp, len(lbs), 2*handBackBound)
	calls, activities := map[string]int{}, map[string]bool{}
	for i, lb := range lbs {
		info, err := insp.GetTaskInfo(tasks.DefaultQueue, tasks.TaskID(fmt.Sprintf("share-%02d", i)))
		if err != nil {
			t.Fatalf("job of %s: %v", lb, err)
		}
		r, err := tasks.DecodeDetachResult(info.Result)
		if err != nil || info.State != asynq.TaskStateCompleted || r.Outcome != tasks.OutcomeDetached || !slices.Equal(r.DetachedIds, []string{lb}) || r.StatusCode != esstest.StatusSuccessful {
			t.Errorf("job of %s: state %s, result %s (%v)", lb, info.State, info.Result, err)
			continue
		}
		calls[cmp.Or(r.CallClientToken, r.ClientToken)]++
		activities[r.ScalingActivityId] = true
	}
	s := emu.stats(t)
	answers := s.Calls[esstest.ActionDetachLoadBalancers]
	if answers[esstest.CodeLoadBalancerNotFound] != 0 {
		t.Errorf("%d calls met a load balancer already gone: a call was sent twice under different tokens", answers[esstest.CodeLoadBalancerNotFound])
	}
	if s.DetachesApplied != len(calls) || s.ActivitiesCreated != len(calls) || len(activities) != len(calls) {
		t.Errorf("%d detaches applied, %d activities created, %d in the results, for %d calls: want one of each per call", s.DetachesApplied, s.ActivitiesCreated, len(activities), len(calls))
	}
	if calls[shared] == 0 {
		t.Errorf("no job names the call %s killed in flight", shared)
	}
	if got := emu.groups(t)[group]; !slices.Equal(slices.Sorted(slices.Values(got)), keep) {
		t.Errorf("group ends with %v, want %v", got, keep)
	}
	t.Logf("summary: jobs=%d kills=2 calls=%d activities=%d detach_answers=%v completed=%d elapsed=%s",
		len(lbs), len(calls), s.ActivitiesCreated, answers, qi.Completed, time.Since(start).Round(time.Second))
}
