package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/essclient"
	"essworker/essclient/esstest"
	"essworker/internal/detach"
	"essworker/internal/notify"
	"essworker/internal/redistest"
	"essworker/internal/sharedtest"
	"essworker/tasks"
)

// countingNotifier counts the final answers the handler reports, then passes
// them on.
type countingNotifier struct {
	next *notify.Notifier
	mu   sync.Mutex
	ends map[string]int // by client token
}

func (c *countingNotifier) JobEnded(ctx context.Context, token string, archived bool, result []byte) {
	c.mu.Lock()
	c.ends[token]++
	c.mu.Unlock()
	c.next.JobEnded(ctx, token, archived, result)
}

func (c *countingNotifier) count(token string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ends[token]
}

// TestReplayedFinalAttemptSendsOneNotice runs detach jobs whose first final
// answer is lost on its way to asynq, as when a worker dies between the
// handler's answer and asynq's record of it: asynq runs the attempt again,
// the handler reaches its final answer a second time, and the receiver still
// gets one notice per job, completed or archived.
func TestReplayedFinalAttemptSendsOneNotice(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t, redistest.Options{})
	emu := esstest.NewServer(esstest.Config{})
	t.Cleanup(emu.Close)
	if err := emu.AddScalingGroup(esstest.ScalingGroup{ScalingGroupId: "asg-replay", LoadBalancerIds: []string{"lb-1"}}); err != nil {
		t.Fatal(err)
	}
	ess, err := essclient.New(essclient.Config{Endpoint: emu.URL, DefaultRegion: esstest.DefaultRegionID, Credentials: emu.Credentials(), Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ess.Close)
	rcv := newReceiver(t, testSecret)

	counter := &countingNotifier{ends: map[string]int{}}
	var replayed sync.Map // task IDs whose final answer was lost once
	s := startStack(t, notify.Config{URL: rcv.URL, Secret: []byte(testSecret), FirstRetry: 200 * time.Millisecond}, rs, func(s *stack) {
		counter.next = s.n
		h, err := detach.NewHandler(detach.Config{ESS: ess, Redis: rs.Client(t), Notifier: counter, RetryBase: 50 * time.Millisecond, RetryCap: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		s.mux.HandleFunc(tasks.TypeDetachLoadBalancers, func(ctx context.Context, task *asynq.Task) error {
			err := h.ProcessTask(ctx, task)
			id, _ := asynq.GetTaskID(ctx)
			if _, again := replayed.LoadOrStore(id, true); !again {
				return errors.New("worker lost before asynq recorded the answer")
			}
			return err
		})
	})

	client := asynq.NewClientFromRedisClient(rs.Client(t))
	ctx := context.Background()
	jobs := map[string]string{"replay-ok": "completed", "replay-unknown": "archived"}
	for token := range jobs {
		group := "asg-replay"
		if token == "replay-unknown" {
			group = "asg-unknown"
		}
		if _, err := tasks.Enqueue(ctx, client, tasks.DetachPayload{ScalingGroupId: group, LoadBalancerIds: []string{"lb-1"}, ClientToken: token}); err != nil {
			t.Fatal(err)
		}
	}
	sharedtest.WaitFor(t, "both jobs ended and their notices delivered", 30*time.Second, func() (bool, string) {
		var seen []string
		for token, want := range jobs {
			job := s.state(t, tasks.DefaultQueue, tasks.TaskID(token))
			info, err := s.insp.GetTaskInfo(tasks.DefaultQueue, notify.TaskIDPrefix+tasks.TaskID(token))
			if job.State.String() != want || err != nil || info.State != asynq.TaskStateCompleted {
				return false, fmt.Sprintf("job %s %s, notice %v %v", token, job.State, info, err)
			}
			seen = append(seen, token)
		}
		return true, fmt.Sprint(seen)
	})

	byTask := map[string]int{}
	for _, d := range rcv.deliveries() {
		var n notify.Notice
		if err := json.Unmarshal([]byte(d.body), &n); err != nil {
			t.Fatal(err)
		}
		byTask[n.TaskID]++
		if !d.signedOK || n.State != jobs[n.ClientToken] || n.Queue != tasks.DefaultQueue {
			t.Errorf("notice %s: signature ok %v, state %q, queue %q", d.body, d.signedOK, n.State, n.Queue)
		}
		var res tasks.DetachResult
		if err := json.Unmarshal(n.Result, &res); err != nil || res.ClientToken != n.ClientToken || res.Attempts != 1 {
			t.Errorf("notice result %s: %v; want the first final answer's", n.Result, err)
		}
	}
	for token := range jobs {
		if got := counter.count(token); got != 2 {
			t.Errorf("job %s reached its final answer %d times, want 2 (the replay)", token, got)
		}
		if got := byTask[tasks.TaskID(token)]; got != 1 {
			t.Errorf("job %s: %d notices delivered, want 1", token, got)
		}
	}
	notices, err := s.insp.ListCompletedTasks(tasks.DefaultQueue)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, info := range notices {
		if info.Type == notify.TypeNotify {
			n++
		}
	}
	if n != len(jobs) {
		t.Errorf("%d notice tasks, want %d", n, len(jobs))
	}
}
