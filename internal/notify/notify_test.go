package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/internal/logcapture"
	"essworker/internal/notify"
	"essworker/internal/redistest"
	"essworker/internal/sharedtest"
)

const testSecret = "notify-test-secret"

// outcomes counts what the notifier reports, for metrics.
type outcomes struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *outcomes) NotificationOutcome(outcome string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == nil {
		o.n = map[string]int{}
	}
	o.n[outcome]++
}

func (o *outcomes) get(outcome string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[outcome]
}

// stack is a notifier on a real Redis, its notices delivered by a real asynq
// server.
type stack struct {
	n    *notify.Notifier
	insp *asynq.Inspector
	obs  *outcomes
	logs *logcapture.Buffer
	mux  *asynq.ServeMux
}

// startStack starts the notifier of cfg (Redis, Logger and Observer are
// filled in); before, if set, adds handlers to the server's mux.
func startStack(t *testing.T, cfg notify.Config, rs *redistest.Server, before func(*stack)) *stack {
	t.Helper()
	if rs == nil {
		rs = redistest.Start(t, redistest.Options{})
	}
	s := &stack{obs: &outcomes{}, logs: &logcapture.Buffer{}, mux: asynq.NewServeMux()}
	cfg.Redis, cfg.Observer = rs.Client(t), s.obs
	cfg.Logger = slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	n, err := notify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.n = n
	s.mux.Handle(notify.TypeNotify, n)
	if before != nil {
		before(s)
	}
	redisOpt := asynq.RedisClientOpt{Addr: rs.Addr}
	srv := asynq.NewServer(redisOpt, asynq.Config{
		Concurrency:              4,
		DelayedTaskCheckInterval: 100 * time.Millisecond,
		TaskCheckInterval:        50 * time.Millisecond,
		RetryDelayFunc:           n.RetryDelay,
		LogLevel:                 asynq.FatalLevel,
	})
	if err := srv.Start(s.mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	s.insp = asynq.NewInspector(redisOpt)
	t.Cleanup(func() { _ = s.insp.Close() })
	return s
}

func (s *stack) state(t *testing.T, queue, taskID string) *asynq.TaskInfo {
	t.Helper()
	info, err := s.insp.GetTaskInfo(queue, taskID)
	if err != nil {
		t.Fatalf("task %s: %v", taskID, err)
	}
	return info
}

// TestReceiverDownThenBack enqueues notices while the receiver answers 503,
// then closes connections, then comes back: every notice is delivered once,
// each with one delivery ID and the same signed bytes on every try.
func TestReceiverDownThenBack(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, testSecret)
	rcv.setMode(modeFail)
	hookURL := strings.Replace(rcv.URL, "http://", "http://hook-user:hook-pass@", 1) + "/hook?key=q-secret"
	s := startStack(t, notify.Config{URL: hookURL, Secret: []byte(testSecret), FirstRetry: 200 * time.Millisecond, MaxRetryDelay: 400 * time.Millisecond}, nil, nil)

	const notices = 5
	// The budget counts from the job's end: now, in another zone, whole seconds.
	end := time.Now().Truncate(time.Second).In(time.FixedZone("CST", 8*3600))
	ctx := context.Background()
	for i := range notices {
		j := notify.Job{TaskID: fmt.Sprintf("detach:tok-%d", i), ClientToken: fmt.Sprintf("tok-%d", i), Queue: "default",
			Archived: i == 0, Result: []byte(fmt.Sprintf(`{"Outcome":"detached","Attempts":%d}`, i+1))}
		if err := s.n.Enqueue(ctx, j, end); err != nil {
			t.Fatal(err)
		}
	}
	failed := func(status int) func() (bool, string) {
		return func() (bool, string) {
			n := 0
			for _, d := range rcv.deliveries() {
				if d.answered == status {
					n++
				}
			}
			return n >= 2*notices, fmt.Sprint(n, " requests answered ", status)
		}
	}
	sharedtest.WaitFor(t, "retries answered 503", 30*time.Second, failed(503))
	rcv.setMode(modeClosed)
	sharedtest.WaitFor(t, "retries met a closed connection", 30*time.Second, failed(0))
	if s.obs.get(notify.OutcomeDelivered) != 0 {
		t.Fatalf("%d notices delivered while the receiver was down", s.obs.get(notify.OutcomeDelivered))
	}
	rcv.setMode(modeUp)
	sharedtest.WaitFor(t, "every notice delivered", 30*time.Second, func() (bool, string) {
		done := 0
		for i := range notices {
			if s.state(t, "default", fmt.Sprintf("notify:detach:tok-%d", i)).State == asynq.TaskStateCompleted {
				done++
			}
		}
		return done == notices, fmt.Sprint(done, " completed")
	})

	all := rcv.deliveries()
	byTask := map[string][]delivery{}
	for _, d := range all {
		if !d.signedOK || !d.jsonType {
			t.Errorf("delivery %s: signature ok %v, Content-Type application/json %v", d.id, d.signedOK, d.jsonType)
		}
		if d.basicUser != "hook-user" || d.basicPass != "hook-pass" {
			t.Errorf("delivery %s: basic auth %q:%q, want the URL's user info", d.id, d.basicUser, d.basicPass)
		}
		var n notify.Notice
		if err := json.Unmarshal([]byte(d.body), &n); err != nil {
			t.Fatalf("body %s: %v", d.body, err)
		}
		byTask[n.TaskID] = append(byTask[n.TaskID], d)
	}
	ids := map[string]string{}
	for i := range notices {
		taskID := fmt.Sprintf("detach:tok-%d", i)
		ds := byTask[taskID]
		ok := 0
		for _, d := range ds {
			if d.id != ds[0].id || d.body != ds[0].body {
				t.Errorf("%s: tries differ: %s %s vs %s %s", taskID, ds[0].id, ds[0].body, d.id, d.body)
			}
			if d.answered == 204 {
				ok++
			}
		}
		if ok != 1 {
			t.Errorf("%s delivered %d times, want 1", taskID, ok)
		}
		if len(ds) < 3 {
			t.Errorf("%s tried %d times, want at least 3 (503, closed, delivered)", taskID, len(ds))
		}
		if other, dup := ids[ds[0].id]; dup {
			t.Errorf("%s and %s share delivery ID %s", taskID, other, ds[0].id)
		}
		ids[ds[0].id] = taskID
		state := "completed"
		if i == 0 {
			state = "archived"
		}
		want := fmt.Sprintf(`{"type":"essworker.job.finished","task_id":"%s","client_token":"tok-%d","queue":"default","state":"%s","result":{"Outcome":"detached","Attempts":%d},"time":"%s"}`,
			taskID, i, state, i+1, end.UTC().Format(time.RFC3339))
		if ds[0].body != want {
			t.Errorf("body\n got %s\nwant %s", ds[0].body, want)
		}
	}
	if got, want := s.obs.get(notify.OutcomeRetried), len(all)-notices; got != want {
		t.Errorf("retried %d, want %d (every failed try)", got, want)
	}
	if s.obs.get(notify.OutcomeDelivered) != notices || s.obs.get(notify.OutcomeDropped) != 0 {
		t.Errorf("delivered %d, dropped %d; want %d, 0", s.obs.get(notify.OutcomeDelivered), s.obs.get(notify.OutcomeDropped), notices)
	}
	logs := s.logs.String()
	if !strings.Contains(logs, "notice not delivered") || !strings.Contains(logs, "HTTP 503") {
		t.Errorf("the failed tries are not logged:\n%s", logs)
	}
	for _, secret := range []string{"hook-user", "hook-pass", "q-secret", testSecret} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
}

// TestDroppedAfterBudget: a receiver that never answers 2xx has its notice
// dropped once the budget would run out before the next try.
func TestDroppedAfterBudget(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, testSecret)
	rcv.setMode(modeFail)
	const budget = 2 * time.Second
	s := startStack(t, notify.Config{URL: rcv.URL, Secret: []byte(testSecret), FirstRetry: 200 * time.Millisecond, MaxRetryDelay: 200 * time.Millisecond, Budget: budget}, nil, nil)
	start := time.Now()
	if err := s.n.Enqueue(context.Background(), notify.Job{TaskID: "detach:drop", ClientToken: "drop", Queue: "default", Result: []byte(`{}`)}, start); err != nil {
		t.Fatal(err)
	}
	var info *asynq.TaskInfo
	sharedtest.WaitFor(t, "the notice archived", 20*time.Second, func() (bool, string) {
		info = s.state(t, "default", "notify:detach:drop")
		return info.State == asynq.TaskStateArchived, info.State.String()
	})
	if took := time.Since(start); took > budget+time.Second {
		t.Errorf("dropped after %v, budget %v", took, budget)
	}
	tries := len(rcv.deliveries())
	if tries < 2 {
		t.Errorf("%d tries within the budget, want several", tries)
	}
	if s.obs.get(notify.OutcomeDropped) != 1 || s.obs.get(notify.OutcomeRetried) != tries-1 || s.obs.get(notify.OutcomeDelivered) != 0 {
		t.Errorf("dropped %d, retried %d, delivered %d; want 1, %d, 0", s.obs.get(notify.OutcomeDropped), s.obs.get(notify.OutcomeRetried), s.obs.get(notify.OutcomeDelivered), tries-1)
	}
	if !strings.Contains(info.LastErr, "notice dropped") || !strings.Contains(info.LastErr, "HTTP 503") {
		t.Errorf("last error %q", info.LastErr)
	}
	if !strings.Contains(s.logs.String(), `"msg":"notice dropped"`) {
		t.Errorf("no log line for the dropped notice:\n%s", s.logs.String())
	}
}

// TestEnqueueTwiceKeepsOneNotice: the notice of a job is enqueued once; a
// second Enqueue for the same job (a replayed last attempt) keeps the first,
// its body and delivery ID.
func TestEnqueueTwiceKeepsOneNotice(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t, redistest.Options{})
	n, err := notify.New(notify.Config{URL: "http://127.0.0.1:1/", Secret: []byte(testSecret), Redis: rs.Client(t)})
	if err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: rs.Addr})
	t.Cleanup(func() { _ = insp.Close() })
	ctx := context.Background()
	j := notify.Job{TaskID: "detach:once", ClientToken: "once", Queue: "critical", Result: []byte(`{"Attempts":1}`)}
	if err := n.Enqueue(ctx, j, time.Unix(100, 0)); err != nil {
		t.Fatal(err)
	}
	first, err := insp.GetTaskInfo("critical", "notify:detach:once")
	if err != nil {
		t.Fatal(err)
	}
	j.Result = []byte(`{"Attempts":2}`)
	if err := n.Enqueue(ctx, j, time.Unix(200, 0)); err != nil {
		t.Fatalf("second Enqueue: %v", err)
	}
	again, err := insp.GetTaskInfo("critical", "notify:detach:once")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Payload, again.Payload) || first.Type != notify.TypeNotify {
		t.Errorf("notice changed: %s (%s) then %s", first.Payload, first.Type, again.Payload)
	}
	if !strings.Contains(string(first.Payload), `\"Attempts\":1`) && !strings.Contains(string(first.Payload), `"Attempts":1`) {
		t.Errorf("payload %s is not the first notice", first.Payload)
	}
	tasks, err := insp.ListPendingTasks("critical")
	if err != nil || len(tasks) != 1 {
		t.Fatalf("pending notices %d, %v; want 1", len(tasks), err)
	}
}
