package main

import (
	"encoding/json"
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

// startDrainWorker runs the real detach and drain handlers on s, against an
// emulator holding: lb-x on asg-d1 and asg-d2 (and on a group of cn-beijing),
// lb-f on asg-f, whose asynchronous detaches fail.
func startDrainWorker(t *testing.T, s *redistest.Server) *esstest.Server {
	t.Helper()
	emu := esstest.NewServer(esstest.Config{ActivityDuration: 200 * time.Millisecond})
	t.Cleanup(emu.Close)
	for _, g := range []esstest.ScalingGroup{
		{ScalingGroupId: "asg-d1", LoadBalancerIds: []string{"lb-x", "lb-keep"}},
		{ScalingGroupId: "asg-d2", LoadBalancerIds: []string{"lb-x"}},
		{ScalingGroupId: "asg-d3", LoadBalancerIds: []string{"lb-keep"}},
		{ScalingGroupId: "asg-bj", RegionId: "cn-beijing", LoadBalancerIds: []string{"lb-x"}},
		{ScalingGroupId: "asg-f", LoadBalancerIds: []string{"lb-f"}, ActivityStatusCode: esstest.StatusFailed},
	} {
		if err := emu.AddScalingGroup(g); err != nil {
			t.Fatal(err)
		}
	}
	ess, err := essclient.New(essclient.Config{Endpoint: emu.URL, DefaultRegion: esstest.DefaultRegionID, Credentials: emu.Credentials()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ess.Close)
	rdb := s.Client(t)
	dh, err := detach.NewHandler(detach.Config{ESS: ess, Redis: rdb, PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h, err := drain.NewHandler(drain.Config{ESS: ess, Jobs: tasks.NewProducer(rdb), DefaultRegion: esstest.DefaultRegionID})
	if err != nil {
		t.Fatal(err)
	}
	srv := asynq.NewServer(asynq.RedisClientOpt{Addr: s.Addr}, dh.ServerConfig(asynq.Config{
		Concurrency: 4, DelayedTaskCheckInterval: 100 * time.Millisecond, LogLevel: asynq.FatalLevel,
	}))
	mux := asynq.NewServeMux()
	mux.Handle(tasks.TypeDetachLoadBalancers, dh)
	mux.Handle(tasks.TypeDrainLoadBalancer, h)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return emu
}

func TestDrainWait(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{})
	emu := startDrainWorker(t, s)

	for run, state := range []string{"enqueued", "duplicate"} {
		r := runCmd(t, s.URL(0), "", "--lb", "lb-x", "--all-groups", "--token", "drain-e", "--wait", "--wait-timeout", "20s")
		r.wantCode(t, 0)
		lines := r.lines(t)
		if len(lines) != 4 {
			t.Fatalf("run %d: got %d lines, want the drain's, its end and 2 jobs' ends:\n%s", run+1, len(lines), r.stdout)
		}
		if l := lines[0]; l["task_id"] != "drain:drain-e" || l["client_token"] != "drain-e" || l["queue"] != "default" || l["state"] != state {
			t.Fatalf("run %d: first line %v, want drain:drain-e %s", run+1, l, state)
		}
		if l := lines[1]; l["task_id"] != "drain:drain-e" || l["state"] != "completed" {
			t.Fatalf("run %d: second line %v, want the drain completed", run+1, l)
		}
		res := decodeDrain(t, lines[1])
		if res.Outcome != tasks.OutcomeFannedOut || len(res.Groups) != 2 || res.Groups[0].ScalingGroupId != "asg-d1" || res.Groups[1].ScalingGroupId != "asg-d2" {
			t.Fatalf("run %d: drain result %+v, want fanned_out to asg-d1 and asg-d2", run+1, res)
		}
		want := map[string]bool{res.Groups[0].TaskId: true, res.Groups[1].TaskId: true}
		for _, l := range lines[2:] {
			id, _ := l["task_id"].(string)
			if !want[id] || l["state"] != "completed" {
				t.Fatalf("run %d: job line %v, want one of %v completed", run+1, l, want)
			}
			delete(want, id)
		}
	}
	if s := emu.Stats(); s.DetachesApplied != 2 {
		t.Fatalf("DetachesApplied = %d after two runs, want 2", s.DetachesApplied)
	}
	if g, _ := emu.ScalingGroup("asg-bj"); len(g.LoadBalancerIds) != 1 {
		t.Fatalf("group of another region touched: %v", g.LoadBalancerIds)
	}
}

func TestDrainWaitFailedJob(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{})
	startDrainWorker(t, s)
	r := runCmd(t, s.URL(0), "", "--lb", "lb-f,lb-none", "--all-groups", "--async", "--wait", "--wait-timeout", "20s")
	r.wantCode(t, 1)
	lines := r.lines(t)
	if len(lines) != 5 {
		t.Fatalf("got %d lines, want 2 drains, their 2 ends and 1 job end:\n%s", len(lines), r.stdout)
	}
	if a, b := decodeDrain(t, lines[2]), decodeDrain(t, lines[3]); a.Outcome != tasks.OutcomeFannedOut || b.Outcome != tasks.OutcomeNotAttached || !a.Async {
		t.Fatalf("drain results %+v and %+v, want fanned_out (async) and not_attached", a, b)
	}
	if l := lines[4]; l["state"] != "archived" || decodeResult(t, l).Outcome != tasks.OutcomeActivityFailed {
		t.Fatalf("job line %v, want archived activity_failed", l)
	}
}

// decodeDrain reads the result object of a drain's final line.
func decodeDrain(t *testing.T, line map[string]any) tasks.DrainResult {
	t.Helper()
	b, err := json.Marshal(line["result"])
	if err != nil {
		t.Fatal(err)
	}
	r, err := tasks.DecodeDrainResult(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
