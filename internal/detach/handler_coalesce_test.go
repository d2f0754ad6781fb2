package detach_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
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

// enqueueOneEach enqueues one job per load balancer of lbs on group.
func (p *pipeline) enqueueOneEach(t *testing.T, group string, lbs []string, async bool) []tasks.EnqueueResult {
	t.Helper()
	var enq []tasks.EnqueueResult
	for _, lb := range lbs {
		res, err := tasks.Enqueue(context.Background(), p.client, tasks.DetachPayload{ScalingGroupId: group, LoadBalancerIds: []string{lb}, Async: async})
		if err != nil {
			t.Fatal(err)
		}
		enq = append(enq, res...)
	}
	return enq
}

func lbNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("lb-%02d", i)
	}
	return out
}

func TestJobsOfOneGroupShareCalls(t *testing.T) {
	t.Parallel()
	for _, async := range []bool{false, true} {
		t.Run(fmt.Sprintf("async=%v", async), func(t *testing.T) {
			t.Parallel()
			p := startPipeline(t, pipelineOptions{emulator: esstest.Config{ActivityDuration: 500 * time.Millisecond}})
			lbs := lbNames(20)
			p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-c", LoadBalancerIds: append(slices.Clone(lbs), "lb-keep-1", "lb-keep-2")})
			if !async {
				// Sync calls end at once: hold the group so that the jobs wait together.
				p.emu.SetFaults(esstest.FaultPlan{esstest.ActionDetachLoadBalancers: {Latency: esstest.Duration(300 * time.Millisecond)}})
			}
			calls := map[string][]string{} // call token -> member tokens
			for _, info := range p.wait(t, p.enqueueOneEach(t, "asg-c", lbs, async)) {
				r := result(t, info)
				if info.State != asynq.TaskStateCompleted || r.Outcome != tasks.OutcomeDetached || !slices.Equal(r.DetachedIds, r.LoadBalancerIds) {
					t.Fatalf("state %s result %+v", info.State, r)
				}
				if async && r.StatusCode != "Successful" {
					t.Fatalf("result %+v: activity not followed to its end", r)
				}
				token := r.CallClientToken
				if token == "" {
					token = r.ClientToken
				}
				calls[token] = append(calls[token], r.ClientToken)
			}
			s := p.emu.Stats()
			answers := s.Calls[esstest.ActionDetachLoadBalancers]
			if answers["OK"] > 6 || len(answers) != 1 {
				t.Fatalf("DetachLoadBalancers answers %v: want at most 6, every one OK", answers)
			}
			if len(calls) != answers["OK"] || s.DetachesApplied != answers["OK"] {
				t.Fatalf("%d calls by the results, %d answered, %d applied", len(calls), answers["OK"], s.DetachesApplied)
			}
			if async && s.ActivitiesCreated != answers["OK"] {
				t.Fatalf("%d activities for %d calls", s.ActivitiesCreated, answers["OK"])
			}
			for token, members := range calls {
				if len(members) > 5 {
					t.Fatalf("call %s shared by %d jobs of one load balancer each", token, len(members))
				}
			}
			if got := p.attached(t, "asg-c"); !slices.Equal(got, []string{"lb-keep-1", "lb-keep-2"}) {
				t.Fatalf("attached after the jobs: %v", got)
			}
			if p.obs.contended == 0 {
				t.Fatal("no job waited for the group; nothing could be shared")
			}
		})
	}
}

func TestNoCoalescingSendsOneCallPerJob(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{handler: detach.Config{DisableCoalescing: true}})
	lbs := lbNames(6)
	p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-n", LoadBalancerIds: lbs})
	p.emu.SetFaults(esstest.FaultPlan{esstest.ActionDetachLoadBalancers: {Latency: esstest.Duration(100 * time.Millisecond)}})
	for _, info := range p.wait(t, p.enqueueOneEach(t, "asg-n", lbs, false)) {
		if r := result(t, info); r.Outcome != tasks.OutcomeDetached || r.CallClientToken != "" {
			t.Fatalf("result %+v", r)
		}
	}
	if got := p.emu.Stats().Calls[esstest.ActionDetachLoadBalancers]["OK"]; got != len(lbs) {
		t.Fatalf("%d calls for %d jobs", got, len(lbs))
	}
	if p.obs.contended == 0 {
		t.Fatal("no job waited for the group; the test did not exercise coalescing being off")
	}
}

// A shared call that meets a load balancer already gone reads the group and
// detaches the others; each member's result says what happened to its own.
func TestSharedCallMixedBatch(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{emulator: esstest.Config{ActivityDuration: 500 * time.Millisecond}})
	p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-x", LoadBalancerIds: []string{"lb-0", "lb-1", "lb-2", "lb-keep"}})
	// lb-0 holds the group; lb-9 was never attached, lb-1 and lb-2 are.
	first := p.enqueueOneEach(t, "asg-x", []string{"lb-0"}, true)
	sharedtest.WaitFor(t, "the first activity", 20*time.Second, func() (bool, string) {
		n := p.emu.Stats().ActivitiesCreated
		return n == 1, fmt.Sprintf("%d activities", n)
	})
	rest := p.enqueueOneEach(t, "asg-x", []string{"lb-1", "lb-9", "lb-2"}, true)
	outcomes, calls := map[string]string{}, map[string]string{}
	for _, info := range p.wait(t, append(first, rest...)) {
		r := result(t, info)
		if info.State != asynq.TaskStateCompleted {
			t.Fatalf("state %s result %+v", info.State, r)
		}
		outcomes[r.LoadBalancerIds[0]] = r.Outcome
		calls[r.LoadBalancerIds[0]] = r.CallClientToken
		switch r.Outcome {
		case tasks.OutcomeDetached:
			if !slices.Equal(r.DetachedIds, r.LoadBalancerIds) || len(r.NotAttachedIds) != 0 {
				t.Fatalf("result %+v", r)
			}
		case tasks.OutcomeNotAttached:
			if !slices.Equal(r.NotAttachedIds, r.LoadBalancerIds) || len(r.DetachedIds) != 0 {
				t.Fatalf("result %+v", r)
			}
		}
	}
	want := map[string]string{"lb-0": tasks.OutcomeDetached, "lb-1": tasks.OutcomeDetached, "lb-2": tasks.OutcomeDetached, "lb-9": tasks.OutcomeNotAttached}
	if !maps.Equal(outcomes, want) {
		t.Fatalf("outcomes %v, want %v", outcomes, want)
	}
	if got := p.attached(t, "asg-x"); !slices.Equal(got, []string{"lb-keep"}) {
		t.Fatalf("attached after the jobs: %v", got)
	}
	if calls["lb-9"] == "" || calls["lb-1"] != calls["lb-9"] || calls["lb-2"] != calls["lb-9"] {
		t.Fatalf("calls by load balancer %v: want lb-1, lb-9 and lb-2 in one shared call", calls)
	}
	s := p.emu.Stats()
	if s.Calls[esstest.ActionDetachLoadBalancers]["InvalidLoadBalancerId.NotFound"] != 1 || s.Calls[esstest.ActionDescribeScalingGroups]["OK"] != 1 {
		t.Fatalf("stats %+v: want the shared call refused once and the group read once", s)
	}
}

// A maker that dies after its claim leaves the call to its members: once
// its marker expires, one of them sends the same call, and ESS answers it once.
func TestMemberSendsTheCallItsMakerLeft(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{
		handler:  detach.Config{CallTimeout: time.Second},
		emulator: esstest.Config{ActivityDuration: 300 * time.Millisecond},
	})
	p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-d", LoadBalancerIds: []string{"lb-1", "lb-2", "lb-3", "lb-keep"}})
	ess, err := essclient.New(essclient.Config{Endpoint: p.emu.URL, DefaultRegion: esstest.DefaultRegionID, Credentials: p.emu.Credentials()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ess.Close)
	jobs := map[string][]string{"tok-d1": {"lb-1"}, "tok-d2": {"lb-2"}, "tok-d3": {"lb-3"}}
	token, err := detach.ClaimUnsent(context.Background(), detach.Config{ESS: ess, Redis: p.redis.Client(t), CallTimeout: time.Second}, "task-that-died", "asg-d", jobs, true)
	if err != nil {
		t.Fatal(err)
	}
	var enq []tasks.EnqueueResult
	for tok, lbs := range jobs {
		res, err := tasks.Enqueue(context.Background(), p.client, tasks.DetachPayload{ScalingGroupId: "asg-d", LoadBalancerIds: lbs, Async: true, ClientToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		enq = append(enq, res...)
	}
	activities := map[string]bool{}
	for _, info := range p.wait(t, enq) {
		r := result(t, info)
		if info.State != asynq.TaskStateCompleted || r.Outcome != tasks.OutcomeDetached || r.CallClientToken != token || !slices.Equal(r.DetachedIds, r.LoadBalancerIds) {
			t.Fatalf("state %s result %+v, want detached through call %s", info.State, r, token)
		}
		activities[r.ScalingActivityId] = true
	}
	s := p.emu.Stats()
	// A member whose marker outlives a slow answer may send the call twice:
	// ESS answers the replay of its token without doing the work again.
	if got := s.Calls[esstest.ActionDetachLoadBalancers]; got["OK"] == 0 || len(got) != 1 || s.DetachesApplied != 1 || s.ActivitiesCreated != 1 || len(activities) != 1 {
		t.Fatalf("answers %v, %d detaches applied, %d activities (%d in results): want the one call, applied once", got, s.DetachesApplied, s.ActivitiesCreated, len(activities))
	}
	if got := p.attached(t, "asg-d"); !slices.Equal(got, []string{"lb-keep"}) {
		t.Fatalf("attached after the jobs: %v", got)
	}
}

// A sync job whose own call ESS did, but whose attempt failed after it,
// sends that call again: it never joins a shared call, whose different token
// would find its load balancer gone and end it not_attached.
func TestRetriedJobNeverJoinsASharedCall(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{})
	p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-r", LoadBalancerIds: []string{"lb-1", "lb-keep"}})
	// The call does its work, then answers 503: the attempt fails.
	p.emu.SetFaults(esstest.FaultPlan{esstest.ActionDetachLoadBalancers: {ErrorAfterWorkRate: 1}})
	enq, err := tasks.Enqueue(context.Background(), p.client, tasks.DetachPayload{ScalingGroupId: "asg-r", LoadBalancerIds: []string{"lb-1"}, ClientToken: "tok-r"})
	if err != nil {
		t.Fatal(err)
	}
	sharedtest.WaitFor(t, "the job's call done", 20*time.Second, func() (bool, string) {
		n := p.emu.Stats().DetachesApplied
		return n == 1, fmt.Sprintf("%d applied", n)
	})
	// Another job holds the group now; the job's next attempts find it leased.
	rdb := p.redis.Client(t)
	ctx := context.Background()
	if err := rdb.Set(ctx, detach.LeaseKey(detach.DefaultKeyPrefix, "asg-r"), "detach:another", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	p.emu.SetFaults(nil)
	before := p.obs.contendedCount()
	sharedtest.WaitFor(t, "two attempts finding the group leased", 20*time.Second, func() (bool, string) {
		n := p.obs.contendedCount() - before
		return n >= 2, fmt.Sprintf("%d", n)
	})
	if _, err := rdb.ZScore(ctx, detach.WaitingKey(detach.DefaultKeyPrefix, "asg-r"), "tok-r").Result(); err == nil {
		t.Fatal("the job joined the group's waiting set after its own call went out")
	}
	if err := rdb.Del(ctx, detach.LeaseKey(detach.DefaultKeyPrefix, "asg-r")).Err(); err != nil {
		t.Fatal(err)
	}
	info := p.wait(t, enq)[0]
	if r := result(t, info); info.State != asynq.TaskStateCompleted || r.Outcome != tasks.OutcomeDetached || r.CallClientToken != "" {
		t.Fatalf("state %s result %+v, want detached by its own call", info.State, r)
	}
	if s := p.emu.Stats(); s.DetachesApplied != 1 {
		t.Fatalf("%d detaches applied, want 1", s.DetachesApplied)
	}
}

// A job deleted or archived while it waits for its group is left out of the
// next shared call, though its waiting entry is still fresh: its load
// balancers stay attached.
func TestDeletedOrArchivedWaiterNotDetached(t *testing.T) {
	t.Parallel()
	// A long poll interval keeps waiting entries fresh for 15 s (3 poll
	// intervals + 2 busy delays), past the hand-off, about 3 s in: the
	// holder's activity lasts 2 s, and a group's first activity is looked
	// at after 1 s, then 2 s later.
	p := startPipeline(t, pipelineOptions{
		handler:  detach.Config{PollInterval: 5 * time.Second},
		emulator: esstest.Config{ActivityDuration: 2 * time.Second},
	})
	p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-g", LoadBalancerIds: []string{"lb-0", "lb-1", "lb-2", "lb-3", "lb-keep"}})
	first := p.enqueueOneEach(t, "asg-g", []string{"lb-0"}, true)
	sharedtest.WaitFor(t, "the first activity", 20*time.Second, func() (bool, string) {
		n := p.emu.Stats().ActivitiesCreated
		return n == 1, fmt.Sprintf("%d activities", n)
	})
	rest := p.enqueueOneEach(t, "asg-g", []string{"lb-1", "lb-2", "lb-3"}, true)
	rdb := p.redis.Client(t)
	ctx := context.Background()
	sharedtest.WaitFor(t, "three jobs waiting for the group", 20*time.Second, func() (bool, string) {
		n, err := rdb.ZCard(ctx, detach.WaitingKey(detach.DefaultKeyPrefix, "asg-g")).Result()
		return err == nil && n == 3, fmt.Sprintf("%d waiting, %v", n, err)
	})
	// A waiting job is active for a moment at each look: try until asynq takes it.
	deleted, archived := rest[1], rest[2]
	sharedtest.WaitFor(t, "the lb-2 job deleted and the lb-3 job archived", 10*time.Second, func() (bool, string) {
		errDel := p.insp.DeleteTask(deleted.Queue, deleted.TaskID)
		if errDel != nil && !errors.Is(errDel, asynq.ErrTaskNotFound) {
			return false, "delete: " + errDel.Error()
		}
		info, err := p.insp.GetTaskInfo(archived.Queue, archived.TaskID)
		if err == nil && info.State != asynq.TaskStateArchived {
			err = p.insp.ArchiveTask(archived.Queue, archived.TaskID)
		}
		gone := errDel == nil || errors.Is(errDel, asynq.ErrTaskNotFound)
		return gone && err == nil, fmt.Sprintf("delete: %v, archive: %v", errDel, err)
	})
	if _, err := p.insp.GetTaskInfo(deleted.Queue, deleted.TaskID); !errors.Is(err, asynq.ErrTaskNotFound) {
		t.Fatalf("deleted job: %v, want not found", err)
	}

	for _, info := range p.wait(t, append(first, rest[0])) {
		if r := result(t, info); info.State != asynq.TaskStateCompleted || r.Outcome != tasks.OutcomeDetached {
			t.Fatalf("state %s result %+v", info.State, r)
		}
	}
	if got := p.attached(t, "asg-g"); !slices.Equal(got, []string{"lb-2", "lb-3", "lb-keep"}) {
		t.Fatalf("attached after the jobs: %v, want the deleted and the archived jobs' load balancers kept", got)
	}
	sharedtest.WaitFor(t, "the group's waiting set emptied", 20*time.Second, func() (bool, string) {
		n, err := rdb.ZCard(ctx, detach.WaitingKey(detach.DefaultKeyPrefix, "asg-g")).Result()
		return err == nil && n == 0, fmt.Sprintf("%d waiting, %v", n, err)
	})
	if info, err := p.insp.GetTaskInfo(archived.Queue, archived.TaskID); err != nil || info.State != asynq.TaskStateArchived {
		t.Fatalf("archived job: %+v, %v", info, err)
	}
	if got := p.emu.Stats().Calls[esstest.ActionDetachLoadBalancers]; got["OK"] != 2 || len(got) != 1 {
		t.Fatalf("DetachLoadBalancers answers %v, want 2 OK: lb-0's and lb-1's", got)
	}
}
