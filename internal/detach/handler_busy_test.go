package detach_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/essclient/esstest"
	"essworker/internal/detach"
	"essworker/internal/sharedtest"
	"essworker/tasks"
)

// A group that stays busy past the wait bound: the job is archived failed
// with the busy code, without spending its retries on the way.
func TestBusyWaitIsBounded(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"ScalingActivityInProgress", "IncorrectScalingGroupStatus", "InvalidOperation.Conflict"} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			p := startPipeline(t, pipelineOptions{handler: detach.Config{PollTimeout: time.Second, MaxRetry: 1}})
			p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-b", LoadBalancerIds: []string{"lb-1"}})
			if err := p.emu.SetFaults(esstest.FaultPlan{esstest.ActionDetachLoadBalancers: {ErrorRate: 1, ErrorCodes: []string{code}}}); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			infos := p.run(t, tasks.DetachPayload{ScalingGroupId: "asg-b", LoadBalancerIds: []string{"lb-1"}})
			r := result(t, infos[0])
			if infos[0].State != asynq.TaskStateArchived || r.Outcome != tasks.OutcomeFailed || r.ErrorCode != code || r.Attempts != 1 {
				t.Fatalf("state %s result %+v", infos[0].State, r)
			}
			if took := time.Since(start); took < time.Second {
				t.Fatalf("archived after %v, before the 1 s bound", took)
			}
			if !strings.Contains(infos[0].LastErr, code) {
				t.Fatalf("last error %q does not name %s", infos[0].LastErr, code)
			}
			// Snoozes end on whole seconds: about one look a second.
			if n := p.emu.Stats().Calls[esstest.ActionDetachLoadBalancers][code]; n < 2 {
				t.Fatalf("%d busy answers: the job did not wait", n)
			}
		})
	}
}

// Any answer that is not busy starts the count again: two busy runs, each
// shorter than the bound but longer together, separated by a 503, end in a
// detach. Snoozes and retries end on whole seconds, so the bound is a few.
func TestBusyWaitRestartsAfterAnotherAnswer(t *testing.T) {
	t.Parallel()
	const bound = 3 * time.Second
	p := startPipeline(t, pipelineOptions{handler: detach.Config{PollTimeout: bound}})
	p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-br", LoadBalancerIds: []string{"lb-1"}})
	setPlan := func(code string) {
		t.Helper()
		if err := p.emu.SetFaults(esstest.FaultPlan{esstest.ActionDetachLoadBalancers: {ErrorRate: 1, ErrorCodes: []string{code}}}); err != nil {
			t.Fatal(err)
		}
	}
	answers := func(code string) int { return p.emu.Stats().Calls[esstest.ActionDetachLoadBalancers][code] }
	setPlan("ScalingActivityInProgress")
	enq, err := tasks.Enqueue(t.Context(), p.client, tasks.DetachPayload{ScalingGroupId: "asg-br", LoadBalancerIds: []string{"lb-1"}})
	if err != nil {
		t.Fatal(err)
	}
	sharedtest.WaitFor(t, "a busy answer", 10*time.Second, func() (bool, string) {
		n := answers("ScalingActivityInProgress")
		return n >= 1, fmt.Sprint(n, " busy answers")
	})
	firstBusy := time.Now()
	sharedtest.WaitFor(t, "two busy answers", 10*time.Second, func() (bool, string) {
		n := answers("ScalingActivityInProgress")
		return n >= 2, fmt.Sprint(n, " busy answers")
	})
	setPlan("ServiceUnavailable")
	sharedtest.WaitFor(t, "a 503", 10*time.Second, func() (bool, string) {
		n := answers("ServiceUnavailable")
		return n >= 1, fmt.Sprint(n, " 503 answers")
	})
	setPlan("ScalingActivityInProgress")
	busyBefore := answers("ScalingActivityInProgress")
	sharedtest.WaitFor(t, "two more busy answers, past the bound", 10*time.Second, func() (bool, string) {
		n := answers("ScalingActivityInProgress")
		return n >= busyBefore+2 && time.Since(firstBusy) > bound+time.Second, fmt.Sprint(n, " busy answers after ", time.Since(firstBusy))
	})
	if err := p.emu.SetFaults(esstest.FaultPlan{}); err != nil {
		t.Fatal(err)
	}
	infos := p.wait(t, enq)
	if r := result(t, infos[0]); infos[0].State != asynq.TaskStateCompleted || r.Outcome != tasks.OutcomeDetached {
		t.Fatalf("state %s result %+v: the busy wait did not restart after the 503", infos[0].State, r)
	}
}

// A group busy with a 20-second activity of its own: the job waits for it
// without spending an attempt, then detaches.
func TestBusyGroupOwnActivity(t *testing.T) {
	t.Parallel()
	clock := esstest.NewFakeClock(time.Now())
	p := startPipeline(t, pipelineOptions{emulator: esstest.Config{Clock: clock}})
	p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-own", LoadBalancerIds: []string{"lb-1", "lb-2"}})
	if _, err := p.emu.StartGroupActivity("asg-own", esstest.GroupActivity{Duration: esstest.Duration(20 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	enq, err := tasks.Enqueue(t.Context(), p.client, tasks.DetachPayload{ScalingGroupId: "asg-own", LoadBalancerIds: []string{"lb-1"}})
	if err != nil {
		t.Fatal(err)
	}
	busy := func() int { return p.emu.Stats().Calls[esstest.ActionDetachLoadBalancers]["ScalingActivityInProgress"] }
	sharedtest.WaitFor(t, "two busy answers", 10*time.Second, func() (bool, string) {
		n := busy()
		return n >= 2, fmt.Sprint(n, " busy answers")
	})
	clock.Advance(20 * time.Second)
	infos := p.wait(t, enq)
	r := result(t, infos[0])
	if infos[0].State != asynq.TaskStateCompleted || r.Outcome != tasks.OutcomeDetached || r.Attempts != 1 || infos[0].Retried != 0 {
		t.Fatalf("state %s retried %d result %+v", infos[0].State, infos[0].Retried, r)
	}
	if got := p.attached(t, "asg-own"); len(got) != 1 || got[0] != "lb-2" {
		t.Fatalf("attached %v, want [lb-2]", got)
	}
	if s := p.emu.Stats(); s.GroupActivitiesCreated != 1 || s.DetachesApplied != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// ESS does an async detach, then answers 503: the retry replays the token,
// follows the same activity, and the group sees one detach.
func TestErrorAfterWorkCompletesOnce(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{emulator: esstest.Config{ActivityDuration: 200 * time.Millisecond}})
	p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-ew", LoadBalancerIds: []string{"lb-1", "lb-2"}})
	if err := p.emu.SetFaults(esstest.FaultPlan{esstest.ActionDetachLoadBalancers: {ErrorAfterWorkRate: 1, ErrorCodes: []string{"InternalError"}}}); err != nil {
		t.Fatal(err)
	}
	enq, err := tasks.Enqueue(t.Context(), p.client, tasks.DetachPayload{ScalingGroupId: "asg-ew", LoadBalancerIds: []string{"lb-1"}, Async: true})
	if err != nil {
		t.Fatal(err)
	}
	sharedtest.WaitFor(t, "an error after the work", 10*time.Second, func() (bool, string) {
		calls := p.emu.Stats().Calls[esstest.ActionDetachLoadBalancers]
		return calls["InternalError"] >= 1, fmt.Sprint(calls)
	})
	if err := p.emu.SetFaults(esstest.FaultPlan{}); err != nil {
		t.Fatal(err)
	}
	infos := p.wait(t, enq)
	if r := result(t, infos[0]); infos[0].State != asynq.TaskStateCompleted || r.Outcome != tasks.OutcomeDetached || r.Attempts < 2 {
		t.Fatalf("state %s result %+v", infos[0].State, r)
	}
	if s := p.emu.Stats(); s.ActivitiesCreated != 1 || s.DetachesApplied != 1 {
		t.Fatalf("stats %+v: want one activity and one detach applied", s)
	}
}

// An STS token that expired and cannot refresh (a fixed one) fails like any
// retryable error: retried, then archived at the retry limit.
func TestExpiredSecurityTokenFailsAtMaxRetry(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{handler: detach.Config{MaxRetry: 2}})
	p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-sts", LoadBalancerIds: []string{"lb-1"}})
	if err := p.emu.SetFaults(esstest.FaultPlan{esstest.AllActions: {ErrorRate: 1, ErrorCodes: []string{"InvalidSecurityToken.Expired"}}}); err != nil {
		t.Fatal(err)
	}
	infos := p.run(t, tasks.DetachPayload{ScalingGroupId: "asg-sts", LoadBalancerIds: []string{"lb-1"}})
	r := result(t, infos[0])
	if infos[0].State != asynq.TaskStateArchived || r.Outcome != tasks.OutcomeFailed || r.ErrorCode != "InvalidSecurityToken.Expired" || r.Attempts != 3 {
		t.Fatalf("state %s result %+v: want archived failed after 3 attempts", infos[0].State, r)
	}
}
