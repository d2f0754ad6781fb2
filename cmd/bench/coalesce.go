package main

import (
	"context"
	"fmt"
	"time"

	"essworker/essclient"
	"essworker/essclient/esstest"
	"essworker/internal/esslimits"
	"essworker/internal/worker"
	"essworker/tasks"
)

// sharedActivity is the length of every activity of the coalescing scenario.
const sharedActivity = 2 * time.Second

// sharedRound is the time one shared call may take in the coalescing target:
// its activity, the look that sees its end, and the next call's answer.
const sharedRound = 3 * time.Second

// runCoalescing measures P7: sharedJobs one-load-balancer async jobs on one
// scaling group, enqueued at once, activities of sharedActivity, one
// in-process worker; with calls shared (the default) against one call per
// job (NoCoalesce), on the same workload in the same run. The limits: the
// first job's call alone, then full calls of esslimits.LoadBalancersPerCall,
// and one call to spare; sharedRound per call.
func runCoalescing(ctx context.Context, env *benchEnv) result {
	n := env.sizes.sharedJobs
	emu := startEmulator(esstest.Config{ActivityDuration: sharedActivity})
	defer emu.Close()
	shared, err := measureShared(ctx, env, emu, "shared", n, false)
	if err != nil {
		return result{err: fmt.Errorf("shared calls: %w", err)}
	}
	alone, err := measureShared(ctx, env, emu, "alone", n, true)
	if err != nil {
		return result{err: fmt.Errorf("one call per job: %w", err)}
	}
	maxCalls := 2 + (n-1+esslimits.LoadBalancersPerCall-1)/esslimits.LoadBalancersPerCall
	res := result{rows: []row{
		atMost("P7", fmt.Sprintf("DetachLoadBalancers calls, %d one-LB jobs on one group", n), float64(shared.calls), float64(maxCalls), plain),
		atMost("P7", "scaling activities for the same jobs", float64(shared.activities), float64(maxCalls), plain),
		atMost("P7", "enqueue → last of the jobs completed", shared.elapsed.Seconds(), float64(maxCalls)*sharedRound.Seconds(), seconds),
		reference("P7", "calls, shared against one call per job", float64(shared.calls), float64(alone.calls), plain, "one call per job"),
		reference("P7", "time, shared against one call per job", shared.elapsed.Seconds(), alone.elapsed.Seconds(), seconds, "one call per job"),
	}}
	res.notes = append(res.notes,
		fmt.Sprintf("%d async jobs of one load balancer each on one group (and 2 load balancers no job names), enqueued at once, activities of %v; in-process worker: concurrency %d, poll interval %v, ESS %d calls/s",
			n, sharedActivity, worker.DefaultConcurrency, worker.DefaultPollInterval, pollingQPS),
		fmt.Sprintf("shared calls: DetachLoadBalancers answers %v, %d activities, last completion after %v; one call per job (--no-coalesce): answers %v, %d activities, last completion after %v",
			shared.answers, shared.activities, ms(shared.elapsed), alone.answers, alone.activities, ms(alone.elapsed)),
	)
	for _, ws := range []string{shared.warnings, alone.warnings} {
		if ws != "" {
			res.notes = append(res.notes, "worker warnings: "+ws)
		}
	}
	return res
}

type sharedFigures struct {
	calls, activities int
	answers           map[string]int
	elapsed           time.Duration
	warnings          string
}

// measureShared runs n one-load-balancer async jobs on a new group of emu
// through a new in-process worker and checks that each detached its own.
func measureShared(ctx context.Context, env *benchEnv, emu *emulator, name string, n int, noCoalesce bool) (sharedFigures, error) {
	var f sharedFigures
	queue := env.queue(name)
	defer env.redis.dropQueue(queue)
	groups, err := addGroups(emu.Emulator, env.groupPrefix(name), 1, n+2, 0)
	if err != nil {
		return f, err
	}
	g := groups[0]
	w, err := startWorker(ctx, worker.Config{RedisURL: env.redis.url, Queues: queue, ESSQPS: pollingQPS, NoCoalesce: noCoalesce}, emu)
	if err != nil {
		return f, err
	}
	defer func() { _ = w.stop() }()
	before := emu.Stats()
	g.LoadBalancerIds = g.LoadBalancerIds[:n]
	start := time.Now()
	ids, err := enqueue(ctx, env.redis, queue, oneJobPerLB([]esstest.ScalingGroup{g}, true))
	if err != nil {
		return f, err
	}
	if _, err := w.log.waitDone(ctx, len(ids), time.Duration(n+2)*3*sharedRound); err != nil {
		return f, err
	}
	done := w.log.doneJobs()
	for _, id := range ids {
		d := done[id]
		if d.outcome != tasks.OutcomeDetached {
			return f, fmt.Errorf("job %s: outcome %q, want detached", id, d.outcome)
		}
		f.elapsed = max(f.elapsed, d.at.Sub(start))
	}
	if err := w.stop(); err != nil {
		return f, fmt.Errorf("worker: %w", err)
	}
	f.warnings = w.log.warningSummary()
	after := emu.Stats()
	f.calls = calls(after, essclient.ActionDetachLoadBalancers, "") - calls(before, essclient.ActionDetachLoadBalancers, "")
	f.activities = after.ActivitiesCreated - before.ActivitiesCreated
	f.answers = map[string]int{}
	for code, c := range after.Calls[essclient.ActionDetachLoadBalancers] {
		if d := c - before.Calls[essclient.ActionDetachLoadBalancers][code]; d > 0 {
			f.answers[code] = d
		}
	}
	if left, _ := emu.ScalingGroup(g.ScalingGroupId); len(left.LoadBalancerIds) != 2 {
		return f, fmt.Errorf("group %s ends with %v, want the 2 load balancers no job named", g.ScalingGroupId, left.LoadBalancerIds)
	}
	return f, nil
}
