package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"essworker/essclient"
	"essworker/essclient/esstest"
	"essworker/internal/worker"
)

// Settings of P3, as the goal states them (docs/PERFORMANCE.md): three workers
// share a limit of 20 calls/s against an ESS that throttles beyond 20 calls/s.
const (
	rateWorkers = 3
	rateQPS     = 20
	// rateSample is how often the emulator's counters are read.
	rateSample = 100 * time.Millisecond
)

const actionDetach = essclient.ActionDetachLoadBalancers

// rateSampleAt is the emulator's count of successful detaches at a time.
type rateSampleAt struct {
	at time.Time
	ok int
}

// runRateLimit measures P3: rateJobs sync jobs, one group each, through three
// worker processes sharing --ess-qps 20, against the in-process emulator with
// ThrottleQPS 20 on every action. The sustained rate is measured between the
// 10% and the 90% marks of the work, where every worker has a backlog.
func runRateLimit(ctx context.Context, env *benchEnv) result {
	n := env.sizes.rateJobs
	emu, err := startEmulator(esstest.Config{})
	if err != nil {
		return result{err: err}
	}
	defer emu.close()
	if err := emu.SetFaults(esstest.FaultPlan{esstest.AllActions: {ThrottleQPS: rateQPS}}); err != nil {
		return result{err: err}
	}
	queue := env.queue("rate")
	defer env.redis.dropQueue(queue)
	jobs, err := syncJobs(emu.Emulator, env.groupPrefix("rate"), n)
	if err != nil {
		return result{err: err}
	}
	if _, err := enqueue(ctx, env.redis, queue, jobs); err != nil {
		return result{err: err}
	}
	// Build before the clock starts, so the workers start close together.
	if _, err := env.workerBinary(ctx); err != nil {
		return result{err: err}
	}

	var (
		mu      sync.Mutex
		samples []rateSampleAt
	)
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(rateSample)
		defer t.Stop()
		for {
			st := emu.Stats()
			mu.Lock()
			samples = append(samples, rateSampleAt{at: time.Now(), ok: calls(st, actionDetach, "OK")})
			mu.Unlock()
			select {
			case <-stopSampling:
				return
			case <-t.C:
			}
		}
	}()
	var (
		procs     []*workerProcess
		warnLines int
	)
	stopAll := func() error {
		var errs []error
		for _, p := range procs {
			errs = append(errs, p.stop())
			warnLines += p.warnLines()
		}
		procs = nil
		return errors.Join(errs...)
	}
	defer func() { _ = stopAll() }()
	commands, err := countCommands(ctx, env.redis)
	if err != nil {
		close(stopSampling)
		<-sampled
		return result{err: err}
	}
	for i := range rateWorkers {
		p, err := env.startWorkerProcess(ctx, "rate-worker-"+strconv.Itoa(i), emu.url, "--queues", queue, "--ess-qps", strconv.Itoa(rateQPS))
		if err != nil {
			close(stopSampling)
			<-sampled
			return result{err: err}
		}
		procs = append(procs, p)
	}
	expected := time.Duration(n/rateQPS) * time.Second
	err = waitFor(ctx, 3*expected+time.Minute, rateSample, func() (bool, error) {
		return calls(emu.Stats(), actionDetach, "OK") >= n, nil
	})
	close(stopSampling)
	<-sampled
	stopErr := stopAll()
	if err != nil {
		return result{err: fmt.Errorf("%d of %d detaches done: %w", calls(emu.Stats(), actionDetach, "OK"), n, err)}
	}
	if stopErr != nil {
		return result{err: stopErr}
	}
	cmds, err := commands()
	if err != nil {
		return result{err: err}
	}

	rate, window, err := sustainedRate(samples, n)
	if err != nil {
		return result{err: err}
	}
	st := emu.Stats()
	throttled := 0
	for action := range st.Calls {
		throttled += calls(st, action, esstest.CodeThrottlingUser)
	}
	throttleRow := row{goal: "P3", figure: "Throttling answers from ESS", measured: strconv.Itoa(throttled), baseline: "0 (limit)", ratio: "—", target: "= 0", verdict: verdictPass}
	if throttled != 0 {
		throttleRow.verdict = verdictFail
	}
	res := result{rows: []row{
		atLeast("P3", fmt.Sprintf("ESS calls/s sustained by %d workers sharing --ess-qps %d", rateWorkers, rateQPS), rate, rateQPS, 0.95, perSecond, "throttle and limit"),
		throttleRow,
	}}
	res.notes = append(res.notes,
		fmt.Sprintf("%d sync jobs, one group each, %d worker processes (concurrency %d each) on one Redis, emulator ThrottleQPS %d on every action; rate over the %v between 10%% and 90%% of the detaches",
			n, rateWorkers, worker.DefaultConcurrency, rateQPS, window.Round(10*time.Millisecond)),
		fmt.Sprintf("emulator calls by action and code: %v; worker log lines at warn or above: %d", st.Calls, warnLines),
		fmt.Sprintf("Redis commands per job while the workers ran (asynq's own included; waiters for the rate limit sleep until their reserved slot instead of asking again): %.1f",
			float64(cmds)/float64(n)),
	)
	return res
}

// sustainedRate is the detach rate between the first samples at or past 10%
// and 90% of n.
func sustainedRate(samples []rateSampleAt, n int) (float64, time.Duration, error) {
	var from, to *rateSampleAt
	for i := range samples {
		s := &samples[i]
		if from == nil && s.ok*10 >= n {
			from = s
		}
		if to == nil && s.ok*10 >= 9*n {
			to = s
		}
	}
	if from == nil || to == nil || !to.at.After(from.at) {
		return 0, 0, fmt.Errorf("too few samples (%d) to measure a rate", len(samples))
	}
	d := to.at.Sub(from.at)
	return float64(to.ok-from.ok) / d.Seconds(), d, nil
}
