package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials/provider"
	"github.com/hibiken/asynq"

	"essworker/essclient"
	"essworker/essclient/esstest"
	"essworker/internal/worker"
	"essworker/tasks"
)

// throughputQPS is the ESS rate of the throughput scenario: far above what
// the machine reaches, so the limiter costs its Redis round trip and no wait.
const throughputQPS = 1e6

// throughputTarget is P4's goal: the whole pipeline at least this many times
// the jobs per second of an asynq handler that makes only the job's ESS call,
// to the same emulator, in the same run.
const throughputTarget = 0.9

// throughputTimeout bounds one measurement.
const throughputTimeout = 5 * time.Minute

// runThroughput measures P4: sync jobs per second through the whole pipeline
// (worker.New/Run, Redis leases and rate limit, the SDK, the emulator with no
// latency, the result write) against an asynq handler that makes only the
// job's ESS call (the SDK against the same emulator, no lease, record,
// limiter or result) on the same Redis, the same tasks and the same
// concurrency, alternating, in this run: what essworker adds to the call. A
// bare asynq no-op handler, for reference, shows what the ESS call itself
// costs.
func runThroughput(ctx context.Context, env *benchEnv) result {
	s := env.sizes
	emu := startEmulator(esstest.Config{})
	defer emu.Close()
	var bare, pipe, call, leased, sdk, bareCmds, pipeCmds []float64
	var bareCPU, pipeCPU, callCPU, leasedCPU cpuSamples
	for rep := range s.throughputReps {
		b, err := measureBare(ctx, env, fmt.Sprintf("bare%d", rep), s.throughputJobs, nil)
		if err != nil {
			return result{err: fmt.Errorf("bare asynq: %w", err)}
		}
		p, err := measurePipeline(ctx, env, emu, fmt.Sprintf("pipe%d", rep), s.throughputJobs, nil)
		if err != nil {
			return result{err: fmt.Errorf("pipeline: %w", err)}
		}
		c, err := measureESSCall(ctx, env, emu, fmt.Sprintf("call%d", rep), s.throughputJobs, nil)
		if err != nil {
			return result{err: fmt.Errorf("ESS call only: %w", err)}
		}
		l, err := measureLeasedCall(ctx, env, emu, fmt.Sprintf("lease%d", rep), s.throughputJobs, nil)
		if err != nil {
			return result{err: fmt.Errorf("ESS call with a plain lease: %w", err)}
		}
		k, err := measureSDKCall(ctx, env, emu, fmt.Sprintf("sdk%d", rep), s.throughputJobs, nil)
		if err != nil {
			return result{err: fmt.Errorf("SDK call only: %w", err)}
		}
		bare, pipe, call, sdk = append(bare, b.perSecond()), append(pipe, p.perSecond()), append(call, c.perSecond()), append(sdk, k.perSecond())
		leased = append(leased, l.perSecond())
		bareCmds, pipeCmds = append(bareCmds, b.commandsPerJob()), append(pipeCmds, p.commandsPerJob())
		bareCPU.add(b)
		pipeCPU.add(p)
		callCPU.add(c)
		leasedCPU.add(l)
	}
	b, p, c, k, l := median(bare), median(pipe), median(call), median(sdk), median(leased)
	res := result{rows: []row{
		reference("P4", "sync jobs/s through the whole pipeline", p, b, perSecond, "bare asynq no-op"),
		reference("P4", "sync jobs/s, handler making only the ESS call", c, b, perSecond, "bare asynq no-op"),
		reference("P4", "sync jobs/s, that handler against a canned endpoint", k, b, perSecond, "bare asynq no-op"),
		reference("P4", "sync jobs/s, that call with a plain lease and result", l, c, perSecond, "ESS call only"),
		reference("P4", "whole pipeline against the plain lease and result", p, l, perSecond, "plain lease and result"),
		atLeast("P4", "whole pipeline against the ESS-call handler", p, c, throughputTarget, perSecond, "ESS call only"),
	}}
	res.notes = append(res.notes,
		fmt.Sprintf("%d sync jobs per measurement, one group each (no lease contention), concurrency %d, %d measurements of each side alternating, medians kept: pipeline %v, bare %v, ESS call only %v, with a plain lease and result %v, against a canned endpoint %v (jobs/s)",
			s.throughputJobs, worker.DefaultConcurrency, s.throughputReps, roundAll(pipe), roundAll(bare), roundAll(call), roundAll(leased), roundAll(sdk)),
		fmt.Sprintf("Redis commands per job (INFO total_commands_processed, commands inside Lua scripts included): pipeline %.1f, bare %.1f (profile in docs/PERFORMANCE.md)",
			median(pipeCmds), median(bareCmds)),
		fmt.Sprintf("CPU time per job, this process (the worker or handler, and the emulator) + the Redis server, medians (steadier than jobs/s when other work shares the machine): pipeline %s, ESS call only %s, with a plain lease and result %s, bare %s",
			pipeCPU, callCPU, leasedCPU, bareCPU),
		"the emulator runs in the bench process and shares the 2 cores with the worker, as a local ESS endpoint would; the bare side has no emulator work",
		"ESS call only: an asynq server of the same concurrency whose handler decodes the job and makes its DetachLoadBalancers call through essclient (the SDK, one client per job slot) to the same emulator, and nothing else: the most the whole pipeline could reach with this SDK and this emulator on this machine",
		"canned endpoint: the same handler against an HTTP server on loopback that answers every call with a fixed success at once and checks nothing: the SDK's side of the call alone",
		"plain lease and result: the ESS-call handler with what a careful hand-written one adds around the call: SET NX EX of the group's lease before it (one round trip), then one script that writes the result into asynq's task hash and deletes the lease if still held (one round trip); no job state, rate limit, shared round trips, shared calls, log line or metric. A job of the pipeline makes two round trips of its own too, shared with concurrent jobs'",
	)
	return res
}

// run is one measurement: n jobs between the server's start and the n-th completion.
type runFigures struct {
	n        int
	d        time.Duration
	commands int64    // Redis commands processed meanwhile
	cpu      cpuTimes // CPU time of this process and of Redis meanwhile
}

func (r runFigures) perSecond() float64 { return float64(r.n) / r.d.Seconds() }

func (r runFigures) commandsPerJob() float64 { return float64(r.commands) / float64(r.n) }

// cpuPerJob is the CPU time per job of this process and of Redis, in
// microseconds.
func (r runFigures) cpuPerJob() (process, redis float64) {
	return float64(r.cpu.process.Microseconds()) / float64(r.n), float64(r.cpu.redis.Microseconds()) / float64(r.n)
}

// cpuSamples are the CPU times per job of one side's measurements, in
// microseconds.
type cpuSamples struct{ process, redis []float64 }

func (s *cpuSamples) add(r runFigures) {
	p, rd := r.cpuPerJob()
	s.process, s.redis = append(s.process, p), append(s.redis, rd)
}

// String is "P + R µs", each a median.
func (s cpuSamples) String() string {
	return fmt.Sprintf("%.0f + %.0f µs", median(s.process), median(s.redis))
}

// countCommands returns a function giving the Redis commands processed since
// it was made.
func countCommands(ctx context.Context, r *redisTarget) (func() (int64, error), error) {
	before, err := r.commandsProcessed(ctx)
	if err != nil {
		return nil, err
	}
	return func() (int64, error) {
		after, err := r.commandsProcessed(ctx)
		return after - before, err
	}, nil
}

func roundAll(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(int(x*10+0.5)) / 10
	}
	return out
}

// syncJobs seeds n groups with one load balancer each and returns a sync job
// for each.
func syncJobs(emu *esstest.Emulator, prefix string, n int) ([]tasks.DetachPayload, error) {
	groups, err := addGroups(emu, prefix, n, 1, 0)
	if err != nil {
		return nil, err
	}
	return oneJobPerLB(groups, false), nil
}

// timer is told when a measurement's timed part starts (true) and ends
// (false), for a testing.B; nil outside benchmarks.
type timer func(on bool)

func (t timer) set(on bool) {
	if t != nil {
		t(on)
	}
}

// measureBare runs n detach tasks through an asynq server whose handler does
// nothing. The tasks are the same as the pipeline's; they only need no emulator.
func measureBare(ctx context.Context, env *benchEnv, name string, n int, tm timer) (runFigures, error) {
	jobs := make([]tasks.DetachPayload, n)
	for i := range jobs {
		jobs[i] = tasks.DetachPayload{ScalingGroupId: fmt.Sprintf("asg-bare-%05d", i), LoadBalancerIds: []string{"lb-1"}}
	}
	return measureAsynq(ctx, env, name, jobs, func(context.Context, *asynq.Task) error { return nil }, tm)
}

// measureESSCall runs n sync jobs through an asynq server whose handler makes
// the job's DetachLoadBalancers call to the emulator and nothing else.
func measureESSCall(ctx context.Context, env *benchEnv, emu *emulator, name string, n int, tm timer) (runFigures, error) {
	jobs, err := syncJobs(emu.Emulator, env.groupPrefix(name), n)
	if err != nil {
		return runFigures{}, err
	}
	return measureCalls(ctx, env, emu.URL, emu.Credentials(), name, jobs, callOnly, tm)
}

// measureSDKCall runs the same handler as measureESSCall against an endpoint
// that answers every call at once with a fixed success and checks nothing:
// what the SDK's side of the call costs without an emulator's work.
func measureSDKCall(ctx context.Context, env *benchEnv, emu *emulator, name string, n int, tm timer) (runFigures, error) {
	jobs, err := syncJobs(emu.Emulator, env.groupPrefix(name), n)
	if err != nil {
		return runFigures{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return runFigures{}, fmt.Errorf("canned endpoint: listen: %w", err)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"RequestId":"canned"}`))
	})}
	go func() { _ = srv.Serve(ln) }() // returns http.ErrServerClosed on close
	defer srv.Close()
	return measureCalls(ctx, env, "http://"+ln.Addr().String(), emu.Credentials(), name, jobs, callOnly, tm)
}

// measureCalls runs jobs through an asynq server whose handler is handle's
// for an essclient of endpoint, with creds, of one SDK client per job slot as
// the worker's.
func measureCalls(ctx context.Context, env *benchEnv, endpoint string, creds provider.Provider, name string, jobs []tasks.DetachPayload, handle func(*essclient.Client) asynq.HandlerFunc, tm timer) (runFigures, error) {
	ess, err := essclient.New(essclient.Config{
		Endpoint:      endpoint,
		DefaultRegion: esstest.DefaultRegionID,
		PoolSize:      worker.DefaultConcurrency,
		Credentials:   creds,
	})
	if err != nil {
		return runFigures{}, err
	}
	defer ess.Close()
	return measureAsynq(ctx, env, name, jobs, handle(ess), tm)
}

// callOnly is the handler that decodes each job and makes its
// DetachLoadBalancers call through ess, as the worker's handler does, and
// nothing else.
func callOnly(ess *essclient.Client) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		p, err := tasks.DecodeDetachPayload(t.Payload())
		if err != nil {
			return err
		}
		_, err = detachCall(ctx, ess, p)
		return err
	}
}

// detachCall makes p's DetachLoadBalancers call through ess.
func detachCall(ctx context.Context, ess *essclient.Client, p tasks.DetachPayload) (essclient.DetachResult, error) {
	return ess.DetachLoadBalancers(ctx, essclient.DetachRequest{
		RegionID:        p.RegionId,
		ScalingGroupID:  p.ScalingGroupId,
		LoadBalancerIDs: p.LoadBalancerIds,
		ForceDetach:     p.ForceDetach,
		Async:           p.Async,
		ClientToken:     p.ClientToken,
	})
}

// measureAsynq runs jobs through a plain asynq server of the worker's default
// concurrency whose handler is handle; a job counts once handle returns nil.
func measureAsynq(ctx context.Context, env *benchEnv, name string, jobs []tasks.DetachPayload, handle asynq.HandlerFunc, tm timer) (runFigures, error) {
	n := len(jobs)
	queue := env.queue(name)
	defer env.redis.dropQueue(queue)
	if _, err := enqueue(ctx, env.redis, queue, jobs); err != nil {
		return runFigures{}, err
	}
	var count atomic.Int64
	notify := make(chan struct{}, 1)
	srv := asynq.NewServer(env.redis.opt, asynq.Config{
		Concurrency: worker.DefaultConcurrency,
		Queues:      map[string]int{queue: 1},
		Logger:      quietAsynq{env.stderr},
		LogLevel:    asynq.ErrorLevel,
	})
	since, err := countCommands(ctx, env.redis)
	if err != nil {
		return runFigures{}, err
	}
	cpu, err := countCPU(ctx, env.redis)
	if err != nil {
		return runFigures{}, err
	}
	tm.set(true)
	began := time.Now()
	err = srv.Start(asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		if err := handle(ctx, t); err != nil {
			return err
		}
		if count.Add(1) >= int64(n) {
			select {
			case notify <- struct{}{}:
			default:
			}
		}
		return nil
	}))
	if err != nil {
		return runFigures{}, fmt.Errorf("start asynq server: %w", err)
	}
	defer srv.Shutdown()
	select {
	case <-notify:
	case <-ctx.Done():
		return runFigures{}, ctx.Err()
	case <-time.After(throughputTimeout):
		return runFigures{}, fmt.Errorf("%d of %d jobs done within %v", count.Load(), n, throughputTimeout)
	}
	d := time.Since(began)
	tm.set(false)
	used, err := cpu()
	if err != nil {
		return runFigures{}, err
	}
	cmds, err := since()
	return runFigures{n: n, d: d, commands: cmds, cpu: used}, err
}

// measurePipeline runs n sync jobs through an in-process worker.
func measurePipeline(ctx context.Context, env *benchEnv, emu *emulator, name string, n int, tm timer) (runFigures, error) {
	queue := env.queue(name)
	defer env.redis.dropQueue(queue)
	jobs, err := syncJobs(emu.Emulator, env.groupPrefix(name), n)
	if err != nil {
		return runFigures{}, err
	}
	if _, err := enqueue(ctx, env.redis, queue, jobs); err != nil {
		return runFigures{}, err
	}
	cfg := worker.Config{RedisURL: env.redis.url, Queues: queue, ESSQPS: throughputQPS}
	since, err := countCommands(ctx, env.redis)
	if err != nil {
		return runFigures{}, err
	}
	cpu, err := countCPU(ctx, env.redis)
	if err != nil {
		return runFigures{}, err
	}
	tm.set(true)
	began := time.Now()
	w, err := startWorker(ctx, cfg, emu)
	if err != nil {
		return runFigures{}, err
	}
	end, err := w.log.waitDone(ctx, n, throughputTimeout)
	tm.set(false)
	used, cpuErr := cpu()
	if stopErr := w.stop(); err == nil && stopErr != nil {
		err = fmt.Errorf("worker: %w", stopErr)
	}
	if err != nil {
		return runFigures{}, err
	}
	if cpuErr != nil {
		return runFigures{}, cpuErr
	}
	cmds, err := since()
	return runFigures{n: n, d: end.Sub(began), commands: cmds, cpu: used}, err
}

// quietAsynq drops asynq's own log lines but its errors, which go to w.
type quietAsynq struct{ w io.Writer }

func (quietAsynq) Debug(...any)        {}
func (quietAsynq) Info(...any)         {}
func (quietAsynq) Warn(...any)         {}
func (q quietAsynq) Error(args ...any) { fmt.Fprintln(q.w, "bench: asynq:", fmt.Sprint(args...)) }

// Fatal exits, as asynq's own logger does: asynq calls it when it cannot go on.
func (q quietAsynq) Fatal(args ...any) {
	q.Error(args...)
	os.Exit(exitFail)
}
