package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/essclient/esstest"
	"essworker/internal/redistest"
	"essworker/internal/sharedtest"
	"essworker/tasks"
)

// mixedJob is a job naming one attached load balancer and one that is not.
type mixedJob struct {
	token, attached, absent string
}

// addMixedBatches gives every other group of w one more attached load
// balancer and a job naming it with one never attached, which must end
// detached having detached exactly the attached one.
func addMixedBatches(rng *rand.Rand, w *workload, prefix string) []mixedJob {
	var mixed []mixedJob
	for g := range w.groups {
		if g%2 != 0 {
			continue
		}
		grp := &w.groups[g]
		m := mixedJob{
			token:    fmt.Sprintf("%s-%02d-mixed", prefix, g),
			attached: fmt.Sprintf("lb-%s-%02d-mx", prefix, g),
			absent:   fmt.Sprintf("lb-%s-%02d-mx-ghost", prefix, g),
		}
		grp.LoadBalancerIds = append(grp.LoadBalancerIds, m.attached)
		ids := []string{m.attached, m.absent}
		rng.Shuffle(2, func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		async := rng.IntN(2) == 0
		w.jobs = append(w.jobs, job{want: wantDetached, payload: tasks.DetachPayload{
			ScalingGroupId: grp.ScalingGroupId, LoadBalancerIds: ids, Async: async, ClientToken: m.token,
		}})
		w.detaching++
		if async {
			w.activities++
		}
		mixed = append(mixed, m)
	}
	rng.Shuffle(len(w.jobs), func(i, j int) { w.jobs[i], w.jobs[j] = w.jobs[j], w.jobs[i] })
	return mixed
}

// groupActivities starts, until stop is closed or n have started, activities
// that random groups run for their own reasons, 1 to 3 s long, at random
// gaps of 0.1 to 0.6 s (the gaps are the load's shape, not a wait). It
// returns how many started once stop is closed and it is done.
func groupActivities(e *emulator, rng *rand.Rand, groups []esstest.ScalingGroup, n int, stop <-chan struct{}) func() (int, error) {
	var (
		wg      sync.WaitGroup
		started int
		lastErr error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for started < n {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(100+rng.IntN(500)) * time.Millisecond):
			}
			g := groups[rng.IntN(len(groups))].ScalingGroupId
			body, _ := json.Marshal(esstest.GroupActivity{Duration: esstest.Duration(time.Duration(1000+rng.IntN(2000)) * time.Millisecond)})
			resp, err := httpClient.Post(e.url+esstest.PathScalingGroups+"/"+url.PathEscape(g)+"/activities", "application/json", bytes.NewReader(body))
			if err != nil {
				lastErr = err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				lastErr = fmt.Errorf("start an activity of %s: %s: %s", g, resp.Status, b)
				return
			}
			started++
		}
	}()
	return func() (int, error) {
		wg.Wait()
		return started, lastErr
	}
}

// TestHarshESS runs the usual workload plus mixed batches against an ESS that
// does the work and then answers 503 for a fifth of the detaches, and whose
// groups run activities of their own at random moments, on three workers, one
// of them SIGKILLed between the two calls of a mixed batch. Every job must end
// right, every named attached load balancer be gone, every never-named one
// stay, and the activities equal the async calls that did work.
func TestHarshESS(t *testing.T) {
	heavy(t)
	t.Parallel()
	const (
		describeLatency = 1500 * time.Millisecond // widens the window between a mixed batch's two calls
		runBudget       = 5 * time.Minute
	)
	start := time.Now()
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 3))
	w := newWorkload(rng, workloadSpec{prefix: "hrs", groups: 30, jobsPerGroup: 5, missingEvery: 10})
	mixed := addMixedBatches(rng, &w, "hrs")
	rs := redistest.Start(t, redistest.Options{})
	emu := startEmulator(t, emulatorConfig{ActivityDuration: time.Second, Seed: seed, Groups: w.groups})
	emu.setFaults(t, esstest.FaultPlan{
		esstest.ActionDetachLoadBalancers:   {ErrorAfterWorkRate: 0.2},
		esstest.ActionDescribeScalingGroups: {Latency: esstest.Duration(describeLatency)},
	})
	stop := make(chan struct{})
	activitiesDone := groupActivities(emu, rand.New(rand.NewPCG(uint64(seed), 4)), w.groups, 200, stop)
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
	}()
	enqueueAll(t, rs.URL(0), w.jobs)

	// One worker alone, so the mixed batch whose group read is in flight is its own.
	w1 := startWorker(t, "worker-1", rs.URL(0), emu.url)
	sharedtest.WaitFor(t, "a mixed batch reads its group", 60*time.Second, func() (bool, string) {
		n := emu.stats(t).Calls[esstest.ActionDescribeScalingGroups]["OK"]
		return n >= 1, "DescribeScalingGroups=" + strconv.Itoa(n)
	})
	w1.kill(t)
	atKill := emu.stats(t)
	t.Logf("killed worker-1 with a group read in flight: %v", atKill.Calls)
	w1.restart(t)
	for i := 2; i <= 3; i++ {
		startWorker(t, "worker-"+strconv.Itoa(i), rs.URL(0), emu.url)
	}
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: rs.Addr})
	t.Cleanup(func() { _ = insp.Close() })

	qi := queueDone(t, insp, len(w.jobs), runBudget)
	close(stop)
	groupActs, actErr := activitiesDone()
	if actErr != nil {
		t.Errorf("group activities: %v", actErr)
	}
	v := checkJobs(t, insp, w.jobs)
	stats, twice := checkEmulator(t, emu, w, v)
	if v.lost > 0 || v.wrong > 0 {
		t.Errorf("%d jobs lost, %d in a wrong final state", v.lost, v.wrong)
	}
	wrongIDs := checkMixed(t, insp, mixed)
	detach := stats.Calls[esstest.ActionDetachLoadBalancers]
	t.Logf("summary: seed=%d jobs=%d mixed=%d groups=%d completed=%d archived=%d (want %d) lost=%d wrong=%d wrong_ids=%d applied_twice=%d "+
		"detaches_applied=%d/%d activities=%d/%d group_activities=%d/%d errors_after_work=%d busy=%d not_found=%d group_reads=%d ess_calls=%d max_attempts=%d elapsed=%s",
		seed, len(w.jobs), len(mixed), len(w.groups), qi.Completed, qi.Archived, countWant(w.jobs, wantArchived), v.lost, v.wrong, wrongIDs, twice,
		stats.DetachesApplied, w.detaching, stats.ActivitiesCreated, w.activities, groupActs, stats.GroupActivitiesCreated,
		detach["ServiceUnavailable"], detach["ScalingActivityInProgress"], detach["InvalidLoadBalancerId.NotFound"],
		stats.Calls[esstest.ActionDescribeScalingGroups]["OK"], totalCalls(stats), v.maxAttempts, time.Since(start).Round(time.Second))
	if detach["ServiceUnavailable"] == 0 || detach["ScalingActivityInProgress"] == 0 || groupActs == 0 {
		t.Errorf("the test did not inject what it claims: %d errors after work, %d busy answers, %d group activities",
			detach["ServiceUnavailable"], detach["ScalingActivityInProgress"], groupActs)
	}
}

// checkMixed checks that each mixed batch detached exactly its attached load
// balancer and found the other absent; it returns how many did not.
func checkMixed(t *testing.T, insp *asynq.Inspector, mixed []mixedJob) int {
	t.Helper()
	wrong := 0
	for _, m := range mixed {
		info, err := insp.GetTaskInfo(tasks.DefaultQueue, tasks.TaskID(m.token))
		if err != nil {
			wrong++
			t.Errorf("mixed batch %s: %v", m.token, err)
			continue
		}
		res, err := tasks.DecodeDetachResult(info.Result)
		if err != nil || !slices.Equal(res.DetachedIds, []string{m.attached}) || !slices.Equal(res.NotAttachedIds, []string{m.absent}) {
			wrong++
			t.Errorf("mixed batch %s: result %s (%v), want DetachedIds [%s] and NotAttachedIds [%s]", m.token, info.Result, err, m.attached, m.absent)
		}
	}
	return wrong
}
