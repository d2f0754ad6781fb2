package tasks

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/internal/redistest"
)

// newTestProducer returns a Producer on a Redis of the test's own, and an
// asynq client and inspector on the same Redis.
func newTestProducer(t *testing.T) (*Producer, *asynq.Client, *asynq.Inspector) {
	t.Helper()
	rdb := redistest.Start(t, redistest.Options{}).Client(t)
	p := NewProducer(rdb)
	return p, asynq.NewClientFromRedisClient(rdb), p.Inspector()
}

// TestLookupFindsAsynqTasks checks lookupScript's reading of asynq's key
// layout against tasks asynq itself wrote, in two queues.
func TestLookupFindsAsynqTasks(t *testing.T) {
	t.Parallel()
	p, client, _ := newTestProducer(t)
	for _, q := range []string{"alpha", "beta"} {
		if _, err := client.Enqueue(asynq.NewTask("x", nil), asynq.TaskID("detach:in-"+q), asynq.Queue(q)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := lookupQueues(context.Background(), p.rdb, []string{"detach:in-beta", "detach:nowhere", "detach:in-alpha"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"beta", "", "alpha"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("lookupQueues = %q, want %q", got, want)
	}
}

func TestProducerDuplicateAndConflict(t *testing.T) {
	t.Parallel()
	p, _, insp := newTestProducer(t)
	ctx := context.Background()
	req := contractPayload()
	req.LoadBalancerIds = []string{"lb-1", "lb-2", "lb-3"}

	first, err := p.Enqueue(ctx, "q1", req)
	if err != nil {
		t.Fatal(err)
	}
	want := []EnqueueResult{{TaskID: TaskID(req.ClientToken), ClientToken: req.ClientToken, Queue: "q1", State: StateEnqueued}}
	if !reflect.DeepEqual(first, want) {
		t.Fatalf("first = %+v, want %+v", first, want)
	}

	reordered := req
	reordered.LoadBalancerIds = []string{"lb-3", "lb-1", "lb-2"}
	again, err := p.Enqueue(ctx, "q1", reordered)
	if err != nil {
		t.Fatal(err)
	}
	want[0].State = StateDuplicate
	if !reflect.DeepEqual(again, want) {
		t.Fatalf("same request, load balancers reordered = %+v, want %+v", again, want)
	}

	other := req
	other.ForceDetach = true
	var ce *ConflictError
	res, err := p.Enqueue(ctx, "q1", other)
	if !errors.As(err, &ce) || !errors.Is(err, ErrIdempotencyConflict) || res != nil {
		t.Fatalf("another payload: %+v, %v; want a *ConflictError and no results", res, err)
	}
	if ce.ClientToken != req.ClientToken || ce.Queue != "q1" || !strings.Contains(ce.Reason, "another payload") {
		t.Errorf("conflict %+v", ce)
	}

	res, err = p.Enqueue(ctx, "q2", req)
	if !errors.As(err, &ce) || ce.Queue != "q1" || !strings.Contains(ce.Reason, "another queue") || res != nil {
		t.Fatalf("same request in another queue: %+v, %v; want a conflict naming q1", res, err)
	}
	assertQueueSize(t, insp, "q1", 1)
	assertQueueSize(t, insp, "q2", 0)
}

// TestProducerRefusedRequestQueuesNothing: a request of three jobs whose last
// job conflicts queues none of them, and a batch whose second request
// conflicts queues nothing of the first.
func TestProducerRefusedRequestQueuesNothing(t *testing.T) {
	t.Parallel()
	p, _, insp := newTestProducer(t)
	ctx := context.Background()
	req := contractPayload()
	req.ClientToken = "split-me"
	req.LoadBalancerIds = lbIDs(12)
	chunks, err := SplitDetach(req)
	if err != nil {
		t.Fatal(err)
	}
	taken := chunks[2]
	taken.ForceDetach = true
	if _, err := p.Enqueue(ctx, "q", taken); err != nil {
		t.Fatal(err)
	}
	res, err := p.Enqueue(ctx, "q", req)
	if !errors.Is(err, ErrIdempotencyConflict) || res != nil {
		t.Fatalf("split request with a taken chunk: %+v, %v; want a conflict", res, err)
	}
	assertQueueSize(t, insp, "q", 1)

	fresh := contractPayload()
	fresh.ClientToken = "fresh"
	res, err = p.Enqueue(ctx, "q", fresh, taken, func() DetachPayload { x := taken; x.ForceDetach = false; return x }())
	if !errors.Is(err, ErrIdempotencyConflict) || res != nil {
		t.Fatalf("batch with a conflicting request: %+v, %v; want a conflict", res, err)
	}
	assertQueueSize(t, insp, "q", 1)

	invalid := contractPayload()
	invalid.ScalingGroupId = ""
	if res, err := p.Enqueue(ctx, "q", fresh, invalid); !errors.Is(err, ErrInvalidPayload) || res != nil {
		t.Fatalf("batch with an invalid request: %+v, %v; want ErrInvalidPayload", res, err)
	}
	assertQueueSize(t, insp, "q", 1)
}

// TestProducerSplitTokens: the token of a split request cannot then name a
// single job, nor the reverse; identical requests in one call give one job.
func TestProducerSplitTokens(t *testing.T) {
	t.Parallel()
	p, _, insp := newTestProducer(t)
	ctx := context.Background()
	split := contractPayload()
	split.ClientToken = "parent"
	split.LoadBalancerIds = lbIDs(7)
	res, err := p.Enqueue(ctx, "q", split, split)
	if err != nil {
		t.Fatal(err)
	}
	states := []string{res[0].State, res[1].State, res[2].State, res[3].State}
	if want := []string{StateEnqueued, StateEnqueued, StateDuplicate, StateDuplicate}; !reflect.DeepEqual(states, want) {
		t.Fatalf("states %q, want %q", states, want)
	}
	single := contractPayload()
	single.ClientToken = "parent"
	if _, err := p.Enqueue(ctx, "q", single); !errors.Is(err, ErrIdempotencyConflict) || !strings.Contains(err.Error(), "split") {
		t.Fatalf("one job with a split request's token: %v, want a conflict", err)
	}
	single.ClientToken = "lonely"
	if _, err := p.Enqueue(ctx, "q", single); err != nil {
		t.Fatal(err)
	}
	bigger := split
	bigger.ClientToken = "lonely"
	if _, err := p.Enqueue(ctx, "q", bigger); !errors.Is(err, ErrIdempotencyConflict) {
		t.Fatalf("split request with a single job's token: %v, want a conflict", err)
	}
	assertQueueSize(t, insp, "q", 3)
}

// TestProducerQueueingRace: a job planned as new but queued by another
// producer (asynq's own Client) before this one's round trip is decided by
// the stored task, read from asynq's encoding.
func TestProducerQueueingRace(t *testing.T) {
	t.Parallel()
	p, client, insp := newTestProducer(t)
	ctx := context.Background()
	plan := func(r DetachPayload) *plannedJob {
		t.Helper()
		payload, err := encodeDetachPayload(r)
		if err != nil {
			t.Fatal(err)
		}
		j := newPlannedJob(TypeDetachLoadBalancers, payload, TaskID(r.ClientToken), r.ClientToken, "q", Schedule{}, time.Now())
		j.kind, j.same = "job", sameDetach(r)
		return j
	}
	mine := contractPayload()
	job := plan(mine)
	theirs := mine
	theirs.Async = false
	if _, err := Enqueue(ctx, client, theirs, asynq.Queue("q")); err != nil {
		t.Fatal(err)
	}
	if err := p.queueJobs(ctx, "q", []*plannedJob{job}, nil, nil); !errors.Is(err, ErrIdempotencyConflict) {
		t.Fatalf("queueJobs after another payload was queued: %v, want a conflict", err)
	}

	same := contractPayload()
	same.ClientToken = "raced-same"
	job = plan(same)
	if _, err := Enqueue(ctx, client, same, asynq.Queue("q")); err != nil {
		t.Fatal(err)
	}
	if err := p.queueJobs(ctx, "q", []*plannedJob{job}, nil, nil); err != nil || job.res.State != StateDuplicate {
		t.Fatalf("queueJobs after the same payload was queued: %v, state %s; want a duplicate", err, job.res.State)
	}
	assertQueueSize(t, insp, "q", 2)
}

func TestProducerJob(t *testing.T) {
	t.Parallel()
	p, _, _ := newTestProducer(t)
	ctx := context.Background()
	one := contractPayload()
	one.ClientToken = "one"
	split := contractPayload()
	split.ClientToken = "split"
	split.LoadBalancerIds = lbIDs(6)
	if _, err := p.Enqueue(ctx, "elsewhere", one); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Enqueue(ctx, "q", split); err != nil {
		t.Fatal(err)
	}
	info, err := p.Job(ctx, "one")
	if err != nil || info.Queue != "elsewhere" || info.ID != TaskID("one") || info.State != asynq.TaskStatePending {
		t.Fatalf("Job(one) = %+v, %v; want the pending task in queue elsewhere", info, err)
	}
	if info, err := p.Job(ctx, ChunkToken("split", 1)); err != nil || info.Queue != "q" {
		t.Fatalf("Job(chunk 1) = %+v, %v", info, err)
	}
	_, err = p.Job(ctx, "split")
	if !errors.Is(err, ErrJobNotFound) || !strings.Contains(err.Error(), "split into jobs") {
		t.Fatalf("Job(split request) error %v, want ErrJobNotFound saying it was split", err)
	}
	_, err = p.Job(ctx, "never")
	if !errors.Is(err, ErrJobNotFound) || strings.Contains(err.Error(), "split") {
		t.Fatalf("Job(never) error %v, want a plain ErrJobNotFound", err)
	}
}

func TestSameRequest(t *testing.T) {
	t.Parallel()
	a := contractPayload()
	a.LoadBalancerIds = []string{"lb-1", "lb-2"}
	b := a
	b.LoadBalancerIds = []string{"lb-2", "lb-1"}
	if !SameRequest(a, b) {
		t.Error("load balancer order changed the request")
	}
	for name, change := range map[string]func(p *DetachPayload){
		"RegionId":        func(p *DetachPayload) { p.RegionId = "cn-beijing" },
		"ScalingGroupId":  func(p *DetachPayload) { p.ScalingGroupId = "asg-2" },
		"LoadBalancerIds": func(p *DetachPayload) { p.LoadBalancerIds = []string{"lb-1", "lb-3"} },
		"one fewer":       func(p *DetachPayload) { p.LoadBalancerIds = []string{"lb-1"} },
		"ForceDetach":     func(p *DetachPayload) { p.ForceDetach = !p.ForceDetach },
		"Async":           func(p *DetachPayload) { p.Async = !p.Async },
		"ClientToken":     func(p *DetachPayload) { p.ClientToken = "other" },
	} {
		c := a
		c.LoadBalancerIds = append([]string(nil), a.LoadBalancerIds...)
		change(&c)
		if SameRequest(a, c) {
			t.Errorf("%s changed, still the same request", name)
		}
	}
}
