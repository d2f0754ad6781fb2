package e2e

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/essclient/esstest"
	"essworker/internal/redistest"
)

// TestFaultyESS runs mixed jobs while the emulator fails about 30% of the calls
// (5xx, throttling, detaches done but their answer lost), with a phase in which
// every call answers later than the worker's --ess-timeout, and checks every
// job's final state and that each detach was applied exactly once.
func TestFaultyESS(t *testing.T) {
	heavy(t)
	t.Parallel()
	const (
		essTimeout = time.Second
		errorPhase = 15 * time.Second
		slowPhase  = 5 * time.Second
		runBudget  = 5 * time.Minute
	)
	codes := []string{"ServiceUnavailable", "InternalError", "Throttling.User"}
	// DetachLoadBalancers: 20% errors, and a lost answer for 12.5% of the rest
	// (30% in all); DescribeScalingActivities: 30% errors.
	errorsPlan := esstest.FaultPlan{
		esstest.ActionDetachLoadBalancers:       {ErrorRate: 0.2, ErrorCodes: codes, LostAnswerRate: 0.125},
		esstest.ActionDescribeScalingActivities: {ErrorRate: 0.3, ErrorCodes: codes},
	}
	// Every call answers after the worker gave up on it; detaches are done.
	slowPlan := esstest.FaultPlan{esstest.AllActions: {Latency: esstest.Duration(essTimeout + 500*time.Millisecond)}}

	start := time.Now()
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 2))
	w := newWorkload(rng, workloadSpec{prefix: "flt", groups: 40, jobsPerGroup: 5, missingEvery: 10})
	rs := redistest.Start(t, redistest.Options{})
	emu := startEmulator(t, emulatorConfig{ActivityDuration: time.Second, Seed: seed, Groups: w.groups})
	emu.setFaults(t, errorsPlan)
	enqueueAll(t, rs.URL(0), w.jobs)
	for i := range 3 {
		startWorker(t, "worker-"+strconv.Itoa(i+1), rs.URL(0), emu.url, "--ess-timeout", essTimeout.String())
	}
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: rs.Addr})
	t.Cleanup(func() { _ = insp.Close() })

	// errors, slow, errors, then no faults: the phases' lengths are the point,
	// not a wait for something.
	time.Sleep(errorPhase)
	before := totalCalls(emu.stats(t))
	emu.setFaults(t, slowPlan)
	time.Sleep(slowPhase)
	emu.setFaults(t, errorsPlan)
	timedOut := totalCalls(emu.stats(t)) - before
	time.Sleep(errorPhase)
	faultEnd := emu.stats(t)
	emu.setFaults(t, esstest.FaultPlan{})

	qi := queueDone(t, insp, len(w.jobs), runBudget)
	v := checkJobs(t, insp, w.jobs)
	stats, twice := checkEmulator(t, emu, w, v)
	if v.lost > 0 || v.wrong > 0 {
		t.Errorf("%d jobs lost, %d in a wrong final state", v.lost, v.wrong)
	}
	byCode := callsByCode(faultEnd)
	injected := byCode["ServiceUnavailable"] + byCode["InternalError"] + byCode["Throttling.User"] + byCode[esstest.CodeLostAnswer] + timedOut
	calls := totalCalls(faultEnd)
	t.Logf("summary: seed=%d jobs=%d groups=%d completed=%d archived=%d (want %d) lost=%d wrong=%d applied_twice=%d detaches_applied=%d/%d activities=%d/%d "+
		"calls_in_fault_phases=%d faulty=%d (%.0f%%) ServiceUnavailable=%d InternalError=%d Throttling.User=%d LostAnswer=%d timed_out=%d ess_calls=%d max_attempts=%d elapsed=%s",
		seed, len(w.jobs), len(w.groups), qi.Completed, qi.Archived, countWant(w.jobs, wantArchived), v.lost, v.wrong, twice,
		stats.DetachesApplied, w.detaching, stats.ActivitiesCreated, w.activities,
		calls, injected, percent(injected, calls), byCode["ServiceUnavailable"], byCode["InternalError"], byCode["Throttling.User"],
		byCode[esstest.CodeLostAnswer], timedOut, totalCalls(stats), v.maxAttempts, time.Since(start).Round(time.Second))
	if calls == 0 || percent(injected, calls) < 20 {
		t.Errorf("only %d of %d calls were faulty: the test did not inject what it claims", injected, calls)
	}
}

func percent(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
}
