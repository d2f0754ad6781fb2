package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/uuid"

	"essworker/internal/redistest"
)

// sizes are the loads of a run.
type sizes struct {
	// P1/P2: pollGroups groups of pollJobsPerGroup async jobs each, all
	// activities lasting pollActivity, polled with pollInterval as the cap.
	pollGroups, pollJobsPerGroup int
	pollActivity, pollInterval   time.Duration
	// P1 batching: burstJobs async jobs on as many groups, enqueued at once.
	burstJobs int
	// P3: rateJobs sync jobs through three worker processes.
	rateJobs int
	// P4: throughputJobs sync jobs per measurement, throughputReps
	// measurements of each side (the median is kept).
	throughputJobs, throughputReps int
	// P5: memoryJobs async jobs waiting; RSS is sampled for memoryWindow once
	// they all wait.
	memoryJobs   int
	memoryWindow time.Duration
	// P6: apiSubmissions submissions per measurement, apiReps measurements of
	// each side (the median is kept).
	apiSubmissions, apiReps int
	// P7: sharedJobs one-load-balancer async jobs on one group, enqueued at once.
	sharedJobs int
}

var (
	fullSizes = sizes{
		pollGroups: 20, pollJobsPerGroup: 10, pollActivity: 3 * time.Second, pollInterval: 5 * time.Second,
		burstJobs:      100,
		rateJobs:       800,
		throughputJobs: 2000, throughputReps: 3,
		memoryJobs: 10000, memoryWindow: 10 * time.Second,
		apiSubmissions: 4000, apiReps: 3,
		sharedJobs: 20,
	}
	quickSizes = sizes{
		pollGroups: 4, pollJobsPerGroup: 2, pollActivity: time.Second, pollInterval: 2 * time.Second,
		burstJobs:      40,
		rateJobs:       100,
		throughputJobs: 300, throughputReps: 1,
		memoryJobs: 500, memoryWindow: 2 * time.Second,
		apiSubmissions: 300, apiReps: 1,
		sharedJobs: 6,
	}
)

// benchEnv is what every scenario shares.
type benchEnv struct {
	sizes        sizes
	redis        *redisTarget
	redisVersion string
	redisNote    string
	runID        string // makes group IDs and queues unique to this run
	tmp          string
	workerBin    string // built on first use unless --worker-bin
	stderr       io.Writer
}

// newBenchEnv starts (or opens) Redis; cleanup stops what it started.
func newBenchEnv(ctx context.Context, o options, stderr io.Writer) (*benchEnv, func(), error) {
	env := &benchEnv{sizes: fullSizes, runID: uuid.NewString()[:8], workerBin: o.workerBin, stderr: stderr}
	if o.quick {
		env.sizes = quickSizes
	}
	var stops []func()
	cleanup := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	tmp, err := os.MkdirTemp("", "essworker-bench-")
	if err != nil {
		return nil, cleanup, fmt.Errorf("temporary directory: %w", err)
	}
	env.tmp = tmp
	stops = append(stops, func() { _ = os.RemoveAll(tmp) })

	url := o.redisURL
	if url == "" {
		srv, err := redistest.StartProcess(redistest.Options{})
		if err != nil {
			cleanup()
			return nil, func() {}, fmt.Errorf("start a redis-server (or give --redis-url): %w", err)
		}
		stops = append(stops, srv.Close)
		url = srv.URL(0)
		env.redisNote = "Redis: a redis-server the bench started on " + srv.Addr + " (no persistence)"
	} else {
		env.redisNote = "Redis: --redis-url (shared; figures include whatever else runs on it)"
	}
	env.redis, err = openRedis(ctx, url)
	if err != nil {
		cleanup()
		return nil, func() {}, err
	}
	stops = append(stops, env.redis.close)
	env.redisVersion, err = env.redis.info(ctx, "server", "redis_version")
	if err != nil {
		env.redisVersion = "unknown"
	}
	return env, cleanup, nil
}

func (e *benchEnv) progress(format string, args ...any) {
	fmt.Fprintf(e.stderr, "bench: "+format+"\n", args...)
}

// queue is a queue name unique to this run and scenario.
func (e *benchEnv) queue(name string) string { return "bench-" + e.runID + "-" + name }

// groupPrefix is a scaling group ID prefix unique to this run and scenario:
// group leases and activity estimates are keyed by group in Redis.
func (e *benchEnv) groupPrefix(name string) string { return "asg-bench-" + e.runID + "-" + name }

// plainLeaseKey is the lease of groupID taken by the hand-written handler of
// measureLeasedCall, apart from the worker's.
func (e *benchEnv) plainLeaseKey(groupID string) string {
	return "bench-" + e.runID + ":lease:" + groupID
}
