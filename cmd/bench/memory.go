package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"essworker/essclient/esstest"
	"essworker/internal/worker"
)

// Settings of P5.
const (
	// memoryActivity outlasts the run: every job stays waiting.
	memoryActivity = time.Hour
	// memoryQPS lets the detaches go through quickly; the figure is about
	// waiting jobs, not the rate limit.
	memoryQPS = 2000
	// rssLimit is the goal's bound.
	rssLimit = 100 << 20
	// rssSample is how often VmRSS is read.
	rssSample = 100 * time.Millisecond
)

// runMemory measures P5: a worker process while memoryJobs async jobs wait on
// activities that do not end during the run. RSS is VmRSS from
// /proc/PID/status, sampled over memoryWindow once every job waits; Redis's
// cost is INFO memory used_memory after minus before, per job.
func runMemory(ctx context.Context, env *benchEnv) result {
	s := env.sizes
	n := s.memoryJobs
	emu, err := startEmulator(esstest.Config{ActivityDuration: memoryActivity})
	if err != nil {
		return result{err: err}
	}
	defer emu.close()
	queue := env.queue("memory")
	defer env.redis.dropQueue(queue)
	groups, err := addGroups(emu.Emulator, env.groupPrefix("memory"), n, 1, 0)
	if err != nil {
		return result{err: err}
	}
	if _, err := env.workerBinary(ctx); err != nil {
		return result{err: err}
	}
	memBefore, err := env.redis.usedMemory(ctx)
	if err != nil {
		return result{err: err}
	}
	if _, err := enqueue(ctx, env.redis, queue, oneJobPerLB(groups, true)); err != nil {
		return result{err: err}
	}
	p, err := env.startWorkerProcess(ctx, "memory-worker", emu.url, "--queues", queue, "--ess-qps", strconv.Itoa(memoryQPS))
	if err != nil {
		return result{err: err}
	}
	defer func() { _ = p.stop() }()
	pid := p.cmd.Process.Pid

	began := time.Now()
	err = waitFor(ctx, time.Duration(n/50)*time.Second+time.Minute, 200*time.Millisecond, func() (bool, error) {
		return emu.Stats().ActivitiesCreated >= n, nil
	})
	if err != nil {
		return result{err: fmt.Errorf("%d of %d activities started: %w", emu.Stats().ActivitiesCreated, n, err)}
	}
	allWaiting := time.Since(began)

	var peak int64
	windowEnd := time.Now().Add(s.memoryWindow)
	err = waitFor(ctx, s.memoryWindow+time.Minute, rssSample, func() (bool, error) {
		rss, err := statusField(pid, "VmRSS")
		if err != nil {
			return false, err
		}
		peak = max(peak, rss)
		return time.Now().After(windowEnd), nil
	})
	if err != nil {
		return result{err: fmt.Errorf("sample RSS: %w", err)}
	}
	hwm, err := statusField(pid, "VmHWM")
	if err != nil {
		return result{err: err}
	}
	memAfter, err := env.redis.usedMemory(ctx)
	if err != nil {
		return result{err: err}
	}
	polls := calls(emu.Stats(), describe, "")
	if err := p.stop(); err != nil {
		return result{err: err}
	}
	perJob := float64(memAfter-memBefore) / float64(n)
	res := result{rows: []row{
		atMost("P5", fmt.Sprintf("worker RSS, %d jobs waiting on activities", n), float64(peak), rssLimit, mebibytes),
		{goal: "P5", figure: "Redis memory per waiting job", measured: bytesUnit(perJob), baseline: "—", ratio: "—", target: "reported", verdict: verdictInfo},
	}}
	res.notes = append(res.notes,
		fmt.Sprintf("%d async jobs, one group each, activities of %v; one worker process (concurrency %d, poll interval %v, --ess-qps %d); all %d activities started after %v",
			n, memoryActivity, worker.DefaultConcurrency, worker.DefaultPollInterval, memoryQPS, n, allWaiting.Round(100*time.Millisecond)),
		fmt.Sprintf("RSS is the peak VmRSS sampled every %v over %v once all jobs waited; the process's lifetime peak VmHWM was %s; %d DescribeScalingActivities calls by the end",
			rssSample, s.memoryWindow, mebibytes(float64(hwm)), polls),
		fmt.Sprintf("Redis used_memory %s before the jobs, %s with all waiting: task hash, retry-set entry, activity record, group lease and in-flight entry per job",
			mebibytes(float64(memBefore)), mebibytes(float64(memAfter))),
	)
	return res
}
