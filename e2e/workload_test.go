package e2e

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"essworker/essclient/esstest"
	"essworker/internal/sharedtest"
	"essworker/tasks"
)

// Final states a job may be expected to reach.
const (
	wantDetached    = tasks.OutcomeDetached      // completed, the load balancers detached
	wantNotAttached = tasks.OutcomeNotAttached   // completed, nothing to detach
	wantArchived    = "archived:group-not-found" // archived: its group does not exist
)

// codeGroupNotFound is ESS's answer for a missing scaling group.
const codeGroupNotFound = "InvalidScalingGroupId.NotFound"

// job is one request of a workload and the final state it must reach.
type job struct {
	payload tasks.DetachPayload
	want    string // wantDetached, wantNotAttached or wantArchived
}

// workload is a set of jobs over a set of scaling groups, with what the
// emulator must show once every job has ended.
type workload struct {
	groups     []esstest.ScalingGroup
	jobs       []job
	remaining  map[string][]string // group -> the load balancers still attached at the end
	detaching  int                 // jobs that must each apply exactly one detach
	activities int                 // asynchronous detaching jobs: one activity each
}

// workloadSpec shapes newWorkload.
type workloadSpec struct {
	prefix       string // unique per test: group, load balancer and token names start with it
	groups       int
	jobsPerGroup int // at least 3: singles, one job of two load balancers, one not attached
	// missingEvery makes every n-th group's not-attached job name a group that
	// does not exist instead (0: never).
	missingEvery int
}

// newWorkload builds groups and jobs from rng. Per group: jobsPerGroup-2 jobs
// detach one load balancer each, one detaches two, and one names a load
// balancer that is not attached (or a group that does not exist); two load
// balancers per group are never named and must stay. Each job is synchronous or
// asynchronous, forced or not, at random; every job has its own ClientToken.
// The jobs come shuffled.
func newWorkload(rng *rand.Rand, s workloadSpec) workload {
	w := workload{remaining: map[string][]string{}}
	for g := range s.groups {
		gid := fmt.Sprintf("asg-%s-%02d", s.prefix, g)
		lb := func(i int) string { return fmt.Sprintf("lb-%s-%02d-%02d", s.prefix, g, i) }
		n := s.jobsPerGroup
		var lbs []string
		for i := range n + 2 {
			lbs = append(lbs, lb(i))
		}
		w.groups = append(w.groups, esstest.ScalingGroup{ScalingGroupId: gid, LoadBalancerIds: lbs})
		w.remaining[gid] = []string{lb(n), lb(n + 1)}
		token := func(k int) string { return fmt.Sprintf("%s-%02d-%02d", s.prefix, g, k) }
		detach := func(k int, ids ...string) {
			async := rng.IntN(2) == 0
			w.jobs = append(w.jobs, job{want: wantDetached, payload: tasks.DetachPayload{
				ScalingGroupId: gid, LoadBalancerIds: ids, Async: async, ForceDetach: rng.IntN(4) == 0, ClientToken: token(k),
			}})
			w.detaching++
			if async {
				w.activities++
			}
		}
		for k := range n - 2 {
			detach(k, lb(k))
		}
		detach(n-2, lb(n-2), lb(n-1))
		last := job{want: wantNotAttached, payload: tasks.DetachPayload{
			ScalingGroupId: gid, LoadBalancerIds: []string{fmt.Sprintf("lb-%s-%02d-ghost", s.prefix, g)},
			Async: rng.IntN(2) == 0, ClientToken: token(n - 1),
		}}
		if s.missingEvery > 0 && g%s.missingEvery == 0 {
			last.want = wantArchived
			last.payload.ScalingGroupId = fmt.Sprintf("asg-%s-missing-%02d", s.prefix, g)
		}
		w.jobs = append(w.jobs, last)
	}
	rng.Shuffle(len(w.jobs), func(i, j int) { w.jobs[i], w.jobs[j] = w.jobs[j], w.jobs[i] })
	return w
}

// enqueueAll queues every job with the enqueue command (--file -) and checks
// that each was enqueued under its token's task ID.
func enqueueAll(t *testing.T, redisURL string, jobs []job) {
	t.Helper()
	var in strings.Builder
	for _, j := range jobs {
		b, err := json.Marshal(j.payload)
		if err != nil {
			t.Fatal(err)
		}
		in.Write(b)
		in.WriteByte('\n')
	}
	lines, code := runEnqueue(t, in.String(), "--redis-url", redisURL, "--file", "-")
	if code != 0 || len(lines) != len(jobs) {
		t.Fatalf("enqueue: exit %d, %d lines for %d jobs", code, len(lines), len(jobs))
	}
	for i, l := range lines {
		if l["state"] != tasks.StateEnqueued || l["task_id"] != tasks.TaskID(jobs[i].payload.ClientToken) {
			t.Fatalf("enqueue line %d = %v, want job %s enqueued", i, l, jobs[i].payload.ClientToken)
		}
	}
}

// queueDone waits until total tasks of the default queue have ended (completed
// or archived) and none waits or runs.
func queueDone(t *testing.T, insp *asynq.Inspector, total int, within time.Duration) *asynq.QueueInfo {
	t.Helper()
	var last *asynq.QueueInfo
	t.Cleanup(func() {
		if t.Failed() {
			logUnfinished(t, insp)
		}
	})
	sharedtest.WaitFor(t, fmt.Sprintf("all %d jobs end", total), within, func() (bool, string) {
		qi, err := insp.GetQueueInfo(tasks.DefaultQueue)
		if err != nil {
			return false, err.Error()
		}
		last = qi
		return qi.Completed+qi.Archived == total && qi.Pending+qi.Active+qi.Scheduled+qi.Retry == 0, queueText(qi)
	})
	return last
}

// logUnfinished shows the jobs that have not ended, for a failure's diagnosis.
func logUnfinished(t *testing.T, insp *asynq.Inspector) {
	t.Helper()
	const most = 20
	lists := []struct {
		state string
		list  func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error)
	}{
		{"active", insp.ListActiveTasks}, {"pending", insp.ListPendingTasks},
		{"retry", insp.ListRetryTasks}, {"scheduled", insp.ListScheduledTasks},
	}
	holders := map[string]bool{}
	for _, l := range lists {
		infos, err := l.list(tasks.DefaultQueue, asynq.PageSize(most))
		if err != nil {
			t.Logf("list %s tasks: %v", l.state, err)
			continue
		}
		for _, info := range infos {
			t.Logf("unfinished: %s %s retried=%d next=%s last_failed=%s last_err=%q",
				l.state, info.ID, info.Retried, info.NextProcessAt.Format(time.TimeOnly),
				info.LastFailedAt.Format(time.TimeOnly), info.LastErr)
			if _, holder, ok := strings.Cut(info.LastErr, "leased by task "); ok {
				holders[holder] = true
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(holders)) {
		info, err := insp.GetTaskInfo(tasks.DefaultQueue, id)
		if err != nil {
			t.Logf("lease holder %s: %v", id, err)
			continue
		}
		t.Logf("lease holder %s: state %s retried=%d completed=%s last_err=%q result=%s",
			id, info.State, info.Retried, info.CompletedAt.Format(time.TimeOnly), info.LastErr, info.Result)
	}
}

func queueText(qi *asynq.QueueInfo) string {
	return fmt.Sprintf("pending=%d active=%d scheduled=%d retry=%d completed=%d archived=%d",
		qi.Pending, qi.Active, qi.Scheduled, qi.Retry, qi.Completed, qi.Archived)
}

// verdict is what checkJobs found.
type verdict struct {
	completed, archived int
	lost                int // not found, or not ended
	wrong               int // ended in another state than expected
	maxAttempts         int
	// calls and activities are the DetachLoadBalancers calls that detached
	// something, by the ClientToken ESS saw (a job's own, or the call it
	// shared with others of its group), and those of them that were async.
	calls, activities map[string]bool
}

// checkJobs reads every job's final task info and result and reports each one
// not in its expected state.
func checkJobs(t *testing.T, insp *asynq.Inspector, jobs []job) verdict {
	t.Helper()
	v := verdict{calls: map[string]bool{}, activities: map[string]bool{}}
	for _, j := range jobs {
		id := tasks.TaskID(j.payload.ClientToken)
		info, err := insp.GetTaskInfo(tasks.DefaultQueue, id)
		if err != nil {
			v.lost++
			t.Errorf("job %s lost: %v", id, err)
			continue
		}
		res, rerr := tasks.DecodeDetachResult(info.Result)
		v.maxAttempts = max(v.maxAttempts, res.Attempts)
		got := ""
		switch info.State {
		case asynq.TaskStateCompleted:
			v.completed++
			got = res.Outcome
		case asynq.TaskStateArchived:
			v.archived++
			got = "archived:" + res.ErrorCode
			if res.ErrorCode == codeGroupNotFound {
				got = wantArchived
			}
		default:
			v.lost++
			t.Errorf("job %s not ended: state %s", id, info.State)
			continue
		}
		if len(res.DetachedIds) > 0 {
			call := cmp.Or(res.CallClientToken, res.ClientToken)
			v.calls[call] = true
			if res.Async {
				v.activities[call] = true
			}
		}
		if got != j.want || rerr != nil || res.ClientToken != j.payload.ClientToken {
			v.wrong++
			t.Errorf("job %s: state %s, result %s (%v), last error %q; want %s", id, info.State, info.Result, rerr, info.LastErr, j.want)
		}
	}
	return v
}

// checkEmulator compares the emulator's stats and groups with the workload's
// expectations and with the calls the jobs' results name (v), and returns the
// detaches applied more than once (0 when right).
func checkEmulator(t *testing.T, e *emulator, w workload, v verdict) (stats esstest.Stats, appliedTwice int) {
	t.Helper()
	stats = e.stats(t)
	// Jobs of one group that waited together share calls: at most one call
	// per detaching job, and exactly one detach applied per call.
	if len(v.calls) > w.detaching || stats.DetachesApplied != len(v.calls) {
		t.Errorf("emulator applied %d detaches; the results name %d calls for %d detaching jobs (want one per call)", stats.DetachesApplied, len(v.calls), w.detaching)
	}
	if len(v.activities) > w.activities || stats.ActivitiesCreated != len(v.activities) {
		t.Errorf("emulator created %d activities; the results name %d async calls for %d asynchronous detaching jobs (want one per call)", stats.ActivitiesCreated, len(v.activities), w.activities)
	}
	groups := e.groups(t)
	for _, g := range w.groups {
		got, want := slices.Sorted(slices.Values(groups[g.ScalingGroupId])), w.remaining[g.ScalingGroupId]
		if !slices.Equal(got, want) {
			t.Errorf("group %s ends with load balancers %v, want %v", g.ScalingGroupId, got, want)
		}
	}
	return stats, max(0, stats.DetachesApplied-len(v.calls))
}

// callsByCode sums the emulator's calls per answer code over all actions.
func callsByCode(s esstest.Stats) map[string]int {
	out := map[string]int{}
	for _, byCode := range s.Calls {
		for code, n := range byCode {
			out[code] += n
		}
	}
	return out
}

// totalCalls is the number of ESS calls the emulator answered (or dropped).
func totalCalls(s esstest.Stats) int {
	n := 0
	for _, c := range callsByCode(s) {
		n += c
	}
	return n
}
