package tasks

import (
	"context"
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"essworker/internal/sharedtest"
)

// newTestQueue returns an asynq client and inspector on the test Redis and a
// queue name of the test's own.
func newTestQueue(t *testing.T) (*asynq.Client, *asynq.Inspector, string) {
	t.Helper()
	return newTestQueueAt(t, enqueueTestRedis(t))
}

// newTestQueueAt is newTestQueue on the Redis of opt.
func newTestQueueAt(t *testing.T, opt asynq.RedisClientOpt) (*asynq.Client, *asynq.Inspector, string) {
	t.Helper()
	client := asynq.NewClient(opt)
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() {
		client.Close()
		insp.Close()
	})
	queue := "tasks-test-" + strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	return client, insp, queue
}

func TestEnqueueDuplicate(t *testing.T) {
	t.Parallel()
	client, insp, queue := newTestQueue(t)
	ctx := context.Background()
	p := contractPayload()
	p.ClientToken = "enqueue-dup-" + uuid.NewString()

	first, err := Enqueue(ctx, client, p, asynq.Queue(queue))
	if err != nil {
		t.Fatal(err)
	}
	want := []EnqueueResult{{TaskID: TaskID(p.ClientToken), ClientToken: p.ClientToken, Queue: queue, State: StateEnqueued}}
	if !reflect.DeepEqual(first, want) {
		t.Fatalf("first Enqueue = %+v, want %+v", first, want)
	}

	info, err := insp.GetTaskInfo(queue, TaskID(p.ClientToken))
	if err != nil {
		t.Fatal(err)
	}
	if info.Type != TypeDetachLoadBalancers || info.MaxRetry != DefaultMaxRetry || info.Retention != DefaultRetention || info.State != asynq.TaskStatePending {
		t.Errorf("queued task: type %q, max retry %d, retention %v, state %v; want %q, %d, %v, pending",
			info.Type, info.MaxRetry, info.Retention, info.State, TypeDetachLoadBalancers, DefaultMaxRetry, DefaultRetention)
	}
	got, err := DecodeDetachPayload(info.Payload)
	if err != nil || !reflect.DeepEqual(got, p) {
		t.Errorf("queued payload = %+v (%v), want %+v", got, err, p)
	}

	again, err := Enqueue(ctx, client, p, asynq.Queue(queue))
	if err != nil {
		t.Fatalf("second Enqueue: %v", err)
	}
	want[0].State = StateDuplicate
	if !reflect.DeepEqual(again, want) {
		t.Fatalf("second Enqueue = %+v, want %+v", again, want)
	}
	assertQueueSize(t, insp, queue, 1)
}

func TestEnqueueSplits(t *testing.T) {
	t.Parallel()
	client, insp, queue := newTestQueue(t)
	ctx := context.Background()
	p := contractPayload()
	p.ClientToken = "enqueue-split-" + uuid.NewString()
	p.LoadBalancerIds = lbIDs(7)

	first, err := Enqueue(ctx, client, p, asynq.Queue(queue))
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 {
		t.Fatalf("Enqueue of 7 load balancers gave %d results, want 2: %+v", len(first), first)
	}
	for i, r := range first {
		if r.State != StateEnqueued || r.ClientToken != ChunkToken(p.ClientToken, i) || r.TaskID != TaskID(r.ClientToken) || r.Queue != queue {
			t.Errorf("result %d = %+v", i, r)
		}
		info, err := insp.GetTaskInfo(queue, r.TaskID)
		if err != nil {
			t.Fatalf("task %s: %v", r.TaskID, err)
		}
		got, err := DecodeDetachPayload(info.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if want := p.LoadBalancerIds[i*5 : min(i*5+5, 7)]; !reflect.DeepEqual(got.LoadBalancerIds, want) {
			t.Errorf("task %d holds %v, want %v", i, got.LoadBalancerIds, want)
		}
	}
	again, err := Enqueue(ctx, client, p, asynq.Queue(queue))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range again {
		if r.State != StateDuplicate || r.TaskID != first[i].TaskID {
			t.Errorf("re-enqueue result %d = %+v, want a duplicate of %s", i, r, first[i].TaskID)
		}
	}
	assertQueueSize(t, insp, queue, 2)
}

func TestEnqueueGeneratesToken(t *testing.T) {
	t.Parallel()
	client, insp, queue := newTestQueue(t)
	p := contractPayload()
	p.ClientToken = ""
	res, err := Enqueue(context.Background(), client, p, asynq.Queue(queue))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uuid.Parse(res[0].ClientToken); err != nil || res[0].TaskID != TaskID(res[0].ClientToken) {
		t.Errorf("result %+v: want a UUID token and the task ID derived from it", res[0])
	}
	assertQueueSize(t, insp, queue, 1)
}

func TestEnqueueInvalidQueuesNothing(t *testing.T) {
	t.Parallel()
	client, insp, queue := newTestQueue(t)
	tests := []struct {
		name   string
		change func(p *DetachPayload)
	}{
		// Chunk 0 is fine; the bad ID sits in chunk 1, so this proves that all
		// chunks are checked before the first is queued.
		{"bad ID in second chunk", func(p *DetachPayload) { p.LoadBalancerIds = append(lbIDs(6), "lb with space") }},
		{"duplicate across chunks", func(p *DetachPayload) { p.LoadBalancerIds = append(lbIDs(6), "lb-a") }},
		{"no group", func(p *DetachPayload) { p.ScalingGroupId = "" }},
	}
	for _, tc := range tests {
		p := contractPayload()
		p.ClientToken = "enqueue-invalid-" + uuid.NewString()
		tc.change(&p)
		res, err := Enqueue(context.Background(), client, p, asynq.Queue(queue))
		if !errors.Is(err, ErrInvalidPayload) {
			t.Errorf("%s: error %v, want ErrInvalidPayload", tc.name, err)
		}
		if res != nil {
			t.Errorf("%s: results %+v with the error", tc.name, res)
		}
	}
	assertQueueSize(t, insp, queue, 0)
}

func TestEnqueueRejectsTaskIDOption(t *testing.T) {
	t.Parallel()
	client, insp, queue := newTestQueue(t)
	_, err := Enqueue(context.Background(), client, contractPayload(), asynq.Queue(queue), asynq.TaskID("mine"))
	if !errors.Is(err, ErrTaskIDOption) {
		t.Fatalf("error %v, want ErrTaskIDOption", err)
	}
	assertQueueSize(t, insp, queue, 0)
}

func TestEnqueueRedisError(t *testing.T) {
	t.Parallel()
	client, insp, queue := newTestQueue(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Enqueue(ctx, client, contractPayload(), asynq.Queue(queue))
	if err == nil || errors.Is(err, ErrInvalidPayload) {
		t.Fatalf("Enqueue with a cancelled context: error %v, want a queueing error", err)
	}
	if len(res) != 0 {
		t.Errorf("results %+v, want none", res)
	}
	assertQueueSize(t, insp, queue, 0)
	if _, err := Enqueue(context.Background(), nil, contractPayload()); err == nil {
		t.Error("Enqueue with a nil client: no error")
	}
}

// TestEnqueueAfterCompletion shows the "no second detach" rule with a real
// asynq server: a job that ran to completion is kept for DefaultRetention, and
// its task ID with it, so the same request again is a duplicate.
func TestEnqueueAfterCompletion(t *testing.T) {
	t.Parallel()
	opt := enqueueTestRedis(t)
	client, insp, queue := newTestQueueAt(t, opt)
	ran := make(chan string, 4)
	srv := asynq.NewServer(opt, asynq.Config{
		Queues:      map[string]int{queue: 1},
		Concurrency: 1,
		LogLevel:    asynq.FatalLevel,
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeDetachLoadBalancers, func(ctx context.Context, task *asynq.Task) error {
		p, err := DecodeDetachPayload(task.Payload())
		if err != nil {
			return err
		}
		ran <- p.ClientToken
		return nil
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)

	p := contractPayload()
	p.ClientToken = "enqueue-completed-" + uuid.NewString()
	if _, err := Enqueue(context.Background(), client, p, asynq.Queue(queue)); err != nil {
		t.Fatal(err)
	}
	sharedtest.WaitFor(t, "the task completes", 20*time.Second, func() (bool, string) {
		info, err := insp.GetTaskInfo(queue, TaskID(p.ClientToken))
		if err != nil {
			return false, err.Error()
		}
		return info.State == asynq.TaskStateCompleted, info.State.String()
	})
	res, err := Enqueue(context.Background(), client, p, asynq.Queue(queue))
	if err != nil {
		t.Fatal(err)
	}
	if res[0].State != StateDuplicate {
		t.Fatalf("re-enqueue after completion = %+v, want a duplicate", res[0])
	}
	if got := len(ran); got != 1 {
		t.Errorf("handler ran %d times, want 1", got)
	}
}

// assertQueueSize checks how many tasks queue holds in any state.
func assertQueueSize(t *testing.T, insp *asynq.Inspector, queue string, want int) {
	t.Helper()
	queues, err := insp.Queues()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(queues, queue) {
		if want != 0 {
			t.Fatalf("queue %s does not exist, want %d tasks", queue, want)
		}
		return
	}
	info, err := insp.GetQueueInfo(queue)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != want {
		t.Fatalf("queue %s holds %d tasks, want %d", queue, info.Size, want)
	}
}

func TestParseDetachLines(t *testing.T) {
	t.Parallel()
	const good = `{"RegionId":"cn-hangzhou","ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"],"Async":true,"ClientToken":"t1"}

{"ScalingGroupId":"asg-2","LoadBalancerIds":["a","b","c","d","e","f","g"]}
   ` + "\t" + `
{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"],"RegionId":"cn-hangzhou","Async":true,"ClientToken":"t1"}` + "\r\n"
	tests := []struct {
		name    string
		in      string
		want    []DetachPayload
		wantErr []string // substrings, each must appear
		notErr  []string // substrings that must not appear
	}{
		{
			name: "good with blank lines, long list, repeated identical request, CRLF",
			in:   good,
			want: []DetachPayload{
				{RegionId: "cn-hangzhou", ScalingGroupId: "asg-1", LoadBalancerIds: []string{"lb-1"}, Async: true, ClientToken: "t1"},
				{ScalingGroupId: "asg-2", LoadBalancerIds: []string{"a", "b", "c", "d", "e", "f", "g"}},
				{RegionId: "cn-hangzhou", ScalingGroupId: "asg-1", LoadBalancerIds: []string{"lb-1"}, Async: true, ClientToken: "t1"},
			},
		},
		{
			name: "no final newline",
			in:   `{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"]}`,
			want: []DetachPayload{{ScalingGroupId: "asg-1", LoadBalancerIds: []string{"lb-1"}}},
		},
		{
			name: "bad line 3",
			in: `{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"]}
{"ScalingGroupId":"asg-2","LoadBalancerIds":["lb-1"]}
{"LoadBalancerIds":["lb-1"]}
{"ScalingGroupId":"asg-4","LoadBalancerIds":["lb-1"]}
`,
			wantErr: []string{"line 3: invalid payload: ScalingGroupId: required"},
			notErr:  []string{"line 1", "line 2", "line 4"},
		},
		{
			name: "every bad line is named",
			in: `{"ScalingGroupId":"asg-1","LoadBalancerId":["lb-1"]}

{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"],"Async":"yes"}
not json
{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1","lb-1"]}`,
			wantErr: []string{
				"line 1: invalid payload: LoadBalancerId: unknown field",
				"line 3: invalid payload: Async: must be a boolean",
				"line 4: invalid payload: malformed JSON",
				"line 5: invalid payload: LoadBalancerIds[1]: duplicate",
			},
		},
		{
			name: "token reused for another request",
			in: `{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"],"ClientToken":"same"}
{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-2"],"ClientToken":"same"}`,
			wantErr: []string{"line 2: invalid payload: ClientToken: also used on line 1"},
		},
		{
			name:    "too long line, then a bad line",
			in:      `{"ScalingGroupId":"` + strings.Repeat("a", MaxPayloadSize) + "\"}\n{}\n",
			wantErr: []string{"line 1: invalid payload: line longer than", "line 2: invalid payload: ScalingGroupId: required"},
		},
		{name: "empty input", in: "", wantErr: []string{"no requests"}},
		{name: "only blank lines", in: "\n  \n\r\n", wantErr: []string{"no requests"}},
		{
			name:    "many bad lines are capped",
			in:      strings.Repeat("{}\n", maxLineErrors+5),
			wantErr: []string{"line 1:", "line 20:", "5 more bad lines not shown"},
			notErr:  []string{"line 21:"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseDetachLines(strings.NewReader(tc.in))
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("got %+v, want %+v", got, tc.want)
				}
				return
			}
			if got != nil {
				t.Errorf("got payloads %+v with the error", got)
			}
			if !errors.Is(err, ErrInvalidPayload) {
				t.Fatalf("error %v does not wrap ErrInvalidPayload", err)
			}
			for _, s := range tc.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			for _, s := range tc.notErr {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains %q", err, s)
				}
			}
		})
	}
}

// TestParseDetachLinesReadsAll checks that input is read to its end even
// after a bad line, so a producer writing to a pipe is never blocked.
func TestParseDetachLinesReadsAll(t *testing.T) {
	t.Parallel()
	r := strings.NewReader("{}\n" + strings.Repeat(`{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"]}`+"\n", 100))
	if _, err := ParseDetachLines(r); err == nil {
		t.Fatal("no error for a bad line 1")
	}
	if r.Len() != 0 {
		t.Errorf("%d bytes left unread", r.Len())
	}
}

func TestParseDetachLinesReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader(`{"ScalingGroupId":"asg-1","LoadBalancerIds":["lb-1"]}`+"\n"), iotest.ErrReader(boom))
	got, err := ParseDetachLines(r)
	if !errors.Is(err, boom) || got != nil {
		t.Fatalf("got %+v, %v; want no payloads and the read error", got, err)
	}
	if errors.Is(err, ErrInvalidPayload) {
		t.Errorf("read error %v wraps ErrInvalidPayload; it is not bad input", err)
	}
}
