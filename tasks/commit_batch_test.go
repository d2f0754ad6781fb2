package tasks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"essworker/internal/redistest"
	"essworker/internal/sharedtest"
)

// heldCommitter makes p's committer look busy, so that submissions queue up
// behind a round trip that never comes, until release starts it: it then
// takes every queued submission in one batch.
type heldCommitter struct {
	c       *committer
	release func()
}

func holdCommitter(t *testing.T, p *Producer) *heldCommitter {
	t.Helper()
	c := p.commit
	// The round trip of an earlier submission may still be ending: hold the
	// committer once it is idle, in the same step.
	sharedtest.WaitFor(t, "the committer idle", 10*time.Second, func() (bool, string) {
		c.mu.Lock()
		defer c.mu.Unlock()
		held := !c.running
		c.running = true
		return held, "a round trip running"
	})
	var once sync.Once
	h := &heldCommitter{c: c, release: func() { once.Do(func() { go c.run() }) }}
	t.Cleanup(h.release)
	return h
}

// submit starts call in a goroutine and waits until it is queued, so that the
// batch holds the calls in the order they were submitted.
func (h *heldCommitter) submit(t *testing.T, call func() ([]EnqueueResult, error)) <-chan outcome {
	t.Helper()
	h.c.mu.Lock()
	n := len(h.c.queued) + 1
	h.c.mu.Unlock()
	out := make(chan outcome, 1)
	go func() {
		res, err := call()
		out <- outcome{res, err}
	}()
	sharedtest.WaitFor(t, fmt.Sprintf("%d submissions queued", n), 10*time.Second, func() (bool, string) {
		h.c.mu.Lock()
		defer h.c.mu.Unlock()
		return len(h.c.queued) == n, strconv.Itoa(len(h.c.queued)) + " queued"
	})
	return out
}

type outcome struct {
	res []EnqueueResult
	err error
}

// evalCalls is how many scripts Redis has run (EVAL and EVALSHA).
func evalCalls(t *testing.T, rdb *redis.Client) int {
	t.Helper()
	text, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(text, "\r\n") {
		for _, cmd := range []string{"cmdstat_eval:", "cmdstat_evalsha:"} {
			if rest, ok := strings.CutPrefix(line, cmd+"calls="); ok {
				calls, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
				n += calls
			}
		}
	}
	return n
}

// realProducer is newTestProducer on a real redis-server, with a client of
// it: the batch tests read Redis's command counts and its maxmemory
// refusals, which miniredis does not serve.
func realProducer(t *testing.T) (*redis.Client, *Producer) {
	t.Helper()
	srv := redistest.Start(t, redistest.Options{})
	srv.RequireReal(t)
	rdb := srv.Client(t)
	return rdb, NewProducer(rdb)
}

// TestBatchMixesDuplicatesAndConflicts: submissions that share one round
// trip are each decided as if alone, in the order they came, each seeing
// what the ones before it queued: new jobs are queued, repeats are
// duplicates, conflicts (another payload, another queue, a split request's
// token) queue nothing of their submission and leave the others alone.
func TestBatchMixesDuplicatesAndConflicts(t *testing.T) {
	t.Parallel()
	rdb, p := realProducer(t)
	insp := p.Inspector()
	ctx := context.Background()
	if _, err := p.Enqueue(ctx, "q", req("old")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Enqueue(ctx, "elsewhere", req("old-elsewhere")); err != nil {
		t.Fatal(err)
	}
	other := func(token string) DetachPayload {
		r := req(token)
		r.ForceDetach = true
		return r
	}
	split := req("split")
	split.LoadBalancerIds = lbIDs(MaxLoadBalancers + 1)
	later, err := ScheduleIn(time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	enqueue := func(r ...DetachPayload) func() ([]EnqueueResult, error) {
		return func() ([]EnqueueResult, error) { return p.Enqueue(ctx, "q", r...) }
	}

	h := holdCommitter(t, p)
	calls := []struct {
		name   string
		call   func() ([]EnqueueResult, error)
		states []string // nil: a conflict
	}{
		{"new", enqueue(req("new")), []string{StateEnqueued}},
		{"new again", enqueue(req("new")), []string{StateDuplicate}},
		{"new, another payload", enqueue(other("new")), nil},
		{"old again", enqueue(req("old")), []string{StateDuplicate}},
		{"old, another payload", enqueue(other("old")), nil},
		{"another queue's token", enqueue(req("old-elsewhere")), nil},
		{"split", enqueue(split), []string{StateEnqueued, StateEnqueued}},
		{"one job with the split token", enqueue(req("split")), nil},
		{"new and old, old conflicting", enqueue(req("new2"), other("old")), nil},
		{"new2 after its refusal", enqueue(req("new2")), []string{StateEnqueued}},
		{"scheduled", func() ([]EnqueueResult, error) { return p.EnqueueAt(ctx, "q", later, req("later")) }, []string{StateScheduled}},
	}
	outs := make([]<-chan outcome, len(calls))
	for i, c := range calls {
		outs[i] = h.submit(t, c.call)
	}
	before := evalCalls(t, rdb)
	h.release()
	for i, c := range calls {
		o := <-outs[i]
		if c.states == nil {
			if !errors.Is(o.err, ErrIdempotencyConflict) || o.res != nil {
				t.Errorf("%s: %+v, %v; want a conflict", c.name, o.res, o.err)
			}
			continue
		}
		if o.err != nil {
			t.Errorf("%s: %v", c.name, o.err)
			continue
		}
		var got []string
		for _, r := range o.res {
			got = append(got, r.State)
		}
		if strings.Join(got, ",") != strings.Join(c.states, ",") {
			t.Errorf("%s: states %v, want %v", c.name, got, c.states)
		}
	}
	if n := evalCalls(t, rdb) - before; n != 1 {
		t.Errorf("%d round trips for the batch, want 1", n)
	}
	// old, new, split's two jobs, new2, later.
	assertQueueSize(t, insp, "q", 6)
	info, err := insp.GetTaskInfo("q", TaskID("new"))
	if err != nil {
		t.Fatal(err)
	}
	if stored, err := DecodeDetachPayload(info.Payload); err != nil || !SameRequest(stored, req("new")) {
		t.Errorf("task of token new holds %+v (%v), want the first submission's", stored, err)
	}
}

// TestBatchRedisErrorFailsEveryMember: when the round trip fails, every
// submission of the batch gets the error and none of them is half queued;
// the same submissions again, once Redis writes, are queued.
func TestBatchRedisErrorFailsEveryMember(t *testing.T) {
	t.Parallel()
	rdb, p := realProducer(t)
	ctx := context.Background()
	if _, err := p.Enqueue(ctx, "q", req("old")); err != nil {
		t.Fatal(err)
	}
	split := req("split")
	split.LoadBalancerIds = lbIDs(3 * MaxLoadBalancers)
	subs := [][]DetachPayload{{req("a")}, {req("old")}, {split}, {req("b"), req("c")}}
	// Redis refuses every write when over maxmemory; reads still answer.
	if err := rdb.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	h := holdCommitter(t, p)
	outs := make([]<-chan outcome, len(subs))
	for i, s := range subs {
		outs[i] = h.submit(t, func() ([]EnqueueResult, error) { return p.Enqueue(ctx, "q", s...) })
	}
	h.release()
	for i := range subs {
		o := <-outs[i]
		if o.err == nil || errors.Is(o.err, ErrIdempotencyConflict) || !strings.Contains(o.err.Error(), "OOM") || o.res != nil {
			t.Errorf("submission %d: %+v, %v; want Redis's error and no results", i, o.res, o.err)
		}
	}
	if err := rdb.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	ids := []string{TaskID("a"), TaskID("b"), TaskID("c")}
	for i := range 3 {
		ids = append(ids, TaskID(ChunkToken("split", i)))
	}
	found, err := lookupQueues(ctx, rdb, ids)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(found, "") != "" {
		t.Fatalf("after the failed batch, tasks %v are in queues %q, want none", ids, found)
	}
	assertQueueSize(t, p.Inspector(), "q", 1)
	for i, s := range subs {
		res, err := p.Enqueue(ctx, "q", s...)
		if err != nil {
			t.Fatalf("submission %d again: %v", i, err)
		}
		if i != 1 && res[0].State != StateEnqueued {
			t.Errorf("submission %d again: %+v, want it queued", i, res)
		}
	}
	assertQueueSize(t, p.Inspector(), "q", 7)
}

// TestCommitWithdrawsOnContext: a call whose context ends while it waits for
// a round trip is withdrawn: it returns the context's error and queues
// nothing, and the batch goes on without it.
func TestCommitWithdrawsOnContext(t *testing.T) {
	t.Parallel()
	p, _, insp := newTestProducer(t)
	h := holdCommitter(t, p)
	ctx, cancel := context.WithCancel(context.Background())
	gone := h.submit(t, func() ([]EnqueueResult, error) { return p.Enqueue(ctx, "q", req("gone")) })
	stays := h.submit(t, func() ([]EnqueueResult, error) { return p.Enqueue(context.Background(), "q", req("stays")) })
	cancel()
	if o := <-gone; !errors.Is(o.err, context.Canceled) || o.res != nil {
		t.Fatalf("withdrawn call: %+v, %v; want context.Canceled", o.res, o.err)
	}
	h.release()
	if o := <-stays; o.err != nil || len(o.res) != 1 || o.res[0].State != StateEnqueued {
		t.Fatalf("the other call: %+v, %v", o.res, o.err)
	}
	if _, err := insp.GetTaskInfo("q", TaskID("gone")); !errors.Is(err, asynq.ErrTaskNotFound) {
		t.Fatalf("the withdrawn job: %v, want ErrTaskNotFound", err)
	}
	if _, err := p.Enqueue(context.Background(), "q", req("after")); err != nil {
		t.Fatalf("a call after the batch: %v", err)
	}
	assertQueueSize(t, insp, "q", 2)
}

// TestProducerPartlyQueuedRequest: a request some of whose jobs are queued
// already (by asynq's own Client here) queues the others and reports those
// as duplicates: a first round trip finds them, a second queues the rest.
func TestProducerPartlyQueuedRequest(t *testing.T) {
	t.Parallel()
	rdb, p := realProducer(t)
	ctx := context.Background()
	r := req("partly")
	r.LoadBalancerIds = lbIDs(3 * MaxLoadBalancers)
	chunks, err := SplitDetach(r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Enqueue(ctx, asynq.NewClientFromRedisClient(rdb), chunks[1], asynq.Queue("q")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Enqueue(ctx, "q", req("loads-the-script")); err != nil {
		t.Fatal(err)
	}
	before := evalCalls(t, rdb)
	res, err := p.Enqueue(ctx, "q", r)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range res {
		got = append(got, j.State)
	}
	if want := []string{StateEnqueued, StateDuplicate, StateEnqueued}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("states %v, want %v", got, want)
	}
	if n := evalCalls(t, rdb) - before; n != 2 {
		t.Errorf("%d round trips, want 2", n)
	}
	assertQueueSize(t, p.Inspector(), "q", 4)
}

// asynqKey is the key of queue's part rest in asynq's layout: "t:" + a task
// ID for a task's hash, "pending" for the pending list.
func asynqKey(queue, rest string) string { return "asynq:{" + queue + "}:" + rest }

// TestBatchKeyOfAnotherType: a key of another type than asynq's where the
// script would write refuses only the submissions it concerns, before any
// write, so none is half queued: a pending list that is a string refuses
// that queue's new jobs (a scheduled job of that queue goes to its scheduled
// set), and a string where a task ID is looked up, in a queue asynq lists or
// not, holds that ID against a new job and is left as it is. The other
// submissions of the round trip are queued.
func TestBatchKeyOfAnotherType(t *testing.T) {
	t.Parallel()
	rdb, p := realProducer(t)
	ctx := context.Background()
	if _, err := p.Enqueue(ctx, "q", req("old")); err != nil {
		t.Fatal(err)
	}
	strays := []string{asynqKey("bad", "pending"), asynqKey("q", "t:"+TaskID("stray")), asynqKey("unlisted", "t:"+TaskID("lost"))}
	for _, key := range strays {
		if err := rdb.Set(ctx, key, "not asynq's", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	later, err := ScheduleIn(time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	enqueue := func(queue, token string) func() ([]EnqueueResult, error) {
		return func() ([]EnqueueResult, error) { return p.Enqueue(ctx, queue, req(token)) }
	}
	h := holdCommitter(t, p)
	calls := []struct {
		name, queue, token string
		call               func() ([]EnqueueResult, error)
		want               string // a state, or what the error says
	}{
		{name: "a", queue: "q", token: "a", want: StateEnqueued},
		{name: "a pending list that is a string", queue: "bad", token: "b", want: "queue bad cannot take jobs: " + asynqKey("bad", "pending") + " holds a string, not a list"},
		{name: "a task key that is a string", queue: "q", token: "stray", want: ErrIdempotencyConflict.Error()},
		{name: "a task key that is a string, in an unlisted queue", queue: "unlisted", token: "lost", want: ErrIdempotencyConflict.Error()},
		{name: "scheduled beside that pending list", queue: "bad", token: "later", want: StateScheduled,
			call: func() ([]EnqueueResult, error) { return p.EnqueueAt(ctx, "bad", later, req("later")) }},
		{name: "c", queue: "q", token: "c", want: StateEnqueued},
	}
	outs := make([]<-chan outcome, len(calls))
	for i, c := range calls {
		call := c.call
		if call == nil {
			call = enqueue(c.queue, c.token)
		}
		outs[i] = h.submit(t, call)
	}
	before := evalCalls(t, rdb)
	h.release()
	for i, c := range calls {
		o := <-outs[i]
		switch {
		case c.want == StateEnqueued || c.want == StateScheduled:
			if o.err != nil || len(o.res) != 1 || o.res[0].State != c.want {
				t.Errorf("%s: %+v, %v; want %s", c.name, o.res, o.err, c.want)
			}
		case o.err == nil || !strings.Contains(o.err.Error(), c.want) || o.res != nil:
			t.Errorf("%s: %+v, %v; want an error saying %q", c.name, o.res, o.err, c.want)
		}
	}
	if n := evalCalls(t, rdb) - before; n != 1 {
		t.Errorf("%d round trips for the batch, want 1", n)
	}
	found, err := lookupQueues(ctx, rdb, []string{TaskID("a"), TaskID("b"), TaskID("later"), TaskID("c")})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"q", "", "bad", "q"}; !slices.Equal(found, want) {
		t.Errorf("tasks a, b, later, c are in queues %q, want %q", found, want)
	}
	for _, key := range strays {
		if v, err := rdb.Get(ctx, key).Result(); err != nil || v != "not asynq's" {
			t.Errorf("%s holds %q (%v), want it left as it was", key, v, err)
		}
	}
	assertQueueSize(t, p.Inspector(), "q", 3)
}
