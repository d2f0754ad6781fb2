package e2e

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/essclient/esstest"
	"essworker/internal/redistest"
	"essworker/internal/sharedtest"
)

// TestRedisRestart stops Redis (AOF on) in the middle of a run and starts it
// again on the same port: the workers report not ready meanwhile, come back by
// themselves, and every job still ends right, each detach applied once.
func TestRedisRestart(t *testing.T) {
	heavy(t)
	t.Parallel()
	const (
		downFor   = 3 * time.Second
		runBudget = 4 * time.Minute
	)
	start := time.Now()
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 3))
	w := newWorkload(rng, workloadSpec{prefix: "rst", groups: 30, jobsPerGroup: 5, missingEvery: 10})
	rs := redistest.Start(t, redistest.Options{AppendOnly: true})
	rs.RequireReal(t)
	emu := startEmulator(t, emulatorConfig{ActivityDuration: time.Second, Groups: w.groups})
	emu.setFaults(t, esstest.FaultPlan{esstest.AllActions: {Latency: esstest.Duration(200 * time.Millisecond)}})
	enqueueAll(t, rs.URL(0), w.jobs)
	workers := []*workerProc{
		startWorker(t, "worker-1", rs.URL(0), emu.url),
		startWorker(t, "worker-2", rs.URL(0), emu.url),
	}
	sharedtest.WaitFor(t, "a fifth of the detaches applied", time.Minute, func() (bool, string) {
		n := emu.stats(t).DetachesApplied
		return n >= w.detaching/5, "applied=" + strconv.Itoa(n)
	})

	rs.Stop(t)
	stopped := time.Now()
	for _, wp := range workers {
		sharedtest.WaitFor(t, wp.name+" /readyz 503 while Redis is down", 10*time.Second, func() (bool, string) {
			code := wp.readyz()
			return code == http.StatusServiceUnavailable, strconv.Itoa(code)
		})
	}
	time.Sleep(time.Until(stopped.Add(downFor))) // keep Redis down a while: the outage's length, not a wait
	rs.Restart(t)
	down := time.Since(stopped)
	for _, wp := range workers {
		sharedtest.WaitFor(t, wp.name+" /readyz 200 after Redis is back", 30*time.Second, func() (bool, string) {
			if !wp.running() {
				t.Fatalf("%s exited while Redis was down: %v", wp.name, wp.waitErr)
			}
			code := wp.readyz()
			return code == http.StatusOK, strconv.Itoa(code)
		})
	}

	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: rs.Addr})
	t.Cleanup(func() { _ = insp.Close() })
	qi := queueDone(t, insp, len(w.jobs), runBudget)
	v := checkJobs(t, insp, w.jobs)
	stats, twice := checkEmulator(t, emu, w, v)
	for _, wp := range workers {
		if !wp.running() {
			t.Errorf("%s exited: %v", wp.name, wp.waitErr)
		}
	}
	t.Logf("summary: seed=%d jobs=%d groups=%d redis_down=%s completed=%d archived=%d (want %d) lost=%d wrong=%d applied_twice=%d detaches_applied=%d/%d activities=%d/%d ess_calls=%d elapsed=%s",
		seed, len(w.jobs), len(w.groups), down.Round(100*time.Millisecond), qi.Completed, qi.Archived, countWant(w.jobs, wantArchived),
		v.lost, v.wrong, twice, stats.DetachesApplied, w.detaching, stats.ActivitiesCreated, w.activities,
		totalCalls(stats), time.Since(start).Round(time.Second))
}
