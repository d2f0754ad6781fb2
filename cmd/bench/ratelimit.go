package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"essworker/essclient"
	"essworker/essclient/esstest"
	"essworker/internal/sharedtest"
	"essworker/internal/worker"
)

// Settings of P3: three workers share a limit of 20 calls/s against an ESS
// that throttles beyond 20 calls/s.
const (
	rateWorkers = 3
	rateQPS     = 20
	// rateSample is how often the emulator's counters are read.
	rateSample = 100 * time.Millisecond
)

const actionDetach = essclient.ActionDetachLoadBalancers

// rateFigures are what one run of P3 measured.
type rateFigures struct {
	rate      float64       // detaches per second between 10% and 90% of the work
	window    time.Duration // the time between those marks
	commands  int64         // Redis commands while the workers ran
	warnLines int           // worker log lines at warn or above
}

// runRateLimit measures P3: rateJobs sync jobs, one group each, through three
// worker processes sharing --ess-qps 20, against the in-process emulator with
// ThrottleQPS 20 on every action. The sustained rate is measured between the
// 10% and the 90% marks of the work, where every worker has a backlog.
func runRateLimit(ctx context.Context, env *benchEnv) result {
	n := env.sizes.rateJobs
	emu := startEmulator(esstest.Config{})
	defer emu.Close()
	queue := env.queue("rate")
	defer env.redis.dropQueue(queue)
	if err := prepareRateLimit(ctx, env, emu, queue, n); err != nil {
		return result{err: err}
	}
	f, err := measureRateLimit(ctx, env, emu, queue, n)
	if err != nil {
		return result{err: err}
	}
	return rateLimitResult(n, f, emu.Stats())
}

// prepareRateLimit makes the emulator throttle beyond rateQPS, queues n sync
// jobs and builds the worker binary, so the clock starts with the workers.
func prepareRateLimit(ctx context.Context, env *benchEnv, emu *emulator, queue string, n int) error {
	if err := emu.SetFaults(esstest.FaultPlan{esstest.AllActions: {ThrottleQPS: rateQPS}}); err != nil {
		return err
	}
	jobs, err := syncJobs(emu.Emulator, env.groupPrefix("rate"), n)
	if err != nil {
		return err
	}
	if _, err := enqueue(ctx, env.redis, queue, jobs); err != nil {
		return err
	}
	// Build before the clock starts, so the workers start close together.
	_, err = env.workerBinary(ctx)
	return err
}

// measureRateLimit starts rateWorkers worker processes on queue, waits for
// the n detaches while sampling the emulator's count of them, stops the
// workers and computes the figures.
func measureRateLimit(ctx context.Context, env *benchEnv, emu *emulator, queue string, n int) (rateFigures, error) {
	commands, err := countCommands(ctx, env.redis)
	if err != nil {
		return rateFigures{}, err
	}
	sampler := startDetachSampler(emu)
	defer sampler.stop()
	var workers fleet
	defer func() { _ = workers.stop() }()
	for i := range rateWorkers {
		p, err := env.startWorkerProcess(ctx, "rate-worker-"+strconv.Itoa(i), emu.URL, "--queues", queue, "--ess-qps", strconv.Itoa(rateQPS))
		if err != nil {
			return rateFigures{}, err
		}
		workers.add(p)
	}
	expected := time.Duration(n/rateQPS) * time.Second
	err = sharedtest.Wait(ctx, fmt.Sprintf("%d detaches done", n), 3*expected+time.Minute, func() (bool, string) {
		done := calls(emu.Stats(), actionDetach, "OK")
		return done >= n, fmt.Sprint(done, " done")
	})
	samples := sampler.stop()
	stopErr := workers.stop()
	if err != nil {
		return rateFigures{}, err
	}
	if stopErr != nil {
		return rateFigures{}, stopErr
	}
	f := rateFigures{warnLines: workers.warnLines}
	if f.commands, err = commands(); err != nil {
		return rateFigures{}, err
	}
	f.rate, f.window, err = sustainedRate(samples, n)
	return f, err
}

// rateLimitResult is P3's rows and notes for n jobs, with the emulator's
// stats at the end of the run.
func rateLimitResult(n int, f rateFigures, st esstest.Stats) result {
	res := result{rows: []row{
		atLeast("P3", fmt.Sprintf("ESS calls/s sustained by %d workers sharing --ess-qps %d", rateWorkers, rateQPS), f.rate, rateQPS, 0.95, perSecond, "throttle and limit"),
		throttlingRow(st),
	}}
	res.notes = append(res.notes,
		fmt.Sprintf("%d sync jobs, one group each, %d worker processes (concurrency %d each) on one Redis, emulator ThrottleQPS %d on every action; rate over the %v between 10%% and 90%% of the detaches",
			n, rateWorkers, worker.DefaultConcurrency, rateQPS, f.window.Round(10*time.Millisecond)),
		fmt.Sprintf("emulator calls by action and code: %v; worker log lines at warn or above: %d", st.Calls, f.warnLines),
		fmt.Sprintf("Redis commands per job while the workers ran (asynq's own included; waiters for the rate limit sleep until their reserved slot instead of asking again): %.1f",
			float64(f.commands)/float64(n)),
	)
	return res
}

// throttlingRow counts the Throttling.User answers of every action: the
// shared limit keeps the fleet under ESS's, so the goal is none.
func throttlingRow(st esstest.Stats) row {
	throttled := 0
	for action := range st.Calls {
		throttled += calls(st, action, esstest.CodeThrottlingUser)
	}
	r := row{goal: "P3", figure: "Throttling answers from ESS", measured: strconv.Itoa(throttled), baseline: "0 (limit)", ratio: "—", target: "= 0", verdict: verdictPass}
	if throttled != 0 {
		r.verdict = verdictFail
	}
	return r
}
