package e2e

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/essclient/esstest"
	"essworker/internal/redistest"
	"essworker/internal/sharedtest"
	"essworker/tasks"
)

// handBackBound bounds how long a job of a killed worker may take to end. A job
// killed while ACTIVE comes back only through asynq's recoverer: its lease
// (30 s) must have expired 30 s ago, and the recoverer looks once a minute, so
// up to about two minutes; a job killed while snoozed comes back at once.
const handBackBound = 150 * time.Second

// TestCrashedWorkerHandsOverPollingJob kills a worker with SIGKILL while its job
// follows a scaling activity, and checks that a second worker finishes the job
// by polling the same activity, without a second detach.
func TestCrashedWorkerHandsOverPollingJob(t *testing.T) {
	light(t)
	t.Parallel()
	start := time.Now()
	rs := redistest.Start(t, redistest.Options{})
	emu := startEmulator(t, emulatorConfig{
		ActivityDuration: 5 * time.Second,
		Groups:           []esstest.ScalingGroup{{ScalingGroupId: "asg-a", LoadBalancerIds: []string{"lb-a1", "lb-a2"}}},
	})
	w1 := startWorker(t, "worker-1", rs.URL(0), emu.url)

	args := []string{"--redis-url", rs.URL(0), "--group", "asg-a", "--lb", "lb-a1", "--async", "--token", "crash-a"}
	if lines, code := runEnqueue(t, "", args...); code != 0 || len(lines) != 1 || lines[0]["state"] != tasks.StateEnqueued {
		t.Fatalf("enqueue: exit %d, %v", code, lines)
	}
	sharedtest.WaitFor(t, "the activity starts", 20*time.Second, func() (bool, string) {
		s := emu.stats(t)
		return s.ActivitiesCreated == 1, "ActivitiesCreated=" + strconv.Itoa(s.ActivitiesCreated)
	})
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: rs.Addr})
	t.Cleanup(func() { _ = insp.Close() })
	// Between two looks at the activity the job is snoozed (state retry): kill
	// the worker then, as a crash while a job waits on its activity.
	id := tasks.TaskID("crash-a")
	sharedtest.WaitFor(t, "the job snoozes on its activity", 10*time.Second, func() (bool, string) {
		info, err := insp.GetTaskInfo(tasks.DefaultQueue, id)
		if err != nil {
			return false, err.Error()
		}
		return info.State == asynq.TaskStateRetry, info.State.String()
	})
	w1.kill(t)
	stateAtKill := "unknown"
	if info, err := insp.GetTaskInfo(tasks.DefaultQueue, id); err == nil {
		stateAtKill = info.State.String()
	}
	if s := emu.stats(t); s.Calls[esstest.ActionDetachLoadBalancers]["OK"] != 1 || s.DetachesApplied != 0 {
		t.Fatalf("at the kill: stats %+v, want one detach call and its activity still running", s)
	}

	startWorker(t, "worker-2", rs.URL(0), emu.url)
	// The same request again: a duplicate, and --wait follows it to its end.
	lines, code := runEnqueue(t, "", append(args, "--wait", "--wait-timeout", handBackBound.String())...)
	if code != 0 || len(lines) != 2 || lines[0]["state"] != tasks.StateDuplicate || lines[1]["state"] != "completed" {
		t.Fatalf("enqueue --wait: exit %d, lines %v; want a duplicate, then completed", code, lines)
	}
	result, _ := lines[1]["result"].(map[string]any)
	if result["Outcome"] != tasks.OutcomeDetached || result["StatusCode"] != esstest.StatusSuccessful {
		t.Errorf("result %v: want outcome detached, activity Successful", result)
	}
	s := emu.stats(t)
	detachCalls := s.Calls[esstest.ActionDetachLoadBalancers]
	if len(detachCalls) != 1 || detachCalls["OK"] != 1 || s.DetachesApplied != 1 || s.ActivitiesCreated != 1 {
		t.Errorf("emulator stats %+v: want exactly one DetachLoadBalancers call (OK), one activity, one detach applied", s)
	}
	if got := emu.groups(t)["asg-a"]; len(got) != 1 || got[0] != "lb-a2" {
		t.Errorf("asg-a ends with %v, want [lb-a2]", got)
	}
	t.Logf("summary: jobs=1 kills=1 state_at_kill=%s detach_calls=%d detaches_applied=%d activities=%d lost=0 applied_twice=%d elapsed=%s",
		stateAtKill, detachCalls["OK"], s.DetachesApplied, s.ActivitiesCreated, max(0, s.DetachesApplied-1), time.Since(start).Round(time.Second))
}

// TestWorkersKilledAtRandom runs 500 mixed jobs over 50 groups on three
// workers, kills a worker with SIGKILL ten times at random moments and starts it
// again, and checks every job's final state and that each detach was applied
// exactly once.
func TestWorkersKilledAtRandom(t *testing.T) {
	heavy(t)
	t.Parallel()
	const (
		kills       = 10
		minGap      = 1 * time.Second
		maxGap      = 4 * time.Second
		runBudget   = 4 * time.Minute
		callLatency = 300 * time.Millisecond
	)
	start := time.Now()
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	w := newWorkload(rng, workloadSpec{prefix: "kill", groups: 50, jobsPerGroup: 10, missingEvery: 10})

	rs := redistest.Start(t, redistest.Options{})
	emu := startEmulator(t, emulatorConfig{ActivityDuration: time.Second, Groups: w.groups})
	// Every ESS call takes a while, so that kills find calls in flight and jobs
	// active, not only jobs waiting in the queue.
	emu.setFaults(t, esstest.FaultPlan{esstest.AllActions: {Latency: esstest.Duration(callLatency)}})
	enqueueAll(t, rs.URL(0), w.jobs)
	workers := make([]*workerProc, 3)
	for i := range workers {
		workers[i] = startWorker(t, "worker-"+strconv.Itoa(i+1), rs.URL(0), emu.url)
	}
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: rs.Addr})
	t.Cleanup(func() { _ = insp.Close() })

	activeAtKill := 0
	for k := range kills {
		gap := minGap + time.Duration(rng.Int64N(int64(maxGap-minGap)))
		time.Sleep(gap) // the random moment of the next kill, not a wait for a condition
		victim := workers[rng.IntN(len(workers))]
		qi, err := insp.GetQueueInfo(tasks.DefaultQueue)
		if err == nil {
			activeAtKill += qi.Active
			t.Logf("kill %d: %s after %v; queue %s", k+1, victim.name, gap, queueText(qi))
		}
		victim.kill(t)
		victim.restart(t)
	}
	qi := queueDone(t, insp, len(w.jobs), runBudget)
	v := checkJobs(t, insp, w.jobs)
	stats, twice := checkEmulator(t, emu, w, v)
	if v.lost > 0 || v.wrong > 0 {
		t.Errorf("%d jobs lost, %d in a wrong final state", v.lost, v.wrong)
	}
	t.Logf("summary: seed=%d jobs=%d groups=%d kills=%d active_at_kills=%d completed=%d archived=%d (want %d) lost=%d wrong=%d applied_twice=%d detaches_applied=%d/%d activities=%d/%d ess_calls=%d max_attempts=%d elapsed=%s",
		seed, len(w.jobs), len(w.groups), kills, activeAtKill, qi.Completed, qi.Archived, countWant(w.jobs, wantArchived),
		v.lost, v.wrong, twice, stats.DetachesApplied, w.detaching, stats.ActivitiesCreated, w.activities,
		totalCalls(stats), v.maxAttempts, time.Since(start).Round(time.Second))
}

// countWant counts the jobs expected to end as want.
func countWant(jobs []job, want string) int {
	n := 0
	for _, j := range jobs {
		if j.want == want {
			n++
		}
	}
	return n
}
