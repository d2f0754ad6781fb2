package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"essworker/essclient/esstest"
	"essworker/internal/sharedtest"
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

// memoryFigures are what one run of P5 measured.
type memoryFigures struct {
	allWaiting          time.Duration // from the worker's start until every activity started
	peakRSS, hwm        int64         // bytes: peak VmRSS over the window, lifetime VmHWM
	memBefore, memAfter int64         // Redis used_memory before the jobs and with all waiting
	polls               int           // DescribeScalingActivities calls by the end
}

// runMemory measures P5: a worker process while memoryJobs async jobs wait on
// activities that do not end during the run. RSS is VmRSS from
// /proc/PID/status, sampled over memoryWindow once every job waits; Redis's
// cost is INFO memory used_memory after minus before, per job.
func runMemory(ctx context.Context, env *benchEnv) result {
	emu := startEmulator(esstest.Config{ActivityDuration: memoryActivity})
	defer emu.Close()
	queue := env.queue("memory")
	defer env.redis.dropQueue(queue)
	f, err := measureMemory(ctx, env, emu, queue)
	if err != nil {
		return result{err: err}
	}
	return memoryResult(env.sizes, f)
}

// measureMemory queues memoryJobs async jobs on queue, one group each, runs a
// worker process until all of them wait on their activity, then samples its
// RSS over memoryWindow and reads Redis's memory.
func measureMemory(ctx context.Context, env *benchEnv, emu *emulator, queue string) (memoryFigures, error) {
	var f memoryFigures
	n := env.sizes.memoryJobs
	groups, err := addGroups(emu.Emulator, env.groupPrefix("memory"), n, 1, 0)
	if err != nil {
		return f, err
	}
	if _, err := env.workerBinary(ctx); err != nil {
		return f, err
	}
	if f.memBefore, err = env.redis.usedMemory(ctx); err != nil {
		return f, err
	}
	if _, err := enqueue(ctx, env.redis, queue, oneJobPerLB(groups, true)); err != nil {
		return f, err
	}
	p, err := env.startWorkerProcess(ctx, "memory-worker", emu.URL, "--queues", queue, "--ess-qps", strconv.Itoa(memoryQPS))
	if err != nil {
		return f, err
	}
	defer func() { _ = p.stop() }()
	pid := p.cmd.Process.Pid
	if f.allWaiting, err = waitActivitiesStarted(ctx, emu, n); err != nil {
		return f, err
	}
	if f.peakRSS, err = peakRSS(ctx, pid, env.sizes.memoryWindow); err != nil {
		return f, fmt.Errorf("sample RSS: %w", err)
	}
	if f.hwm, err = statusField(pid, "VmHWM"); err != nil {
		return f, err
	}
	if f.memAfter, err = env.redis.usedMemory(ctx); err != nil {
		return f, err
	}
	f.polls = calls(emu.Stats(), describe, "")
	return f, p.stop()
}

// waitActivitiesStarted waits until the emulator has started n activities and
// returns how long that took.
func waitActivitiesStarted(ctx context.Context, emu *emulator, n int) (time.Duration, error) {
	began := time.Now()
	err := sharedtest.Wait(ctx, fmt.Sprintf("%d activities started", n), time.Duration(n/50)*time.Second+time.Minute, func() (bool, string) {
		started := emu.Stats().ActivitiesCreated
		return started >= n, fmt.Sprint(started, " started")
	})
	if err != nil {
		return 0, err
	}
	return time.Since(began), nil
}

// memoryResult is P5's rows and notes for a run of the given sizes.
func memoryResult(s sizes, f memoryFigures) result {
	n := s.memoryJobs
	perJob := float64(f.memAfter-f.memBefore) / float64(n)
	res := result{rows: []row{
		atMost("P5", fmt.Sprintf("worker RSS, %d jobs waiting on activities", n), float64(f.peakRSS), rssLimit, mebibytes),
		{goal: "P5", figure: "Redis memory per waiting job", measured: bytesUnit(perJob), baseline: "—", ratio: "—", target: "reported", verdict: verdictInfo},
	}}
	res.notes = append(res.notes,
		fmt.Sprintf("%d async jobs, one group each, activities of %v; one worker process (concurrency %d, poll interval %v, --ess-qps %d); all %d activities started after %v",
			n, memoryActivity, worker.DefaultConcurrency, worker.DefaultPollInterval, memoryQPS, n, f.allWaiting.Round(100*time.Millisecond)),
		fmt.Sprintf("RSS is the peak VmRSS sampled every %v over %v once all jobs waited; the process's lifetime peak VmHWM was %s; %d DescribeScalingActivities calls by the end",
			rssSample, s.memoryWindow, mebibytes(float64(f.hwm)), f.polls),
		fmt.Sprintf("Redis used_memory %s before the jobs, %s with all waiting: task hash, retry-set entry, activity record, group lease and in-flight entry per job",
			mebibytes(float64(f.memBefore)), mebibytes(float64(f.memAfter))),
	)
	return res
}

// peakRSS reads the VmRSS of process pid every rssSample for window and
// returns the largest.
func peakRSS(ctx context.Context, pid int, window time.Duration) (int64, error) {
	tick := time.NewTicker(rssSample)
	defer tick.Stop()
	end := time.Now().Add(window)
	var peak int64
	for {
		rss, err := statusField(pid, "VmRSS")
		if err != nil {
			return 0, err
		}
		peak = max(peak, rss)
		if time.Now().After(end) {
			return peak, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-tick.C:
		}
	}
}
