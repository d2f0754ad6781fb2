package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"essworker/essclient"
	"essworker/essclient/esstest"
	"essworker/internal/detach"
	"essworker/internal/worker"
	"essworker/tasks"
)

// pollingQPS is the ESS rate of the polling scenario: high enough that the
// limiter never delays a poll, so the figures are the polling plan's own.
const pollingQPS = 200

// wideConcurrency is the concurrency of the second burst, which shows what
// the batching does when a worker may run a full call's worth of polls at once.
const wideConcurrency = essclient.MaxActivityIDsPerCall

// describe is the action P1 counts.
const describe = essclient.ActionDescribeScalingActivities

// estimatesKey is the Redis hash where the handler keeps each group's learned
// activity length (in ms); the report shows it, as it explains the lags.
const estimatesKey = detach.DefaultKeyPrefix + "activity-estimates"

// runPolling measures P1 and P2 with an in-process worker: pollGroups groups of
// pollJobsPerGroup async jobs, every activity of the same length, each
// group's jobs spaced by more than a job takes, so that none waits for its
// group (jobs that wait together share calls, which would hide the polling
// plan); the same jobs enqueued at once, sharing calls, are reported beside
// them. Then bursts
// of burstJobs async jobs on as many groups, all waiting at once, measure how
// many jobs one DescribeScalingActivities call serves, at the default
// concurrency and at wideConcurrency.
//
// An activity's end is the emulator's EndTime; a job's completion is the time
// of the worker's "job done" log record (asynq's CompletedAt has whole seconds
// only; the two are checked against each other).
func runPolling(ctx context.Context, env *benchEnv) result {
	s := env.sizes
	emu := startEmulator(esstest.Config{ActivityDuration: s.pollActivity})
	defer emu.Close()

	steady, err := pollSteady(ctx, env, emu, "poll", s.pollActivity+spacingSlack)
	if err != nil {
		return result{err: fmt.Errorf("steady phase: %w", err)}
	}
	together, err := pollSteady(ctx, env, emu, "poll-at-once", 0)
	if err != nil {
		return result{err: fmt.Errorf("steady phase, jobs enqueued at once: %w", err)}
	}
	burst, err := pollBurst(ctx, env, emu, worker.DefaultConcurrency)
	if err != nil {
		return result{err: fmt.Errorf("burst phase: %w", err)}
	}
	wide, err := pollBurst(ctx, env, emu, wideConcurrency)
	if err != nil {
		return result{err: fmt.Errorf("burst phase, concurrency %d: %w", wideConcurrency, err)}
	}

	interval := s.pollInterval.Seconds()
	res := result{rows: []row{
		atMost("P1", "DescribeScalingActivities calls per async job", steady.callsPerJob, 1.5, plain),
		atMost("P1", "slowest completion after its activity's end", steady.maxLag.Seconds(), interval, seconds),
		atLeast("P1", fmt.Sprintf("largest call, %d jobs waiting at once", s.burstJobs), float64(burst.maxIDs), essclient.MaxActivityIDsPerCall, 1, plain, "IDs a call takes"),
		atMost("P2", "median activity end → job completion", steady.p50.Seconds(), 1, seconds),
		atMost("P2", "p99 activity end → job completion", steady.p99.Seconds(), interval, seconds),
		reference("P2", fmt.Sprintf("median end → completion, %d jobs a group at once", s.pollJobsPerGroup), together.p50.Seconds(), steady.p50.Seconds(), seconds, "one job a group at a time"),
		reference("P2", fmt.Sprintf("p99 end → completion, %d jobs a group at once", s.pollJobsPerGroup), together.p99.Seconds(), steady.p99.Seconds(), seconds, "one job a group at a time"),
	}}
	res.notes = append(res.notes,
		fmt.Sprintf("%d async jobs on %d groups (%d each, a group's jobs %v apart, so none waits for its group), every activity %v; in-process worker: concurrency %d, poll interval %v, ESS %d calls/s (never the bottleneck)",
			steady.jobs, s.pollGroups, s.pollJobsPerGroup, s.pollActivity+spacingSlack, s.pollActivity, worker.DefaultConcurrency, s.pollInterval, pollingQPS),
		fmt.Sprintf("the same jobs enqueued at once (jobs waiting for their group share calls): %d DetachLoadBalancers calls, %d DescribeScalingActivities calls (%.2f per job); end → completion median %v, p99 %v, max %v",
			together.detaches, together.describes, together.callsPerJob, ms(together.p50), ms(together.p99), ms(together.maxLag)),
		fmt.Sprintf("%d DescribeScalingActivities calls, %.2f IDs per call, so %.2f looks per job before batching; end → completion min %v, mean %v, max %v; mean of each group's first job %v, of its last %v",
			steady.describes, steady.meanIDs, steady.looksPerJob, ms(steady.minLag), ms(steady.meanLag), ms(steady.maxLag), ms(steady.firstLag), ms(steady.lastLag)),
		fmt.Sprintf("the lag is all before the poll: the poll that saw the activity end came %v (median) after the end, the completion %v (max) after that poll",
			ms(steady.p50Look), ms(steady.maxAfterLook)),
		fmt.Sprintf("activity lengths the handler learned (Redis %s), for activities of %v: min %v, mean %v, max %v",
			estimatesKey, s.pollActivity, ms(steady.minEstimate), ms(steady.meanEstimate), ms(steady.maxEstimate)),
		fmt.Sprintf("completion times are the worker's \"job done\" log records (ns); asynq's CompletedAt (whole seconds) agrees with them for %d of %d jobs",
			steady.completedAtAgree, steady.jobs),
		fmt.Sprintf("burst of %d jobs, concurrency %d: %d calls, IDs per call mean %.2f, max %d; the same at concurrency %d: %d calls, mean %.2f, max %d (only polls running at the same moment in one worker share a call)",
			s.burstJobs, worker.DefaultConcurrency, burst.calls, burst.meanIDs, burst.maxIDs, wideConcurrency, wide.calls, wide.meanIDs, wide.maxIDs),
	)
	for _, ws := range []string{steady.warnings, together.warnings, burst.warnings, wide.warnings} {
		if ws != "" {
			res.notes = append(res.notes, "worker warnings: "+ws)
		}
	}
	return res
}

func ms(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

// spacingSlack is how much longer than its activity a group's turn lasts in
// the spaced steady phase: the look that sees the end, and margin.
const spacingSlack = 3 * time.Second

type steadyFigures struct {
	jobs, describes, detaches              int
	callsPerJob, meanIDs, looksPerJob      float64
	p50, p99                               time.Duration
	minLag, meanLag, maxLag                time.Duration
	firstLag, lastLag                      time.Duration // mean over groups of their first and last job
	p50Look, maxAfterLook                  time.Duration
	minEstimate, meanEstimate, maxEstimate time.Duration
	completedAtAgree                       int
	warnings                               string
}

// lagOf is one job's figures.
type lagOf struct {
	group     string
	doneAt    time.Time
	lag, look time.Duration // end → completion, end → the poll that saw it
}

// pollSteady runs the steady phase on new groups: each group's jobs gap
// apart, or all at once when gap is zero.
func pollSteady(ctx context.Context, env *benchEnv, emu *emulator, name string, gap time.Duration) (steadyFigures, error) {
	s := env.sizes
	var f steadyFigures
	queue := env.queue(name)
	defer env.redis.dropQueue(queue)
	groups, err := addGroups(emu.Emulator, env.groupPrefix(name), s.pollGroups, s.pollJobsPerGroup, 0)
	if err != nil {
		return f, err
	}
	w, err := startWorker(ctx, worker.Config{RedisURL: env.redis.url, Queues: queue, ESSQPS: pollingQPS, PollInterval: s.pollInterval}, emu)
	if err != nil {
		return f, err
	}
	defer func() { _ = w.stop() }()
	before, idsBefore := emu.Stats(), emu.describeCallCount()
	jobs := oneJobPerLB(groups, true)
	ids, err := enqueueSpaced(ctx, env.redis, queue, jobs, gap, len(groups))
	if err != nil {
		return f, err
	}
	// A group runs its jobs one call after another; each takes about an
	// activity, a poll interval and a busy snooze.
	perJob := max(gap, s.pollActivity+s.pollInterval+2*detach.DefaultBusyDelay)
	if _, err := w.log.waitDone(ctx, len(ids), time.Duration(s.pollJobsPerGroup+2)*perJob*2); err != nil {
		return f, err
	}
	if err := w.stop(); err != nil {
		return f, fmt.Errorf("worker: %w", err)
	}
	f.warnings = w.log.warningSummary()
	after := emu.Stats()
	f.jobs = len(ids)
	f.describes = calls(after, describe, "") - calls(before, describe, "")
	f.detaches = calls(after, essclient.ActionDetachLoadBalancers, "") - calls(before, essclient.ActionDetachLoadBalancers, "")
	f.callsPerJob = float64(f.describes) / float64(f.jobs)
	counts := emu.describeIDCounts(idsBefore)
	f.meanIDs = mean(counts)
	f.looksPerJob = f.meanIDs * float64(len(counts)) / float64(f.jobs)

	done := w.log.doneJobs()
	var all []lagOf
	for i, id := range ids {
		d, ok := done[id]
		if !ok || d.outcome != tasks.OutcomeDetached || d.activityID == "" {
			return f, fmt.Errorf("job %s: outcome %q, activity %q; want detached after an activity", id, d.outcome, d.activityID)
		}
		act, ok := emu.Activity(d.activityID)
		if !ok || act.EndTime.IsZero() {
			return f, fmt.Errorf("job %s: activity %s not ended in the emulator", id, d.activityID)
		}
		look, _ := emu.lastLook(d.activityID)
		all = append(all, lagOf{group: jobs[i].ScalingGroupId, doneAt: d.at, lag: d.at.Sub(act.EndTime), look: look.Sub(act.EndTime)})
		f.maxAfterLook = max(f.maxAfterLook, d.at.Sub(look))
	}
	lags, looks := make([]time.Duration, len(all)), make([]time.Duration, len(all))
	var sum time.Duration
	for i, l := range all {
		lags[i], looks[i] = l.lag, l.look
		sum += l.lag
	}
	f.p50, f.p99, f.p50Look = percentile(lags, 50), percentile(lags, 99), percentile(looks, 50)
	f.minLag, f.maxLag, f.meanLag = slices.Min(lags), slices.Max(lags), sum/time.Duration(len(lags))
	f.firstLag, f.lastLag = firstAndLast(all)
	if f.minEstimate, f.meanEstimate, f.maxEstimate, err = learnedEstimates(ctx, env.redis, groups); err != nil {
		return f, err
	}
	f.completedAtAgree, err = completedAtAgreement(env.redis, queue, done)
	return f, err
}

// firstAndLast is the mean lag of each group's first completed job and of its last.
func firstAndLast(all []lagOf) (first, last time.Duration) {
	byGroup := map[string][]lagOf{}
	for _, l := range all {
		byGroup[l.group] = append(byGroup[l.group], l)
	}
	for _, ls := range byGroup {
		slices.SortFunc(ls, func(a, b lagOf) int { return a.doneAt.Compare(b.doneAt) })
		first += ls[0].lag
		last += ls[len(ls)-1].lag
	}
	n := time.Duration(len(byGroup))
	return first / n, last / n
}

// learnedEstimates reads the activity lengths the handler learned for groups.
func learnedEstimates(ctx context.Context, r *redisTarget, groups []esstest.ScalingGroup) (lo, avg, hi time.Duration, err error) {
	var sum time.Duration
	for i, g := range groups {
		v, err := r.rdb.HGet(ctx, estimatesKey, g.ScalingGroupId).Result()
		if err != nil {
			return 0, 0, 0, fmt.Errorf("read learned estimate of %s: %w", g.ScalingGroupId, err)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("learned estimate of %s %q: %w", g.ScalingGroupId, v, err)
		}
		d := time.Duration(n) * time.Millisecond
		if i == 0 || d < lo {
			lo = d
		}
		hi = max(hi, d)
		sum += d
	}
	return lo, sum / time.Duration(len(groups)), hi, nil
}

// completedAtAgreement counts the completed tasks of queue whose CompletedAt
// (whole seconds) is the second of their "job done" record or the next.
func completedAtAgreement(r *redisTarget, queue string, done map[string]doneJob) (int, error) {
	insp := asynq.NewInspector(r.opt)
	defer insp.Close()
	agree := 0
	const pageSize = 500
	for page := 1; page <= len(done)/pageSize+1; page++ {
		infos, err := insp.ListCompletedTasks(queue, asynq.PageSize(pageSize), asynq.Page(page))
		if err != nil {
			return 0, fmt.Errorf("list completed tasks: %w", err)
		}
		for _, info := range infos {
			d, ok := done[info.ID]
			if !ok {
				continue
			}
			if sec := info.CompletedAt.Unix(); sec == d.at.Unix() || sec == d.at.Unix()+1 {
				agree++
			}
		}
	}
	return agree, nil
}

type burstFigures struct {
	calls, maxIDs int
	meanIDs       float64
	warnings      string
}

// pollBurst enqueues burstJobs async jobs on as many new groups at once, for
// a worker of the given concurrency, and counts the IDs of each
// DescribeScalingActivities call.
func pollBurst(ctx context.Context, env *benchEnv, emu *emulator, concurrency int) (burstFigures, error) {
	s := env.sizes
	var f burstFigures
	name := "burst" + strconv.Itoa(concurrency)
	queue := env.queue(name)
	defer env.redis.dropQueue(queue)
	groups, err := addGroups(emu.Emulator, env.groupPrefix(name), s.burstJobs, 1, 0)
	if err != nil {
		return f, err
	}
	idsBefore := emu.describeCallCount()
	if _, err := enqueue(ctx, env.redis, queue, oneJobPerLB(groups, true)); err != nil {
		return f, err
	}
	cfg := worker.Config{RedisURL: env.redis.url, Queues: queue, ESSQPS: pollingQPS, PollInterval: s.pollInterval, Concurrency: concurrency}
	w, err := startWorker(ctx, cfg, emu)
	if err != nil {
		return f, err
	}
	defer func() { _ = w.stop() }()
	if _, err := w.log.waitDone(ctx, s.burstJobs, 4*(s.pollActivity+s.pollInterval)+time.Minute); err != nil {
		return f, err
	}
	if err := w.stop(); err != nil {
		return f, fmt.Errorf("worker: %w", err)
	}
	counts := emu.describeIDCounts(idsBefore)
	if len(counts) == 0 {
		return f, fmt.Errorf("no DescribeScalingActivities call")
	}
	f.calls, f.meanIDs, f.maxIDs = len(counts), mean(counts), slices.Max(counts)
	f.warnings = w.log.warningSummary()
	return f, nil
}
