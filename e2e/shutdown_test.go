package e2e

import (
	"fmt"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/essclient/esstest"
	"essworker/internal/redistest"
	"essworker/internal/sharedtest"
	"essworker/tasks"
)

// exitMargin is how much later than its --shutdown-timeout a worker may exit:
// process teardown and the HTTP server's close.
const exitMargin = 3 * time.Second

// TestSIGTERMFinishesOrHandsBack sends SIGTERM to a worker with calls in
// flight, twice: when the calls end within --shutdown-timeout, the jobs finish
// and the worker exits 0; when they do not, the worker exits 0 on time, the
// jobs go back to the queue, and another worker finishes them without a second
// detach.
func TestSIGTERMFinishesOrHandsBack(t *testing.T) {
	heavy(t)
	t.Parallel()
	// perPhase jobs in flight at once, fewer than the worker's job slots.
	const perPhase = 4
	var groups []esstest.ScalingGroup
	for i := range 2 * perPhase {
		groups = append(groups, esstest.ScalingGroup{
			ScalingGroupId: fmt.Sprintf("asg-term-%d", i), LoadBalancerIds: []string{fmt.Sprintf("lb-term-%d", i), "lb-keep"},
		})
	}
	rs := redistest.Start(t, redistest.Options{})
	emu := startEmulator(t, emulatorConfig{ActivityDuration: time.Second, Groups: groups})
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: rs.Addr})
	t.Cleanup(func() { _ = insp.Close() })
	enqueueRange := func(from, to int) []string {
		var ids []string
		for i := from; i < to; i++ {
			token := "term-" + strconv.Itoa(i)
			args := []string{"--redis-url", rs.URL(0), "--group", groups[i].ScalingGroupId, "--lb", groups[i].LoadBalancerIds[0], "--token", token}
			if lines, code := runEnqueue(t, "", args...); code != 0 || len(lines) != 1 {
				t.Fatalf("enqueue %s: exit %d, %v", token, code, lines)
			}
			ids = append(ids, tasks.TaskID(token))
		}
		return ids
	}
	detachCallsAre := func(n int) func() (bool, string) {
		return func() (bool, string) {
			got := emu.stats(t).Calls[esstest.ActionDetachLoadBalancers]["OK"]
			return got == n, "detach calls=" + strconv.Itoa(got)
		}
	}
	terminate := func(w *workerProc, timeout time.Duration) time.Duration {
		t.Helper()
		began := time.Now()
		if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		code, exited := w.wait(timeout + exitMargin)
		took := time.Since(began)
		if !exited || code != 0 {
			t.Fatalf("%s after SIGTERM: exited=%v code=%d after %v; want exit 0 within %v", w.name, exited, code, took, timeout+exitMargin)
		}
		return took
	}
	states := func(ids []string) map[string]int {
		out := map[string]int{}
		for _, id := range ids {
			info, err := insp.GetTaskInfo(tasks.DefaultQueue, id)
			if err != nil {
				out["missing"]++
				continue
			}
			out[info.State.String()]++
		}
		return out
	}

	// Phase 1: answers come 1 s late, the shutdown timeout is 10 s: the jobs
	// in flight finish before the worker exits.
	emu.setFaults(t, esstest.FaultPlan{esstest.ActionDetachLoadBalancers: {Latency: esstest.Duration(time.Second)}})
	w1 := startWorker(t, "worker-1", rs.URL(0), emu.url, "--concurrency", strconv.Itoa(perPhase), "--shutdown-timeout", "10s")
	finished := enqueueRange(0, perPhase)
	sharedtest.WaitFor(t, "phase 1 calls in flight", 30*time.Second, detachCallsAre(perPhase))
	took1 := terminate(w1, 10*time.Second)
	if got := states(finished); got["completed"] != perPhase {
		t.Errorf("phase 1: after exit the jobs are %v, want all %d completed", got, perPhase)
	}

	// Phase 2: answers would come 30 s late, the shutdown timeout is 2 s: the
	// worker exits on time and hands the jobs back.
	emu.setFaults(t, esstest.FaultPlan{esstest.ActionDetachLoadBalancers: {Latency: esstest.Duration(30 * time.Second)}})
	w2 := startWorker(t, "worker-2", rs.URL(0), emu.url, "--concurrency", strconv.Itoa(perPhase), "--shutdown-timeout", "2s", "--ess-timeout", "60s")
	handedBack := enqueueRange(perPhase, 2*perPhase)
	sharedtest.WaitFor(t, "phase 2 calls in flight", 30*time.Second, detachCallsAre(2*perPhase))
	took2 := terminate(w2, 2*time.Second)
	got := states(handedBack)
	if got["active"] != 0 || got["pending"]+got["retry"] != perPhase {
		t.Errorf("phase 2: after exit the jobs are %v, want all %d handed back (pending or retry)", got, perPhase)
	}

	emu.setFaults(t, esstest.FaultPlan{})
	startWorker(t, "worker-3", rs.URL(0), emu.url)
	all := slices.Concat(finished, handedBack)
	sharedtest.WaitFor(t, "every job completed", 90*time.Second, func() (bool, string) {
		got := states(all)
		return got["completed"] == len(all), fmt.Sprint(got)
	})
	s := emu.stats(t)
	if s.DetachesApplied != len(all) {
		t.Errorf("emulator applied %d detaches, want %d", s.DetachesApplied, len(all))
	}
	for g, lbs := range emu.groups(t) {
		if len(lbs) != 1 || lbs[0] != "lb-keep" {
			t.Errorf("group %s ends with %v, want [lb-keep]", g, lbs)
		}
	}
	t.Logf("summary: jobs=%d phase1_exit=%s (timeout 10s) phase2_exit=%s (timeout 2s) handed_back=%d detach_calls=%d detaches_applied=%d/%d applied_twice=%d lost=0",
		len(all), took1.Round(10*time.Millisecond), took2.Round(10*time.Millisecond), perPhase,
		s.Calls[esstest.ActionDetachLoadBalancers]["OK"], s.DetachesApplied, len(all), max(0, s.DetachesApplied-len(all)))
}
