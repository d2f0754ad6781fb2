package drain_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/essclient"
	"essworker/essclient/esstest"
	"essworker/internal/detach"
	"essworker/internal/drain"
	"essworker/internal/redistest"
	"essworker/tasks"
)

// pipeline is a worker in the test process: real Redis, the emulator reached
// through the real SDK, the detach and drain handlers on one asynq server.
type pipeline struct {
	emu    *esstest.Server
	client *asynq.Client
	insp   *asynq.Inspector
	obs    *recorder
}

type pipelineOptions struct {
	drain drain.Config // ESS, Jobs, DefaultRegion and Observer are filled in
	// jobs, when set, wraps the producer the drain queues its jobs with.
	jobs func(*tasks.Producer) drain.Enqueuer
}

func startPipeline(t *testing.T, o pipelineOptions) *pipeline {
	t.Helper()
	rs := redistest.Start(t, redistest.Options{})
	emu := esstest.NewServer(esstest.Config{ActivityDuration: 300 * time.Millisecond})
	t.Cleanup(emu.Close)
	ess, err := essclient.New(essclient.Config{
		Endpoint:      emu.URL,
		DefaultRegion: esstest.DefaultRegionID,
		Credentials:   emu.Credentials(),
		Timeout:       2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ess.Close)
	p := &pipeline{emu: emu, obs: &recorder{}}
	rdb := rs.Client(t)
	dh, err := detach.NewHandler(detach.Config{
		ESS: ess, Redis: rdb, PollInterval: 200 * time.Millisecond, BusyDelay: 200 * time.Millisecond,
		RetryBase: 50 * time.Millisecond, RetryCap: 300 * time.Millisecond, ThrottleBase: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	dc := o.drain
	dc.ESS, dc.DefaultRegion, dc.Observer = ess, esstest.DefaultRegionID, p.obs
	dc.Jobs = tasks.NewProducer(rdb)
	if o.jobs != nil {
		dc.Jobs = o.jobs(tasks.NewProducer(rdb))
	}
	h, err := drain.NewHandler(dc)
	if err != nil {
		t.Fatal(err)
	}
	redisOpt := asynq.RedisClientOpt{Addr: rs.Addr}
	srv := asynq.NewServer(redisOpt, dh.ServerConfig(asynq.Config{
		Concurrency:              8,
		Queues:                   map[string]int{tasks.DefaultQueue: 1, "ops": 1},
		DelayedTaskCheckInterval: 100 * time.Millisecond,
		LogLevel:                 asynq.FatalLevel,
	}))
	mux := asynq.NewServeMux()
	mux.Handle(tasks.TypeDetachLoadBalancers, dh)
	mux.Handle(tasks.TypeDrainLoadBalancer, h)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	p.client = asynq.NewClient(redisOpt)
	p.insp = asynq.NewInspector(redisOpt)
	t.Cleanup(func() { p.client.Close(); p.insp.Close() })
	return p
}

// fleet seeds the emulator with groups over three regions: 130 in the
// default region (three pages of DescribeScalingGroups), every fourth holding
// lb-x among others; 30 in cn-beijing, every third holding lb-x; 5 in
// cn-shanghai without it. It returns the default region's groups that hold
// lb-x, in listing order.
func (p *pipeline) fleet(t *testing.T) []string {
	t.Helper()
	var holders []string
	add := func(id, region string, lbs ...string) {
		if err := p.emu.AddScalingGroup(esstest.ScalingGroup{ScalingGroupId: id, RegionId: region, LoadBalancerIds: lbs}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 130 {
		id := fmt.Sprintf("asg-hz-%03d", i)
		if i%4 == 0 {
			add(id, esstest.DefaultRegionID, "lb-keep", "lb-x")
			holders = append(holders, id)
		} else {
			add(id, esstest.DefaultRegionID, "lb-keep")
		}
	}
	for i := range 30 {
		if i%3 == 0 {
			add(fmt.Sprintf("asg-bj-%02d", i), "cn-beijing", "lb-x")
		} else {
			add(fmt.Sprintf("asg-bj-%02d", i), "cn-beijing", "lb-keep")
		}
	}
	for i := range 5 {
		add(fmt.Sprintf("asg-sh-%d", i), "cn-shanghai", "lb-keep")
	}
	return holders
}

// wait waits for the task to end and returns its info.
func (p *pipeline) wait(t *testing.T, queue, taskID string) *asynq.TaskInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	info, err := tasks.WaitResult(ctx, p.insp, queue, taskID, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func drainResult(t *testing.T, info *asynq.TaskInfo) tasks.DrainResult {
	t.Helper()
	r, err := tasks.DecodeDrainResult(info.Result)
	if err != nil {
		t.Fatalf("task %s (%s, last error %q): %v", info.ID, info.State, info.LastErr, err)
	}
	return r
}

// checkDrained checks that lb-x left exactly the holders, each detached
// once, that every other load balancer stayed, and that no group of another
// region changed.
func (p *pipeline) checkDrained(t *testing.T, holders []string) {
	t.Helper()
	for _, g := range p.emu.ScalingGroups() {
		switch {
		case g.RegionId != esstest.DefaultRegionID:
			i := 0
			fmt.Sscanf(g.ScalingGroupId[len(g.ScalingGroupId)-2:], "%d", &i)
			if g.RegionId == "cn-beijing" && i%3 == 0 {
				if !slices.Equal(g.LoadBalancerIds, []string{"lb-x"}) {
					t.Errorf("group %s of cn-beijing was touched: %v", g.ScalingGroupId, g.LoadBalancerIds)
				}
			} else if !slices.Equal(g.LoadBalancerIds, []string{"lb-keep"}) {
				t.Errorf("group %s of %s was touched: %v", g.ScalingGroupId, g.RegionId, g.LoadBalancerIds)
			}
		case !slices.Equal(g.LoadBalancerIds, []string{"lb-keep"}):
			t.Errorf("group %s holds %v, want [lb-keep]", g.ScalingGroupId, g.LoadBalancerIds)
		}
	}
	if s := p.emu.Stats(); s.DetachesApplied != len(holders) {
		t.Errorf("DetachesApplied = %d, want %d (each holder once)", s.DetachesApplied, len(holders))
	}
}

// recorder is a drain.Observer that keeps what it was told.
type recorder struct {
	mu       sync.Mutex
	outcomes []string
}

func (r *recorder) JobFinished(taskType, outcome string, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outcomes = append(r.outcomes, taskType+"/"+outcome)
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.outcomes)
}

func TestDrainFansOutOverPagesAndRegions(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{})
	holders := p.fleet(t)
	res, err := tasks.EnqueueDrain(t.Context(), p.client, tasks.DrainPayload{LoadBalancerId: "lb-x", Async: true, ClientToken: "incident-1"}, asynq.Queue("ops"))
	if err != nil {
		t.Fatal(err)
	}
	info := p.wait(t, "ops", res.TaskID)
	r := drainResult(t, info)
	if info.State != asynq.TaskStateCompleted || r.Outcome != tasks.OutcomeFannedOut || r.RegionId != esstest.DefaultRegionID ||
		r.LoadBalancerId != "lb-x" || !r.Async || r.ForceDetach || r.ClientToken != "incident-1" || r.Attempts != 1 || len(r.RequestIds) != 3 {
		t.Fatalf("drain %s, result %+v", info.State, r)
	}
	if len(r.Groups) != len(holders) {
		t.Fatalf("drain listed %d groups, want %d", len(r.Groups), len(holders))
	}
	for i, g := range r.Groups {
		token := tasks.DrainGroupToken("incident-1", holders[i])
		if want := (tasks.DrainGroup{ScalingGroupId: holders[i], TaskId: tasks.TaskID(token), ClientToken: token}); g != want {
			t.Fatalf("Groups[%d] = %+v, want %+v", i, g, want)
		}
		job := p.wait(t, "ops", g.TaskId)
		jp, err := tasks.DecodeDetachPayload(job.Payload)
		if err != nil {
			t.Fatal(err)
		}
		want := tasks.DetachPayload{RegionId: esstest.DefaultRegionID, ScalingGroupId: holders[i], LoadBalancerIds: []string{"lb-x"}, Async: true, ClientToken: token}
		if !tasks.SameRequest(jp, want) {
			t.Fatalf("job %s payload %+v, want %+v", g.TaskId, jp, want)
		}
		dr, err := tasks.DecodeDetachResult(job.Result)
		if job.State != asynq.TaskStateCompleted || err != nil || dr.Outcome != tasks.OutcomeDetached {
			t.Fatalf("job %s: %s, %+v, %v", g.TaskId, job.State, dr, err)
		}
	}
	p.checkDrained(t, holders)
	if got := p.emu.Stats().Calls[essclient.ActionDescribeScalingGroups]["OK"]; got != 3 {
		t.Errorf("DescribeScalingGroups calls = %d, want 3 (the drain's pages; no mixed batch)", got)
	}
	if n := countOf(p.obs.got(), tasks.TypeDrainLoadBalancer+"/"+tasks.OutcomeFannedOut); n != 1 {
		t.Errorf("observed %v, want one fanned_out drain", p.obs.got())
	}
}

func countOf(xs []string, x string) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

// flakyJobs is a producer that, on its first call, queues only the first
// cut jobs and then fails, as a worker killed or a Redis lost half-way
// through a fan-out.
type flakyJobs struct {
	next  *tasks.Producer
	cut   int
	calls atomic.Int64
}

var errCut = errors.New("connection reset by peer")

func (f *flakyJobs) JobQueues(ctx context.Context, tokens ...string) ([]string, error) {
	return f.next.JobQueues(ctx, tokens...)
}

func (f *flakyJobs) Enqueue(ctx context.Context, queue string, reqs ...tasks.DetachPayload) ([]tasks.EnqueueResult, error) {
	if f.calls.Add(1) > 1 {
		return f.next.Enqueue(ctx, queue, reqs...)
	}
	done, err := f.next.Enqueue(ctx, queue, reqs[:f.cut]...)
	if err != nil {
		return done, err
	}
	return done, errCut
}

func TestDrainCutShortIsFinishedByItsRetry(t *testing.T) {
	t.Parallel()
	jobs := &flakyJobs{cut: 7}
	p := startPipeline(t, pipelineOptions{jobs: func(next *tasks.Producer) drain.Enqueuer { jobs.next = next; return jobs }})
	holders := p.fleet(t)
	d := tasks.DrainPayload{RegionId: esstest.DefaultRegionID, LoadBalancerId: "lb-x", ClientToken: "incident-2"}
	res, err := tasks.EnqueueDrain(t.Context(), p.client, d)
	if err != nil {
		t.Fatal(err)
	}
	info := p.wait(t, tasks.DefaultQueue, res.TaskID)
	r := drainResult(t, info)
	if info.State != asynq.TaskStateCompleted || r.Outcome != tasks.OutcomeFannedOut || r.Attempts != 2 || len(r.Groups) != len(holders) {
		t.Fatalf("drain %s (last error %q), result %+v; want fanned_out on attempt 2 with %d groups", info.State, info.LastErr, r, len(holders))
	}
	if jobs.calls.Load() != 2 {
		t.Fatalf("fan-out ran %d times, want 2", jobs.calls.Load())
	}
	for _, g := range r.Groups {
		if job := p.wait(t, tasks.DefaultQueue, g.TaskId); job.State != asynq.TaskStateCompleted {
			t.Fatalf("job %s: %s", g.TaskId, job.State)
		}
	}
	p.checkDrained(t, holders)
	detachCalls := p.emu.Stats().Calls[essclient.ActionDetachLoadBalancers]["OK"]

	// The same drain again, after its task is gone: every job is a duplicate.
	if err := p.insp.DeleteTask(tasks.DefaultQueue, res.TaskID); err != nil {
		t.Fatal(err)
	}
	if res, err = tasks.EnqueueDrain(t.Context(), p.client, d); err != nil || res.State != tasks.StateEnqueued {
		t.Fatalf("drain again: %+v, %v", res, err)
	}
	again := drainResult(t, p.wait(t, tasks.DefaultQueue, res.TaskID))
	if again.Outcome != tasks.OutcomeFannedOut || !slices.Equal(again.Groups, r.Groups) {
		t.Fatalf("drain again = %+v, want the same groups", again)
	}
	p.checkDrained(t, holders)
	if got := p.emu.Stats().Calls[essclient.ActionDetachLoadBalancers]["OK"]; got != detachCalls {
		t.Fatalf("DetachLoadBalancers calls %d after the second drain, want %d (no new job)", got, detachCalls)
	}
}

// endings is a drain.Notifier that keeps what it was told.
type endings struct {
	mu   sync.Mutex
	seen []string // token/archived/outcome
}

func (e *endings) JobEnded(_ context.Context, token string, archived bool, result []byte) {
	r, err := tasks.DecodeDrainResult(result)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seen = append(e.seen, fmt.Sprintf("%s/%v/%s/%v", token, archived, r.Outcome, err))
}

func (e *endings) got() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.seen)
}

// A drain's final answer is told to the Notifier once, with its result.
func TestDrainEndIsNotified(t *testing.T) {
	t.Parallel()
	n := &endings{}
	p := startPipeline(t, pipelineOptions{drain: drain.Config{Notifier: n}})
	p.fleet(t)
	res, err := tasks.EnqueueDrain(t.Context(), p.client, tasks.DrainPayload{LoadBalancerId: "lb-x", ClientToken: "incident-n"})
	if err != nil {
		t.Fatal(err)
	}
	p.wait(t, tasks.DefaultQueue, res.TaskID)
	if got, want := n.got(), []string{"incident-n/false/" + tasks.OutcomeFannedOut + "/<nil>"}; !slices.Equal(got, want) {
		t.Fatalf("notified %v, want %v", got, want)
	}
}
