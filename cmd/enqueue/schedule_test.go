package main

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/essclient/esstest"
	"essworker/internal/logcapture"
	"essworker/internal/redistest"
	"essworker/internal/worker"
	"essworker/internal/workertest"
	"essworker/tasks"
)

// TestScheduledAt: --at between two seconds queues the job scheduled for the
// next whole second, with state "scheduled"; the same command again is a
// duplicate and leaves the time alone.
func TestScheduledAt(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{})
	insp := inspector(t, s)
	at := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Second).Add(250 * time.Millisecond)
	args := []string{"--group", "asg-1", "--lb", "lb-1", "--token", "at-1", "--at", at.Format(time.RFC3339Nano)}

	r := runCmd(t, s.URL(0), "", args...)
	r.wantCode(t, 0)
	lines := r.lines(t)
	if len(lines) != 1 || lines[0]["state"] != tasks.StateScheduled || lines[0]["task_id"] != "detach:at-1" {
		t.Fatalf("stdout %q; want one line with state scheduled", r.stdout)
	}
	wantNextProcessAt(t, insp, "detach:at-1", at.Truncate(time.Second).Add(time.Second))

	r = runCmd(t, s.URL(0), "", append(args[:len(args)-1], at.Add(time.Hour).Format(time.RFC3339))...)
	r.wantCode(t, 0)
	if lines := r.lines(t); len(lines) != 1 || lines[0]["state"] != tasks.StateDuplicate {
		t.Fatalf("again: stdout %q; want one duplicate line", r.stdout)
	}
	wantNextProcessAt(t, insp, "detach:at-1", at.Truncate(time.Second).Add(time.Second))
}

// TestScheduledIn: --in schedules every job of --file, each for the same
// whole second, d after the run.
func TestScheduledIn(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{})
	insp := inspector(t, s)
	file := writeFile(t, "jobs.jsonl", `{"ScalingGroupId":"asg-1","LoadBalancerIds":["a","b","c","d","e","f"],"ClientToken":"in-1"}`+"\n"+
		`{"ScalingGroupId":"asg-2","LoadBalancerIds":["lb-1"],"ClientToken":"in-2"}`+"\n")
	before := time.Now()
	r := runCmd(t, s.URL(0), "", "--file", file, "--in", "90m")
	after := time.Now()
	r.wantCode(t, 0)
	lines := r.lines(t)
	if len(lines) != 3 {
		t.Fatalf("stdout %q; want 3 lines", r.stdout)
	}
	var next []time.Time
	for _, l := range lines {
		if l["state"] != tasks.StateScheduled {
			t.Errorf("line %v: want state scheduled", l)
		}
		info, err := insp.GetTaskInfo(tasks.DefaultQueue, l["task_id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if info.State != asynq.TaskStateScheduled {
			t.Errorf("task %s: state %v, want scheduled", info.ID, info.State)
		}
		next = append(next, info.NextProcessAt)
	}
	n := next[0]
	if slices.ContainsFunc(next, func(x time.Time) bool { return !x.Equal(n) }) || n.Nanosecond() != 0 ||
		n.Before(before.Add(90*time.Minute)) || !n.Before(after.Add(90*time.Minute+time.Second)) {
		t.Errorf("--in 90m run between %v and %v: jobs scheduled at %v", before, after, next)
	}
}

func TestWaitBudget(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	later, err := tasks.ScheduleAt(now.Add(90*time.Minute), now)
	if err != nil {
		t.Fatal(err)
	}
	if got := waitBudget(5*time.Minute, later, now); got != 95*time.Minute {
		t.Errorf("scheduled 90m ahead: budget %v, want 1h35m", got)
	}
	if got := waitBudget(5*time.Minute, later, now.Add(2*time.Hour)); got != 5*time.Minute {
		t.Errorf("scheduled time passed: budget %v, want 5m", got)
	}
	if got := waitBudget(5*time.Minute, tasks.Schedule{}, now); got != 5*time.Minute {
		t.Errorf("not scheduled: budget %v, want 5m", got)
	}
}

// TestScheduledRunsNoEarlier is one real short wait: a job scheduled 2 s
// ahead, on a real worker and the emulator, ends no earlier than its second,
// and --wait-timeout, shorter than the 2 s, counts from that second.
func TestScheduledRunsNoEarlier(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{})
	emu := esstest.NewServer(esstest.Config{})
	t.Cleanup(emu.Close)
	if err := emu.AddScalingGroup(esstest.ScalingGroup{ScalingGroupId: "asg-later", LoadBalancerIds: []string{"lb-1", "lb-2"}}); err != nil {
		t.Fatal(err)
	}
	workertest.Run(t, worker.Config{
		RedisURL: s.URL(0), ESSEndpoint: emu.URL, Region: esstest.DefaultRegionID, MetricsAddr: "127.0.0.1:0",
		DelayedCheck: 100 * time.Millisecond, ShutdownTimeout: 5 * time.Second, LogLevel: "info",
	}, emu.Credentials(), &logcapture.Buffer{})
	insp := inspector(t, s)

	before := time.Now()
	r := runCmd(t, s.URL(0), "", "--group", "asg-later", "--lb", "lb-1", "--token", "later-1",
		"--in", "2s", "--wait", "--wait-timeout", "1900ms")
	r.wantCode(t, 0)
	lines := r.lines(t)
	if len(lines) != 2 || lines[0]["state"] != tasks.StateScheduled || lines[1]["state"] != "completed" {
		t.Fatalf("stdout %q; want a scheduled line, then a completed one", r.stdout)
	}
	if res := decodeResult(t, lines[1]); res.Outcome != tasks.OutcomeDetached {
		t.Fatalf("result %+v, want detached", res)
	}
	info, err := insp.GetTaskInfo(tasks.DefaultQueue, "detach:later-1")
	if err != nil {
		t.Fatal(err)
	}
	// The job's enqueued-at header holds its scheduled second. asynq keeps
	// CompletedAt in whole seconds, rounded down: a job that ends at or after
	// its second shows that second or a later one.
	ns, err := strconv.ParseInt(info.Headers[tasks.HeaderEnqueuedAt], 10, 64)
	due := time.Unix(0, ns)
	if err != nil || due.Before(before.Add(2*time.Second)) || due.Nanosecond() != 0 {
		t.Fatalf("run started at %v with --in 2s: job scheduled for %v (%v)", before, due, err)
	}
	if info.State != asynq.TaskStateCompleted || info.CompletedAt.Before(due) {
		t.Errorf("job scheduled for %v: %v at %v", due, info.State, info.CompletedAt)
	}
	if g, _ := emu.ScalingGroup("asg-later"); !slices.Equal(g.LoadBalancerIds, []string{"lb-2"}) {
		t.Errorf("group's load balancers %v, want [lb-2]", g.LoadBalancerIds)
	}
	if n := emu.Stats().DetachesApplied; n != 1 {
		t.Errorf("%d detaches applied, want 1", n)
	}
}

// wantNextProcessAt fails t unless the task of the default queue waits in
// state scheduled for exactly at.
func wantNextProcessAt(t *testing.T, insp *asynq.Inspector, taskID string, at time.Time) {
	t.Helper()
	info, err := insp.GetTaskInfo(tasks.DefaultQueue, taskID)
	if err != nil {
		t.Fatal(err)
	}
	if info.State != asynq.TaskStateScheduled || !info.NextProcessAt.Equal(at) {
		t.Fatalf("task %s: state %v, next process at %v; want scheduled at %v", taskID, info.State, info.NextProcessAt, at)
	}
}
