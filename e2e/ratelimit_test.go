package e2e

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/essclient/esstest"
	"essworker/internal/redistest"
	"essworker/tasks"
)

// TestFleetRateAcrossWorkers queues a backlog of sync jobs for three worker
// processes that share --ess-qps 20, against an emulator that throttles every
// action beyond 20 calls/s, and checks that ESS never throttled a call, that
// every detach was applied once, and that the calls took at least as long as
// the shared rate allows: the workers take turns on one timeline in Redis.
func TestFleetRateAcrossWorkers(t *testing.T) {
	heavy(t)
	t.Parallel()
	const (
		qps     = 20
		n       = 100
		workers = 3
	)
	groups := make([]esstest.ScalingGroup, n)
	jobs := make([]job, n)
	for i := range n {
		gid, lb := fmt.Sprintf("asg-rate-%03d", i), fmt.Sprintf("lb-rate-%03d", i)
		groups[i] = esstest.ScalingGroup{ScalingGroupId: gid, LoadBalancerIds: []string{lb}}
		jobs[i] = job{payload: tasks.DetachPayload{ScalingGroupId: gid, LoadBalancerIds: []string{lb}, ClientToken: "rate-" + strconv.Itoa(i)}, want: wantDetached}
	}
	rs := redistest.Start(t, redistest.Options{})
	emu := startEmulator(t, emulatorConfig{Groups: groups})
	emu.setFaults(t, esstest.FaultPlan{esstest.AllActions: {ThrottleQPS: qps}})
	enqueueAll(t, rs.URL(0), jobs)
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: rs.Addr})
	t.Cleanup(func() { _ = insp.Close() })

	start := time.Now()
	for i := range workers {
		startWorker(t, "rate-worker-"+strconv.Itoa(i+1), rs.URL(0), emu.url, "--ess-qps", strconv.Itoa(qps))
	}
	qi := queueDone(t, insp, n, 2*time.Minute)
	elapsed := time.Since(start)

	s := emu.stats(t)
	calls := s.Calls[esstest.ActionDetachLoadBalancers]
	t.Logf("FLEET-RATE: jobs=%d workers=%d qps=%d elapsed=%s calls=%v applied=%d",
		n, workers, qps, elapsed.Round(10*time.Millisecond), calls, s.DetachesApplied)
	if qi.Completed != n {
		t.Errorf("%d of %d jobs completed (%s)", qi.Completed, n, queueText(qi))
	}
	if th := calls[esstest.CodeThrottlingUser]; th != 0 {
		t.Errorf("ESS throttled %d detach calls; the workers' shared rate let them through", th)
	}
	if calls["OK"] != n || s.DetachesApplied != n {
		t.Errorf("detach calls %v, %d applied; want %d, each applied once", calls, s.DetachesApplied, n)
	}
	// Delays only make the calls later, so the rate is a floor on the time
	// from the workers' start to the last detach (less a tenth for the clock
	// readings around it); workers each keeping the rate alone would take a
	// third of it.
	if floor := time.Duration(n-1) * time.Second / qps * 9 / 10; elapsed < floor {
		t.Errorf("%d detaches in %v at a shared %d calls/s; that needs at least %v", n, elapsed, qps, floor)
	}
}
