package detach_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"essworker/essclient"
	"essworker/essclient/esstest"
	"essworker/internal/detach"
	"essworker/internal/ratelimit"
	"essworker/internal/redistest"
	"essworker/internal/sharedtest"
	"essworker/tasks"
)

// pipeline is a worker in the test process: real Redis, the emulator reached
// through the real SDK, the real handler in a real asynq server.
type pipeline struct {
	emu    *esstest.Server
	redis  *redistest.Server
	client *asynq.Client
	insp   *asynq.Inspector
	obs    *recorder
}

type pipelineOptions struct {
	handler  detach.Config // ESS, Redis and Observer are filled in
	emulator esstest.Config
	workers  int // asynq servers on the same Redis; default 1
	// concurrency is each asynq server's; default 4.
	concurrency int
	// redisHook, when set, is added to the handler's Redis client (not to
	// asynq's).
	redisHook redis.Hook
	// limiter, when set, makes the rate limiter of the ESS client and the
	// handler on the pipeline's Redis.
	limiter func(*redistest.Server) *ratelimit.Limiter
}

func startPipeline(t *testing.T, o pipelineOptions) *pipeline {
	t.Helper()
	rs := redistest.Start(t, redistest.Options{})
	emu := esstest.NewServer(o.emulator)
	t.Cleanup(emu.Close)
	var lim *ratelimit.Limiter
	if o.limiter != nil {
		lim = o.limiter(rs)
	}
	ecfg := essclient.Config{
		Endpoint:      emu.URL,
		DefaultRegion: esstest.DefaultRegionID,
		Credentials:   emu.Credentials(),
		Timeout:       2 * time.Second,
	}
	if lim != nil {
		ecfg.Limiter = lim
	}
	ess, err := essclient.New(ecfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ess.Close)
	p := &pipeline{emu: emu, redis: rs, obs: &recorder{}}
	redisOpt := asynq.RedisClientOpt{Addr: rs.Addr}
	hc := o.handler
	rc := rs.Client(t)
	if o.redisHook != nil {
		rc.AddHook(o.redisHook)
	}
	hc.ESS, hc.Redis, hc.Observer, hc.RateLimit = ess, rc, p.obs, lim
	setDefault(&hc.PollInterval, 200*time.Millisecond)
	setDefault(&hc.BusyDelay, 200*time.Millisecond)
	setDefault(&hc.RetryBase, 50*time.Millisecond)
	setDefault(&hc.RetryCap, 300*time.Millisecond)
	setDefault(&hc.ThrottleBase, 100*time.Millisecond)
	h, err := detach.NewHandler(hc)
	if err != nil {
		t.Fatal(err)
	}
	for range max(o.workers, 1) {
		srv := asynq.NewServer(redisOpt, h.ServerConfig(asynq.Config{
			Concurrency:              cmp.Or(o.concurrency, 4),
			DelayedTaskCheckInterval: 100 * time.Millisecond,
			LogLevel:                 asynq.FatalLevel,
		}))
		mux := asynq.NewServeMux()
		mux.Handle(tasks.TypeDetachLoadBalancers, h)
		if err := srv.Start(mux); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Shutdown)
	}
	p.client = asynq.NewClient(redisOpt)
	p.insp = asynq.NewInspector(redisOpt)
	t.Cleanup(func() { p.client.Close(); p.insp.Close() })
	return p
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d == 0 {
		*d = v
	}
}

func (p *pipeline) addGroup(t *testing.T, g esstest.ScalingGroup) {
	t.Helper()
	if err := p.emu.AddScalingGroup(g); err != nil {
		t.Fatal(err)
	}
}

// run enqueues req and waits for all its jobs to end.
func (p *pipeline) run(t *testing.T, req tasks.DetachPayload) []*asynq.TaskInfo {
	t.Helper()
	res, err := tasks.Enqueue(context.Background(), p.client, req)
	if err != nil {
		t.Fatal(err)
	}
	return p.wait(t, res)
}

func (p *pipeline) wait(t *testing.T, enq []tasks.EnqueueResult) []*asynq.TaskInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var infos []*asynq.TaskInfo
	for _, e := range enq {
		info, err := tasks.WaitResult(ctx, p.insp, e.Queue, e.TaskID, 50*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		infos = append(infos, info)
	}
	return infos
}

// leased reports whether a job holds group's lease.
func (p *pipeline) leased(t *testing.T, group string) bool {
	t.Helper()
	n, err := p.redis.Client(t).Exists(context.Background(), detach.LeaseKey(detach.DefaultKeyPrefix, group)).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func result(t *testing.T, info *asynq.TaskInfo) tasks.DetachResult {
	t.Helper()
	r, err := tasks.DecodeDetachResult(info.Result)
	if err != nil {
		t.Fatalf("task %s (%s, last error %q): %v", info.ID, info.State, info.LastErr, err)
	}
	return r
}

func (p *pipeline) attached(t *testing.T, group string) []string {
	t.Helper()
	g, ok := p.emu.ScalingGroup(group)
	if !ok {
		t.Fatalf("group %s gone", group)
	}
	return g.LoadBalancerIds
}

// recorder is a detach.Observer that keeps what it was told.
type recorder struct {
	mu         sync.Mutex
	outcomes   []string
	activities []string
	contended  int
}

func (r *recorder) JobFinished(_, outcome string, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outcomes = append(r.outcomes, outcome)
}

func (r *recorder) ActivityFinished(status string, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.activities = append(r.activities, status)
}

func (r *recorder) GroupLeaseContended() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.contended++
}

func (r *recorder) contendedCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.contended
}

func TestSyncDetach(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{})
	p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-s", LoadBalancerIds: []string{"lb-1", "lb-2"}})
	infos := p.run(t, tasks.DetachPayload{ScalingGroupId: "asg-s", LoadBalancerIds: []string{"lb-1"}, ClientToken: "tok-sync"})
	if infos[0].State != asynq.TaskStateCompleted {
		t.Fatalf("state %s, last error %q", infos[0].State, infos[0].LastErr)
	}
	r := result(t, infos[0])
	if r.Outcome != tasks.OutcomeDetached || r.ClientToken != "tok-sync" || len(r.RequestIds) != 1 || r.RequestIds[0] == "" ||
		!slices.Equal(r.DetachedIds, []string{"lb-1"}) || len(r.NotAttachedIds) != 0 {
		t.Fatalf("result %+v", r)
	}
	if got := p.attached(t, "asg-s"); !slices.Equal(got, []string{"lb-2"}) {
		t.Fatalf("attached after detach: %v", got)
	}
	if s := p.emu.Stats(); s.DetachesApplied != 1 || s.ActivitiesCreated != 0 {
		t.Fatalf("stats %+v", s)
	}
	// The result above and the group's freedom come from one script.
	if p.leased(t, "asg-s") {
		t.Fatal("group asg-s still leased after its job completed")
	}
}

func TestAsyncDetachFollowsActivity(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{emulator: esstest.Config{ActivityDuration: 500 * time.Millisecond}})
	p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-a", LoadBalancerIds: []string{"lb-1", "lb-2"}})
	infos := p.run(t, tasks.DetachPayload{ScalingGroupId: "asg-a", LoadBalancerIds: []string{"lb-1", "lb-2"}, Async: true})
	r := result(t, infos[0])
	if infos[0].State != asynq.TaskStateCompleted || r.Outcome != tasks.OutcomeDetached || r.StatusCode != essclient.StatusSuccessful ||
		!slices.Equal(r.DetachedIds, []string{"lb-1", "lb-2"}) {
		t.Fatalf("state %s result %+v", infos[0].State, r)
	}
	if infos[0].Retried != 0 || r.Attempts != 1 {
		t.Fatalf("polling counted as failures: retried %d, attempts %d", infos[0].Retried, r.Attempts)
	}
	act, ok := p.emu.Activity(r.ScalingActivityId)
	if !ok || act.StatusCode != essclient.StatusSuccessful {
		t.Fatalf("emulator activity %q: %+v %v", r.ScalingActivityId, act, ok)
	}
	if got := p.attached(t, "asg-a"); len(got) != 0 {
		t.Fatalf("still attached: %v", got)
	}
	s := p.emu.Stats()
	if s.ActivitiesCreated != 1 || s.Calls["DetachLoadBalancers"]["OK"] != 1 || s.Calls["DescribeScalingActivities"]["OK"] < 1 {
		t.Fatalf("stats %+v", s)
	}
	if p.obs.activities[0] != essclient.StatusSuccessful {
		t.Fatalf("observer activities %v", p.obs.activities)
	}
	if p.leased(t, "asg-a") {
		t.Fatal("group asg-a still leased after its job completed")
	}
	n, err := detach.InFlightActivities(context.Background(), p.redis.Client(t), detach.DefaultKeyPrefix, time.Hour)
	if err != nil || n != 0 {
		t.Fatalf("activities in flight after the job: %d, %v", n, err)
	}
}

func TestSevenLoadBalancersSplitInTwoJobs(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{emulator: esstest.Config{ActivityDuration: 200 * time.Millisecond}})
	lbs := []string{"lb-1", "lb-2", "lb-3", "lb-4", "lb-5", "lb-6", "lb-7"}
	p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-7", LoadBalancerIds: lbs})
	infos := p.run(t, tasks.DetachPayload{ScalingGroupId: "asg-7", LoadBalancerIds: lbs, Async: true, ClientToken: "tok-seven"})
	if len(infos) != 2 {
		t.Fatalf("%d jobs, want 2", len(infos))
	}
	var sizes []int
	for _, info := range infos {
		r := result(t, info)
		if info.State != asynq.TaskStateCompleted || r.Outcome != tasks.OutcomeDetached {
			t.Fatalf("state %s result %+v", info.State, r)
		}
		sizes = append(sizes, len(r.LoadBalancerIds))
	}
	if !slices.Equal(sizes, []int{5, 2}) {
		t.Fatalf("chunk sizes %v", sizes)
	}
	if got := p.attached(t, "asg-7"); len(got) != 0 {
		t.Fatalf("still attached: %v", got)
	}
	if s := p.emu.Stats(); s.DetachesApplied != 2 || s.ActivitiesCreated != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestNotAttached(t *testing.T) {
	t.Parallel()
	for _, strict := range []bool{false, true} {
		t.Run(fmt.Sprintf("strict=%v", strict), func(t *testing.T) {
			t.Parallel()
			p := startPipeline(t, pipelineOptions{handler: detach.Config{StrictNotAttached: strict}})
			p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-n", LoadBalancerIds: []string{"lb-1"}})
			infos := p.run(t, tasks.DetachPayload{ScalingGroupId: "asg-n", LoadBalancerIds: []string{"lb-gone"}})
			want := asynq.TaskStateCompleted
			if strict {
				want = asynq.TaskStateArchived
			}
			r := result(t, infos[0])
			if infos[0].State != want || r.Outcome != tasks.OutcomeNotAttached || r.ErrorCode != "InvalidLoadBalancerId.NotFound" ||
				!slices.Equal(r.NotAttachedIds, []string{"lb-gone"}) || len(r.DetachedIds) != 0 {
				t.Fatalf("state %s, result %+v", infos[0].State, r)
			}
			if infos[0].Retried != 0 {
				t.Fatalf("retried %d times", infos[0].Retried)
			}
		})
	}
}

func TestUnknownGroupArchived(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{})
	infos := p.run(t, tasks.DetachPayload{ScalingGroupId: "asg-missing", LoadBalancerIds: []string{"lb-1"}})
	r := result(t, infos[0])
	if infos[0].State != asynq.TaskStateArchived || r.Outcome != tasks.OutcomeFailed ||
		r.ErrorCode != "InvalidScalingGroupId.NotFound" || infos[0].Retried != 0 {
		t.Fatalf("state %s retried %d result %+v", infos[0].State, infos[0].Retried, r)
	}
	if !strings.Contains(infos[0].LastErr, "InvalidScalingGroupId.NotFound") {
		t.Fatalf("last error %q does not name the ESS code", infos[0].LastErr)
	}
}

func TestMalformedPayloadArchivedWithoutESSCalls(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{})
	cases := []struct {
		payload string
		field   string
	}{
		{`{"ScalingGroupId":"asg-1","LoadBalancerId":["lb-1"]}`, "LoadBalancerId"},
		{`{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1","lb-2","lb-3","lb-4","lb-5","lb-6"]}`, "LoadBalancerIds"},
		{`{"LoadBalancerIds":["lb-1"]}`, "ScalingGroupId"},
		{`not json`, "payload"},
	}
	var enq []tasks.EnqueueResult
	for i, c := range cases {
		info, err := p.client.Enqueue(asynq.NewTask(tasks.TypeDetachLoadBalancers, []byte(c.payload)),
			asynq.Retention(time.Hour), asynq.TaskID(fmt.Sprintf("bad-%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		enq = append(enq, tasks.EnqueueResult{TaskID: info.ID, Queue: info.Queue})
	}
	for i, info := range p.wait(t, enq) {
		r := result(t, info)
		if info.State != asynq.TaskStateArchived || r.Outcome != tasks.OutcomeInvalid || info.Retried != 0 {
			t.Errorf("case %d: state %s retried %d result %+v", i, info.State, info.Retried, r)
		}
		if !strings.Contains(info.LastErr, cases[i].field) {
			t.Errorf("case %d: last error %q does not name %s", i, info.LastErr, cases[i].field)
		}
	}
	if s := p.emu.Stats(); len(s.Calls) != 0 {
		t.Fatalf("ESS was called: %+v", s.Calls)
	}
}

func TestRetriesApplyOnce(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{emulator: esstest.Config{Seed: 7, ActivityDuration: 100 * time.Millisecond}})
	err := p.emu.SetFaults(esstest.FaultPlan{"DetachLoadBalancers": {
		ErrorRate: 0.4, ErrorCodes: []string{"ServiceUnavailable", "InternalError"}, LostAnswerRate: 0.3,
	}})
	if err != nil {
		t.Fatal(err)
	}
	const jobs = 12
	var enq []tasks.EnqueueResult
	for i := range jobs {
		g := fmt.Sprintf("asg-r%d", i)
		p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: g, LoadBalancerIds: []string{"lb-1", "lb-2"}})
		res, err := tasks.Enqueue(context.Background(), p.client, tasks.DetachPayload{
			ScalingGroupId: g, LoadBalancerIds: []string{"lb-1"}, Async: i%2 == 0,
		})
		if err != nil {
			t.Fatal(err)
		}
		enq = append(enq, res...)
	}
	for _, info := range p.wait(t, enq) {
		if r := result(t, info); info.State != asynq.TaskStateCompleted || r.Outcome != tasks.OutcomeDetached {
			t.Fatalf("state %s result %+v", info.State, r)
		}
	}
	s := p.emu.Stats()
	if s.DetachesApplied != jobs || s.ActivitiesCreated != jobs/2 {
		t.Fatalf("applied %d, activities %d; want %d and %d (stats %+v)", s.DetachesApplied, s.ActivitiesCreated, jobs, jobs/2, s)
	}
	calls := s.Calls["DetachLoadBalancers"]
	if calls["ServiceUnavailable"]+calls["InternalError"] == 0 || calls["LostAnswer"] == 0 {
		t.Fatalf("faults did not fire or no lost answer was retried: %v", calls)
	}
}

func TestOneJobPerGroupAtATime(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{emulator: esstest.Config{ActivityDuration: 300 * time.Millisecond}, workers: 2})
	lbs := []string{"lb-1", "lb-2", "lb-3", "lb-4"}
	p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-o", LoadBalancerIds: lbs})
	var enq []tasks.EnqueueResult
	for _, lb := range lbs {
		res, err := tasks.Enqueue(context.Background(), p.client, tasks.DetachPayload{ScalingGroupId: "asg-o", LoadBalancerIds: []string{lb}, Async: true})
		if err != nil {
			t.Fatal(err)
		}
		enq = append(enq, res...)
	}
	var acts []esstest.Activity
	seen := map[string]bool{}
	for _, info := range p.wait(t, enq) {
		r := result(t, info)
		if info.State != asynq.TaskStateCompleted || r.Outcome != tasks.OutcomeDetached {
			t.Fatalf("state %s result %+v", info.State, r)
		}
		if seen[r.ScalingActivityId] {
			continue // jobs that shared a call share its activity
		}
		seen[r.ScalingActivityId] = true
		a, _ := p.emu.Activity(r.ScalingActivityId)
		acts = append(acts, a)
	}
	if busy := p.emu.Stats().Calls["DetachLoadBalancers"]["ScalingActivityInProgress"]; busy != 0 {
		t.Fatalf("ESS answered ScalingActivityInProgress %d times: two jobs talked to one group at once", busy)
	}
	slices.SortFunc(acts, func(a, b esstest.Activity) int { return a.StartTime.Compare(b.StartTime) })
	for i := 1; i < len(acts); i++ {
		if acts[i].StartTime.Before(acts[i-1].EndTime) {
			t.Fatalf("activities overlap: %+v and %+v", acts[i-1], acts[i])
		}
	}
	if p.obs.contended == 0 {
		t.Fatal("no job ever found the group leased; the test did not exercise the lease")
	}
}

func TestActivityEndings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status  string
		state   asynq.TaskState
		outcome string
	}{
		{essclient.StatusWarning, asynq.TaskStateCompleted, tasks.OutcomeDetached},
		{essclient.StatusFailed, asynq.TaskStateArchived, tasks.OutcomeActivityFailed},
		{essclient.StatusRejected, asynq.TaskStateArchived, tasks.OutcomeActivityFailed},
	}
	p := startPipeline(t, pipelineOptions{emulator: esstest.Config{ActivityDuration: 200 * time.Millisecond}})
	for _, c := range cases {
		t.Run(c.status, func(t *testing.T) {
			t.Parallel()
			g := "asg-" + strings.ToLower(c.status)
			p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: g, LoadBalancerIds: []string{"lb-1"},
				ActivityStatusCode: c.status, ActivityStatusMessage: "emulated " + c.status})
			infos := p.run(t, tasks.DetachPayload{ScalingGroupId: g, LoadBalancerIds: []string{"lb-1"}, Async: true})
			r := result(t, infos[0])
			if infos[0].State != c.state || r.Outcome != c.outcome || r.StatusCode != c.status || r.StatusMessage != "emulated "+c.status {
				t.Fatalf("state %s result %+v", infos[0].State, r)
			}
			if c.state == asynq.TaskStateArchived && (!strings.Contains(infos[0].LastErr, "emulated "+c.status) || infos[0].Retried != 0) {
				t.Fatalf("last error %q retried %d", infos[0].LastErr, infos[0].Retried)
			}
		})
	}
}

func TestWaitBoundArchives(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{handler: detach.Config{PollTimeout: 1500 * time.Millisecond}})
	p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-w", LoadBalancerIds: []string{"lb-1"},
		ActivityDuration: esstest.Duration(1000 * time.Hour)})
	infos := p.run(t, tasks.DetachPayload{ScalingGroupId: "asg-w", LoadBalancerIds: []string{"lb-1"}, Async: true})
	r := result(t, infos[0])
	if infos[0].State != asynq.TaskStateArchived || r.Outcome != tasks.OutcomeActivityTimeout || r.StatusCode != essclient.StatusInProgress {
		t.Fatalf("state %s result %+v", infos[0].State, r)
	}
	if s := p.emu.Stats(); s.Calls["DetachLoadBalancers"]["OK"] != 1 {
		t.Fatalf("detach called %v times", s.Calls["DetachLoadBalancers"])
	}
}

// TestRestartedWorkerResumesPolling ends a worker while its job waits on an
// activity and shows that a new worker on the same Redis follows the same
// activity instead of detaching again.
func TestRestartedWorkerResumesPolling(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t, redistest.Options{})
	emu := esstest.NewServer(esstest.Config{ActivityDuration: 2 * time.Second})
	t.Cleanup(emu.Close)
	if err := emu.AddScalingGroup(esstest.ScalingGroup{ScalingGroupId: "asg-k", LoadBalancerIds: []string{"lb-1"}}); err != nil {
		t.Fatal(err)
	}
	redisOpt := asynq.RedisClientOpt{Addr: rs.Addr}
	startWorker := func() *asynq.Server {
		ess, err := essclient.New(essclient.Config{Endpoint: emu.URL, DefaultRegion: esstest.DefaultRegionID,
			Credentials: emu.Credentials()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ess.Close)
		h, err := detach.NewHandler(detach.Config{ESS: ess, Redis: rs.Client(t), PollInterval: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		srv := asynq.NewServer(redisOpt, h.ServerConfig(asynq.Config{Concurrency: 2,
			DelayedTaskCheckInterval: 100 * time.Millisecond, LogLevel: asynq.FatalLevel}))
		mux := asynq.NewServeMux()
		mux.Handle(tasks.TypeDetachLoadBalancers, h)
		if err := srv.Start(mux); err != nil {
			t.Fatal(err)
		}
		return srv
	}
	first := startWorker()
	client := asynq.NewClient(redisOpt)
	insp := asynq.NewInspector(redisOpt)
	t.Cleanup(func() { client.Close(); insp.Close() })
	enq, err := tasks.Enqueue(context.Background(), client, tasks.DetachPayload{ScalingGroupId: "asg-k", LoadBalancerIds: []string{"lb-1"}, Async: true})
	if err != nil {
		t.Fatal(err)
	}
	sharedtest.WaitFor(t, "an activity starts", 10*time.Second, func() (bool, string) {
		n := emu.Stats().ActivitiesCreated
		return n > 0, fmt.Sprint(n, " activities")
	})
	first.Shutdown()
	second := startWorker()
	t.Cleanup(second.Shutdown)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := tasks.WaitResult(ctx, insp, enq[0].Queue, enq[0].TaskID, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if r := result(t, info); info.State != asynq.TaskStateCompleted || r.StatusCode != essclient.StatusSuccessful {
		t.Fatalf("state %s result %+v", info.State, r)
	}
	if s := emu.Stats(); s.Calls["DetachLoadBalancers"]["OK"] != 1 || s.DetachesApplied != 1 {
		t.Fatalf("detach called again after the restart: %+v", s)
	}
}

func TestIsFailureAndRetryDelay(t *testing.T) {
	t.Parallel()
	h, err := detach.NewHandler(detach.Config{ESS: &essclient.Client{}, Redis: redistest.Start(t, redistest.Options{}).Client(t),
		RetryBase: time.Second, RetryCap: 8 * time.Second, ThrottleBase: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	plain := errors.New("boom")
	throttled := &essclient.Error{Code: "Throttling.User", Class: essclient.ClassThrottled}
	cases := []struct {
		n        int
		err      error
		min, max time.Duration
	}{
		{0, plain, 500 * time.Millisecond, time.Second},
		{2, plain, 2 * time.Second, 4 * time.Second},
		{10, plain, 4 * time.Second, 8 * time.Second},
		{0, throttled, 2 * time.Second, 4 * time.Second},
		{64, plain, 4 * time.Second, 8 * time.Second},
	}
	for _, c := range cases {
		for range 20 {
			if d := h.RetryDelay(c.n, c.err, nil); d < c.min || d > c.max {
				t.Fatalf("RetryDelay(%d, %v) = %v, want in [%v, %v]", c.n, c.err, d, c.min, c.max)
			}
		}
		if !detach.IsFailure(c.err) {
			t.Fatalf("IsFailure(%v) = false", c.err)
		}
	}
}

// TestTokenlessJobUsesItsTaskID runs jobs from a producer that set no
// ClientToken: the task ID stands in, or a UUID derived from it when the ID is
// no valid token, the same on every attempt.
func TestTokenlessJobUsesItsTaskID(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{})
	p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-t", LoadBalancerIds: []string{"lb-1", "lb-2"}})
	longID := strings.Repeat("x", 100)
	var enq []tasks.EnqueueResult
	for i, id := range []string{"plain-task-id", longID} {
		payload := fmt.Sprintf(`{"ScalingGroupId":"asg-t","LoadBalancerIds":["lb-%d"]}`, i+1)
		info, err := p.client.Enqueue(asynq.NewTask(tasks.TypeDetachLoadBalancers, []byte(payload)),
			asynq.TaskID(id), asynq.Retention(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		enq = append(enq, tasks.EnqueueResult{TaskID: info.ID, Queue: info.Queue})
	}
	infos := p.wait(t, enq)
	if r := result(t, infos[0]); r.ClientToken != "plain-task-id" || r.Outcome != tasks.OutcomeDetached {
		t.Fatalf("result %+v", r)
	}
	r := result(t, infos[1])
	if r.Outcome != tasks.OutcomeDetached || len(r.ClientToken) > tasks.MaxClientTokenLen || r.ClientToken == longID {
		t.Fatalf("result %+v", r)
	}
}

// TestInFlightActivities counts an activity while its job waits on it, and
// not once the job has ended.
func TestInFlightActivities(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{emulator: esstest.Config{ActivityDuration: 2 * time.Second}})
	p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-f", LoadBalancerIds: []string{"lb-1"}})
	enq, err := tasks.Enqueue(context.Background(), p.client, tasks.DetachPayload{ScalingGroupId: "asg-f", LoadBalancerIds: []string{"lb-1"}, Async: true})
	if err != nil {
		t.Fatal(err)
	}
	rdb := p.redis.Client(t)
	count := func() int64 {
		n, err := detach.InFlightActivities(context.Background(), rdb, detach.DefaultKeyPrefix, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	sharedtest.WaitFor(t, "the started activity counted in flight", 10*time.Second, func() (bool, string) {
		n := count()
		return n == 1, fmt.Sprint(n, " in flight")
	})
	if info := p.wait(t, enq)[0]; info.State != asynq.TaskStateCompleted {
		t.Fatalf("state %s, last error %q", info.State, info.LastErr)
	}
	if n := count(); n != 0 {
		t.Fatalf("%d activities in flight after the job ended, want 0", n)
	}
}

// A job's scripts go by their SHA1; a Redis that lost them (SCRIPT FLUSH, as
// after a restart) gets their text again, and the job runs as before. The
// last job is async: the script that folds its activity's length into the
// group's estimate, sent at its end, meets a Redis that never had it.
func TestScriptsSentAgainAfterFlush(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{emulator: esstest.Config{ActivityDuration: 200 * time.Millisecond}})
	p.addGroup(t, esstest.ScalingGroup{ScalingGroupId: "asg-f", LoadBalancerIds: []string{"lb-1", "lb-2", "lb-3", "lb-keep"}})
	rdb := p.redis.Client(t)
	for i, lb := range []string{"lb-1", "lb-2", "lb-3"} {
		if i > 0 {
			if err := rdb.ScriptFlush(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
		}
		info := p.run(t, tasks.DetachPayload{ScalingGroupId: "asg-f", LoadBalancerIds: []string{lb}, Async: lb == "lb-3"})[0]
		if r := result(t, info); info.State != asynq.TaskStateCompleted || r.Outcome != tasks.OutcomeDetached {
			t.Fatalf("job of %s: state %s, result %+v", lb, info.State, r)
		}
		if p.leased(t, "asg-f") {
			t.Fatalf("group still leased after the job of %s", lb)
		}
	}
	ms, err := rdb.HGet(context.Background(), detach.DefaultKeyPrefix+"activity-estimates", "asg-f").Int64()
	if err != nil || ms <= 0 {
		t.Fatalf("activity estimate of asg-f: %d, %v; want one learned from the async job", ms, err)
	}
}
