package detach_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/essclient"
	"essworker/essclient/esstest"
	"essworker/internal/detach"
	"essworker/internal/sharedtest"
	"essworker/tasks"
)

// A job of several load balancers, some not attached: ESS refuses the whole
// call, the job reads its group and detaches exactly those still attached.
func TestMixedBatchDetachesTheAttachedOnes(t *testing.T) {
	t.Parallel()
	for _, async := range []bool{false, true} {
		t.Run(fmt.Sprintf("async=%v", async), func(t *testing.T) {
			t.Parallel()
			p := startPipeline(t, pipelineOptions{emulator: esstest.Config{ActivityDuration: 200 * time.Millisecond}})
			p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-m", LoadBalancerIds: []string{"lb-1", "lb-2", "lb-3"}})
			infos := p.run(t, tasks.DetachPayload{ScalingGroupId: "asg-m", LoadBalancerIds: []string{"lb-3", "lb-9", "lb-2"}, Async: async, ClientToken: "tok-mixed"})
			r := result(t, infos[0])
			if infos[0].State != asynq.TaskStateCompleted || r.Outcome != tasks.OutcomeDetached {
				t.Fatalf("state %s result %+v", infos[0].State, r)
			}
			if !slices.Equal(r.DetachedIds, []string{"lb-2", "lb-3"}) || !slices.Equal(r.NotAttachedIds, []string{"lb-9"}) {
				t.Fatalf("DetachedIds %v NotAttachedIds %v, want [lb-2 lb-3] and [lb-9]", r.DetachedIds, r.NotAttachedIds)
			}
			if got := p.attached(t, "asg-m"); !slices.Equal(got, []string{"lb-1"}) {
				t.Fatalf("attached after the job: %v, want [lb-1]", got)
			}
			s := p.emu.Stats()
			detach := s.Calls[esstest.ActionDetachLoadBalancers]
			if detach["InvalidLoadBalancerId.NotFound"] != 1 || detach["OK"] != 1 || s.Calls[esstest.ActionDescribeScalingGroups]["OK"] != 1 || s.DetachesApplied != 1 {
				t.Fatalf("stats %+v: want one refused call, one group read, one detach", s)
			}
			// NotFound, the group read, the detach (and the look at the activity).
			if want := 3 + btoi(async); len(r.RequestIds) != want {
				t.Fatalf("RequestIds %v, want %d", r.RequestIds, want)
			}
			if async && (r.StatusCode != essclient.StatusSuccessful || s.ActivitiesCreated != 1) {
				t.Fatalf("async: status %q, %d activities", r.StatusCode, s.ActivitiesCreated)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Under the strict option a mixed batch still detaches the attached load
// balancers, then is archived not_attached, its result saying what it did.
func TestMixedBatchStrict(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{handler: detach.Config{StrictNotAttached: true}})
	p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-ms", LoadBalancerIds: []string{"lb-1", "lb-2"}})
	infos := p.run(t, tasks.DetachPayload{ScalingGroupId: "asg-ms", LoadBalancerIds: []string{"lb-2", "lb-9"}})
	r := result(t, infos[0])
	if infos[0].State != asynq.TaskStateArchived || r.Outcome != tasks.OutcomeNotAttached ||
		!slices.Equal(r.DetachedIds, []string{"lb-2"}) || !slices.Equal(r.NotAttachedIds, []string{"lb-9"}) {
		t.Fatalf("state %s result %+v", infos[0].State, r)
	}
	if got := p.attached(t, "asg-ms"); !slices.Equal(got, []string{"lb-1"}) {
		t.Fatalf("attached after the job: %v, want [lb-1]", got)
	}
}

// A job none of whose load balancers is attached reads the group once and
// makes no second call; a job of one load balancer never reads the group.
func TestNoneAttached(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{})
	p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-n2", LoadBalancerIds: []string{"lb-1"}})
	infos := p.run(t, tasks.DetachPayload{ScalingGroupId: "asg-n2", LoadBalancerIds: []string{"lb-8", "lb-9"}})
	r := result(t, infos[0])
	if infos[0].State != asynq.TaskStateCompleted || r.Outcome != tasks.OutcomeNotAttached ||
		len(r.DetachedIds) != 0 || !slices.Equal(r.NotAttachedIds, []string{"lb-8", "lb-9"}) {
		t.Fatalf("state %s result %+v", infos[0].State, r)
	}
	s := p.emu.Stats()
	if s.Calls[esstest.ActionDetachLoadBalancers]["InvalidLoadBalancerId.NotFound"] != 1 || s.Calls[esstest.ActionDescribeScalingGroups]["OK"] != 1 {
		t.Fatalf("calls %v, want one refused detach and one group read", s.Calls)
	}

	infos = p.run(t, tasks.DetachPayload{ScalingGroupId: "asg-n2", LoadBalancerIds: []string{"lb-7"}})
	if r := result(t, infos[0]); r.Outcome != tasks.OutcomeNotAttached || !slices.Equal(r.NotAttachedIds, []string{"lb-7"}) {
		t.Fatalf("one load balancer: result %+v", r)
	}
	if n := p.emu.Stats().Calls[esstest.ActionDescribeScalingGroups]["OK"]; n != 1 {
		t.Fatalf("a one-load-balancer job read the group (%d reads in all)", n)
	}
}

// The group a mixed batch reads is gone: the job is archived failed.
func TestMixedBatchGroupGone(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{})
	p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-other", RegionId: "cn-beijing", LoadBalancerIds: []string{"lb-1"}})
	// The group answers NotFound for the load balancers through a fault, then
	// is not in the region's listing.
	if err := p.emu.SetFaults(esstest.FaultPlan{esstest.ActionDetachLoadBalancers: {ErrorRate: 1, ErrorCodes: []string{"InvalidLoadBalancerId.NotFound"}}}); err != nil {
		t.Fatal(err)
	}
	infos := p.run(t, tasks.DetachPayload{ScalingGroupId: "asg-other", LoadBalancerIds: []string{"lb-1", "lb-2"}})
	r := result(t, infos[0])
	if infos[0].State != asynq.TaskStateArchived || r.Outcome != tasks.OutcomeFailed || r.ErrorCode != "InvalidScalingGroupId.NotFound" {
		t.Fatalf("state %s result %+v", infos[0].State, r)
	}
}

// Someone keeps detaching the job's load balancers between its read and its
// call: after three rounds the job is archived failed with the last code.
func TestMixedBatchGivesUpAfterThreeRounds(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{})
	p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-r3", LoadBalancerIds: []string{"lb-1", "lb-2"}})
	if err := p.emu.SetFaults(esstest.FaultPlan{esstest.ActionDetachLoadBalancers: {ErrorRate: 1, ErrorCodes: []string{"InvalidLoadBalancerId.NotFound"}}}); err != nil {
		t.Fatal(err)
	}
	infos := p.run(t, tasks.DetachPayload{ScalingGroupId: "asg-r3", LoadBalancerIds: []string{"lb-1", "lb-2"}})
	r := result(t, infos[0])
	if infos[0].State != asynq.TaskStateArchived || r.Outcome != tasks.OutcomeFailed || r.ErrorCode != "InvalidLoadBalancerId.NotFound" {
		t.Fatalf("state %s result %+v", infos[0].State, r)
	}
	s := p.emu.Stats()
	if d, g := s.Calls[esstest.ActionDetachLoadBalancers]["InvalidLoadBalancerId.NotFound"], s.Calls[esstest.ActionDescribeScalingGroups]["OK"]; d != 4 || g != 3 {
		t.Fatalf("%d refused detaches and %d group reads, want 4 and 3", d, g)
	}
}

// ESS does the detach of the still-attached load balancers, then answers 503:
// the retry sends that same call again (ESS replays it) and never reads the
// group again, which would find nothing attached and report not_attached.
func TestMixedBatchRetryResendsTheSavedCall(t *testing.T) {
	t.Parallel()
	for _, async := range []bool{false, true} {
		t.Run(fmt.Sprintf("async=%v", async), func(t *testing.T) {
			t.Parallel()
			p := startPipeline(t, pipelineOptions{emulator: esstest.Config{ActivityDuration: 200 * time.Millisecond}})
			p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-aw", LoadBalancerIds: []string{"lb-1", "lb-2"}})
			if err := p.emu.SetFaults(esstest.FaultPlan{esstest.ActionDetachLoadBalancers: {ErrorAfterWorkRate: 1}}); err != nil {
				t.Fatal(err)
			}
			enq, err := tasks.Enqueue(t.Context(), p.client, tasks.DetachPayload{ScalingGroupId: "asg-aw", LoadBalancerIds: []string{"lb-2", "lb-9"}, Async: async})
			if err != nil {
				t.Fatal(err)
			}
			sharedtest.WaitFor(t, "a 503 after the work", 10*time.Second, func() (bool, string) {
				calls := p.emu.Stats().Calls[esstest.ActionDetachLoadBalancers]
				return calls["ServiceUnavailable"] >= 1, fmt.Sprint(calls)
			})
			if err := p.emu.SetFaults(esstest.FaultPlan{}); err != nil {
				t.Fatal(err)
			}
			infos := p.wait(t, enq)
			r := result(t, infos[0])
			if infos[0].State != asynq.TaskStateCompleted || r.Outcome != tasks.OutcomeDetached ||
				!slices.Equal(r.DetachedIds, []string{"lb-2"}) || !slices.Equal(r.NotAttachedIds, []string{"lb-9"}) {
				t.Fatalf("state %s result %+v", infos[0].State, r)
			}
			s := p.emu.Stats()
			if reads := s.Calls[esstest.ActionDescribeScalingGroups]["OK"]; reads != 1 {
				t.Fatalf("the group was read %d times, want 1", reads)
			}
			if s.DetachesApplied != 1 || s.ActivitiesCreated != btoi(async) {
				t.Fatalf("stats %+v: want one detach applied, %d activities", s, btoi(async))
			}
			if got := p.attached(t, "asg-aw"); !slices.Equal(got, []string{"lb-1"}) {
				t.Fatalf("attached %v, want [lb-1]", got)
			}
		})
	}
}
