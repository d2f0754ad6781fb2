package drain_test

import (
	"testing"

	"github.com/hibiken/asynq"

	"essworker/essclient"
	"essworker/essclient/esstest"
	"essworker/internal/drain"
	"essworker/tasks"
)

func TestDrainNotAttached(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{})
	p.fleet(t)
	res, err := tasks.EnqueueDrain(t.Context(), p.client, tasks.DrainPayload{LoadBalancerId: "lb-nowhere", ClientToken: "d-none"})
	if err != nil {
		t.Fatal(err)
	}
	info := p.wait(t, tasks.DefaultQueue, res.TaskID)
	r := drainResult(t, info)
	if info.State != asynq.TaskStateCompleted || r.Outcome != tasks.OutcomeNotAttached || len(r.Groups) != 0 || len(r.RequestIds) != 3 {
		t.Fatalf("drain %s, result %+v; want completed not_attached after 3 pages", info.State, r)
	}
	if q, err := p.insp.GetQueueInfo(tasks.DefaultQueue); err != nil || q.Size != 1 {
		t.Fatalf("queue holds %+v, %v; want the drain alone", q, err)
	}
}

func TestDrainPermanentListingFailure(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{})
	p.fleet(t)
	if err := p.emu.SetFaults(esstest.FaultPlan{essclient.ActionDescribeScalingGroups: {ErrorRate: 1, ErrorCodes: []string{"Forbidden.RAM"}}}); err != nil {
		t.Fatal(err)
	}
	res, err := tasks.EnqueueDrain(t.Context(), p.client, tasks.DrainPayload{LoadBalancerId: "lb-x", ClientToken: "d-forbidden"})
	if err != nil {
		t.Fatal(err)
	}
	info := p.wait(t, tasks.DefaultQueue, res.TaskID)
	r := drainResult(t, info)
	if info.State != asynq.TaskStateArchived || r.Outcome != tasks.OutcomeFailed || r.ErrorCode != "Forbidden.RAM" || r.Attempts != 1 || len(r.RequestIds) != 1 {
		t.Fatalf("drain %s, result %+v; want archived failed Forbidden.RAM on attempt 1", info.State, r)
	}
	if s := p.emu.Stats(); s.Calls[essclient.ActionDescribeScalingGroups]["Forbidden.RAM"] != 1 || s.DetachesApplied != 0 {
		t.Fatalf("stats %+v; want one refused listing, no detach", s)
	}
}

func TestDrainRetriesListingThenFails(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{drain: drain.Config{MaxRetry: 2}})
	p.fleet(t)
	if err := p.emu.SetFaults(esstest.FaultPlan{essclient.ActionDescribeScalingGroups: {ErrorRate: 1, ErrorCodes: []string{"ServiceUnavailable"}}}); err != nil {
		t.Fatal(err)
	}
	res, err := tasks.EnqueueDrain(t.Context(), p.client, tasks.DrainPayload{LoadBalancerId: "lb-x", ClientToken: "d-503"})
	if err != nil {
		t.Fatal(err)
	}
	info := p.wait(t, tasks.DefaultQueue, res.TaskID)
	r := drainResult(t, info)
	if info.State != asynq.TaskStateArchived || r.Outcome != tasks.OutcomeFailed || r.ErrorCode != "ServiceUnavailable" || r.Attempts != 3 {
		t.Fatalf("drain %s, result %+v; want archived failed ServiceUnavailable after 3 attempts", info.State, r)
	}
	if got := p.emu.Stats().Calls[essclient.ActionDescribeScalingGroups]["ServiceUnavailable"]; got != 3 {
		t.Fatalf("DescribeScalingGroups answered ServiceUnavailable %d times, want 3", got)
	}
}

func TestDrainInvalidPayload(t *testing.T) {
	t.Parallel()
	p := startPipeline(t, pipelineOptions{})
	if _, err := p.client.Enqueue(asynq.NewTask(tasks.TypeDrainLoadBalancer, []byte(`{"LoadBalancerIds":["lb-x"]}`)), asynq.TaskID("drain:bad")); err != nil {
		t.Fatal(err)
	}
	info := p.wait(t, tasks.DefaultQueue, "drain:bad")
	r := drainResult(t, info)
	if info.State != asynq.TaskStateArchived || r.Outcome != tasks.OutcomeInvalid || r.ErrorCode != "InvalidPayload" ||
		r.ErrorMessage != "invalid payload: LoadBalancerIds: unknown field" {
		t.Fatalf("drain %s, result %+v", info.State, r)
	}
	if calls := p.emu.Stats().Calls; len(calls) != 0 {
		t.Fatalf("ESS calls %v for an invalid drain, want none", calls)
	}
}
