package tasks

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
)

func TestDecodeDrainPayload(t *testing.T) {
	t.Parallel()
	got, err := DecodeDrainPayload([]byte(`{"RegionId":"cn-beijing","LoadBalancerId":"lb-x","ForceDetach":true,"Async":true,"ClientToken":"drain-1"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := DrainPayload{RegionId: "cn-beijing", LoadBalancerId: "lb-x", ForceDetach: true, Async: true, ClientToken: "drain-1"}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for _, tc := range []struct {
		name, in, field, msg string
	}{
		{"missing LB", `{"ClientToken":"t"}`, "LoadBalancerId", "invalid payload: LoadBalancerId: required"},
		{"detach field", `{"LoadBalancerId":"lb-x","LoadBalancerIds":["lb-x"]}`, "LoadBalancerIds", "invalid payload: LoadBalancerIds: unknown field"},
		{"wrong case", `{"loadBalancerId":"lb-x"}`, "loadBalancerId", "invalid payload: loadBalancerId: unknown field"},
		{"twice", `{"LoadBalancerId":"lb-x","LoadBalancerId":"lb-y"}`, "LoadBalancerId", "invalid payload: LoadBalancerId: given more than once"},
		{"type", `{"LoadBalancerId":"lb-x","Async":"yes"}`, "Async", "invalid payload: Async: must be a boolean (true or false), got string"},
		{"space", `{"LoadBalancerId":"lb x"}`, "LoadBalancerId", "invalid payload: LoadBalancerId: must be printable ASCII without spaces (byte 2 is 0x20)"},
		{"region", `{"LoadBalancerId":"lb-x","RegionId":"CN_1"}`, "RegionId", `invalid payload: RegionId: must look like a region ID (lowercase letters, digits, dashes, e.g. cn-hangzhou), got "CN_1"`},
		{"token", `{"LoadBalancerId":"lb-x","ClientToken":"` + strings.Repeat("t", 65) + `"}`, "ClientToken", "invalid payload: ClientToken: longer than 64 characters (got 65)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeDrainPayload([]byte(tc.in))
			wantFieldError(t, err, tc.field, tc.msg)
		})
	}
	for in, msg := range map[string]string{
		`{"LoadBalancerId":"lb-x"} {}`: "invalid payload: trailing data after the JSON object",
		`["lb-x"]`:                     "invalid payload: must be a JSON object, got array",
	} {
		if _, err := DecodeDrainPayload([]byte(in)); err == nil || err.Error() != msg || !errors.Is(err, ErrInvalidPayload) {
			t.Errorf("DecodeDrainPayload(%s) = %v, want %q", in, err, msg)
		}
	}
}

func TestDrainPayloadJSONNames(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(DrainPayload{RegionId: "cn-hangzhou", LoadBalancerId: "lb-x", Async: true, ClientToken: "d"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"RegionId":"cn-hangzhou","LoadBalancerId":"lb-x","ForceDetach":false,"Async":true,"ClientToken":"d"}`; string(b) != want {
		t.Fatalf("JSON = %s, want %s", b, want)
	}
}

// TestDrainGroupToken pins the derivation: producers in other languages and
// earlier runs of a drain must get the same tokens. The value is Python's
// uuid.uuid5(UUID("8b0d7f5e-3c52-4f0e-9a51-6d2f1e7c4a90"), "drain-1:asg-a").
func TestDrainGroupToken(t *testing.T) {
	t.Parallel()
	if got, want := DrainGroupToken("drain-1", "asg-a"), "a25710fa-d024-58ee-8aaf-595b012168a9"; got != want {
		t.Fatalf("DrainGroupToken = %s, want %s", got, want)
	}
	if DrainGroupToken("drain-1", "asg-a") == DrainGroupToken("drain-1", "asg-b") {
		t.Fatal("two groups got the same token")
	}
	if got := DrainTaskID("drain-1"); got != "drain:drain-1" {
		t.Fatalf("DrainTaskID = %q", got)
	}
}

func TestNewDrainTask(t *testing.T) {
	t.Parallel()
	task, err := NewDrainTask(DrainPayload{LoadBalancerId: "lb-x"})
	if err != nil {
		t.Fatal(err)
	}
	if task.Type() != TypeDrainLoadBalancer || TypeDrainLoadBalancer != "ess:drain_load_balancer" {
		t.Fatalf("Type = %q", task.Type())
	}
	p, err := DecodeDrainPayload(task.Payload())
	if err != nil {
		t.Fatalf("payload %s: %v", task.Payload(), err)
	}
	if _, err := uuid.Parse(p.ClientToken); err != nil {
		t.Fatalf("generated ClientToken %q is not a UUID", p.ClientToken)
	}
	if task.Headers()[HeaderEnqueuedAt] == "" {
		t.Fatal("no enqueue time header")
	}
	if _, err := NewDrainTask(DrainPayload{}); !errors.Is(err, ErrInvalidPayload) {
		t.Fatalf("empty payload: err = %v, want ErrInvalidPayload", err)
	}
}

func TestEnqueueDrain(t *testing.T) {
	t.Parallel()
	client, insp, queue := newTestQueue(t)
	ctx := t.Context()
	d := DrainPayload{LoadBalancerId: "lb-x", ClientToken: "drain-7"}
	for i, want := range []string{StateEnqueued, StateDuplicate} {
		res, err := EnqueueDrain(ctx, client, d, asynq.Queue(queue))
		if err != nil {
			t.Fatal(err)
		}
		if exp := (EnqueueResult{TaskID: "drain:drain-7", ClientToken: "drain-7", Queue: queue, State: want}); res != exp {
			t.Fatalf("enqueue %d = %+v, want %+v", i+1, res, exp)
		}
	}
	info, err := insp.GetTaskInfo(queue, "drain:drain-7")
	if err != nil {
		t.Fatal(err)
	}
	if info.Type != TypeDrainLoadBalancer || info.MaxRetry != DefaultMaxRetry || info.Retention != DefaultRetention {
		t.Fatalf("task = type %s, max retry %d, retention %v", info.Type, info.MaxRetry, info.Retention)
	}
	if _, err := EnqueueDrain(ctx, client, d, asynq.TaskID("x")); !errors.Is(err, ErrTaskIDOption) {
		t.Fatalf("TaskID option: err = %v", err)
	}
	assertQueueSize(t, insp, queue, 1)
}

func TestProducerEnqueueDrain(t *testing.T) {
	t.Parallel()
	p, _, insp := newTestProducer(t)
	ctx := t.Context()
	d := DrainPayload{RegionId: "cn-beijing", LoadBalancerId: "lb-x", Async: true, ClientToken: "drain-8"}
	res, err := p.EnqueueDrain(ctx, "q1", d)
	if err != nil {
		t.Fatal(err)
	}
	if want := (EnqueueResult{TaskID: "drain:drain-8", ClientToken: "drain-8", Queue: "q1", State: StateEnqueued}); res != want {
		t.Fatalf("first = %+v, want %+v", res, want)
	}
	if res, err = p.EnqueueDrain(ctx, "q1", d); err != nil || res.State != StateDuplicate {
		t.Fatalf("again = %+v, %v; want duplicate", res, err)
	}

	other := d
	other.ForceDetach = true
	_, err = p.EnqueueDrain(ctx, "q1", other)
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Queue != "q1" || ce.TaskID != "drain:drain-8" {
		t.Fatalf("another payload: err = %v, want a conflict in q1", err)
	}
	if want := `idempotency conflict: ClientToken "drain-8": taken by a drain with another payload (task drain:drain-8 in queue q1)`; err.Error() != want {
		t.Fatalf("error text = %q, want %q", err, want)
	}
	if _, err = p.EnqueueDrain(ctx, "q2", d); !errors.As(err, &ce) || ce.Queue != "q1" {
		t.Fatalf("another queue: err = %v, want a conflict in q1", err)
	}
	assertQueueSize(t, insp, "q1", 1)
	if queues, err := insp.Queues(); err != nil || slices.Contains(queues, "q2") {
		t.Fatalf("queues after a refused drain = %v, %v; want no q2", queues, err)
	}

	// The detach job of the same token is another task: no conflict.
	if _, err := p.Enqueue(ctx, "q1", DetachPayload{ScalingGroupId: "asg-1", LoadBalancerIds: []string{"lb-x"}, ClientToken: "drain-8"}); err != nil {
		t.Fatalf("detach job with a drain's token: %v", err)
	}

	queues, err := p.JobQueues(ctx, "drain-8", "nope")
	if err != nil || !slices.Equal(queues, []string{"q1", ""}) {
		t.Fatalf("JobQueues = %q, %v; want [q1 \"\"]", queues, err)
	}

	info, err := p.DrainJob(ctx, "drain-8")
	if err != nil {
		t.Fatal(err)
	}
	if info.ID != "drain:drain-8" || info.Queue != "q1" || info.Type != TypeDrainLoadBalancer {
		t.Fatalf("DrainJob = %s in %s (%s)", info.ID, info.Queue, info.Type)
	}
	if _, err := p.DrainJob(ctx, "nope"); !errors.Is(err, ErrJobNotFound) {
		t.Fatalf("DrainJob(nope): err = %v, want ErrJobNotFound", err)
	}
}

func TestDecodeDrainResult(t *testing.T) {
	t.Parallel()
	in := DrainResult{Outcome: OutcomeFannedOut, ClientToken: "d", RegionId: "cn-hangzhou", LoadBalancerId: "lb-x",
		Groups: []DrainGroup{{ScalingGroupId: "asg-1", TaskId: "detach:t", ClientToken: "t"}}, RequestIds: []string{"r1"}, Attempts: 1}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Outcome":"fanned_out","ClientToken":"d","RegionId":"cn-hangzhou","LoadBalancerId":"lb-x","ForceDetach":false,"Async":false,` +
		`"Groups":[{"ScalingGroupId":"asg-1","TaskId":"detach:t","ClientToken":"t"}],"RequestIds":["r1"],"Attempts":1}`
	if string(b) != want {
		t.Fatalf("JSON = %s\nwant   %s", b, want)
	}
	out, err := DecodeDrainResult(b)
	if err != nil || out.Groups[0] != in.Groups[0] || out.Outcome != in.Outcome {
		t.Fatalf("round trip = %+v, %v", out, err)
	}
}
