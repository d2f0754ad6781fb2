package worker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/essclient/esstest"
	"essworker/internal/redistest"
	"essworker/internal/workertest"
	"essworker/tasks"
)

// TestWorkerRunsDrains checks the wiring: a worker runs a drain and the
// detach jobs it queues, in the drain's queue and the worker's region, and
// counts both in its metrics.
func TestWorkerRunsDrains(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t, redistest.Options{})
	r := startWorker(t, rs)
	for i := range 6 {
		g := esstest.ScalingGroup{ScalingGroupId: fmt.Sprintf("asg-w%d", i), LoadBalancerIds: []string{"lb-keep"}}
		if i%2 == 0 {
			g.LoadBalancerIds = append(g.LoadBalancerIds, "lb-x")
		}
		if err := r.emu.AddScalingGroup(g); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.emu.AddScalingGroup(esstest.ScalingGroup{ScalingGroupId: "asg-elsewhere", RegionId: "cn-beijing", LoadBalancerIds: []string{"lb-x"}}); err != nil {
		t.Fatal(err)
	}
	opt := asynq.RedisClientOpt{Addr: rs.Addr}
	client, insp := asynq.NewClient(opt), asynq.NewInspector(opt)
	t.Cleanup(func() { client.Close(); insp.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := tasks.EnqueueDrain(ctx, client, tasks.DrainPayload{LoadBalancerId: "lb-x", ClientToken: "w-drain"})
	if err != nil {
		t.Fatal(err)
	}
	info, err := tasks.WaitResult(ctx, insp, res.Queue, res.TaskID, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	dr, err := tasks.DecodeDrainResult(info.Result)
	if err != nil || info.State != asynq.TaskStateCompleted || dr.Outcome != tasks.OutcomeFannedOut || dr.RegionId != esstest.DefaultRegionID || len(dr.Groups) != 3 {
		t.Fatalf("drain %s, result %+v, %v", info.State, dr, err)
	}
	for _, g := range dr.Groups {
		if _, err := tasks.WaitResult(ctx, insp, tasks.DefaultQueue, g.TaskId, 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if g, _ := r.emu.ScalingGroup("asg-elsewhere"); len(g.LoadBalancerIds) != 1 {
		t.Fatalf("group of another region touched: %v", g.LoadBalancerIds)
	}
	_, body, err := workertest.Get(r.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		labels map[string]string
		want   float64
	}{
		{map[string]string{"type": tasks.TypeDrainLoadBalancer, "outcome": tasks.OutcomeFannedOut}, 1},
		{map[string]string{"type": tasks.TypeDetachLoadBalancers, "outcome": tasks.OutcomeDetached}, 3},
	} {
		if got := metric(t, body, "essworker_jobs_total", c.labels); got != c.want {
			t.Errorf("essworker_jobs_total%v = %v, want %v", c.labels, got, c.want)
		}
	}
	if got := metric(t, body, "essworker_ess_requests_total", map[string]string{"action": "DescribeScalingGroups", "code": "OK"}); got != 1 {
		t.Errorf("DescribeScalingGroups OK = %v, want 1", got)
	}
}
