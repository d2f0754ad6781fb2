// Command bench measures essworker against its performance goals, P1 to P7
// (docs/PERFORMANCE.md), and prints one table: each goal's figure beside its
// baseline or limit, the ratio, and PASS or FAIL, with the machine and the
// date.
//
//	go run ./cmd/bench [--only P1,P3] [--quick] [--redis-url URL] [--worker-bin PATH]
//
// The goals:
//
//   - P1: at most 1.5 DescribeScalingActivities calls per async job beyond its
//     detach, for activities of a stable length, each job's completion noticed
//     within one poll interval of its activity's end; when many jobs wait at
//     once, one call serves up to 20 of them.
//   - P2: median time from an activity's end to the job's completion at most
//     1 s; p99 at most the poll interval.
//   - P3: three workers sharing --ess-qps 20 against an ESS throttling at 20
//     calls/s sustain at least 95% of it with no Throttling answer.
//   - P4: sync jobs per second through the whole pipeline at least 0.9x those
//     of an asynq handler that makes only the job's ESS call (the SDK against
//     the same emulator) on the same Redis, in the same run. INFO rows beside
//     it compare the whole pipeline, that handler and the same handler
//     against a canned endpoint that answers at once with a bare asynq no-op
//     handler.
//   - P5: worker RSS at most 100 MB with 10,000 jobs waiting on activities;
//     Redis memory per waiting job reported.
//   - P6: submissions per second through the producer API (internal/apiserver:
//     bearer token, JSON over HTTP, the look-up of each token in every queue),
//     one job each from 16 concurrent clients, at least half those of
//     tasks.Enqueue called directly by 16 goroutines on the same Redis, in the
//     same run.
//   - P7: 20 one-load-balancer async jobs on one group, enqueued at once, 2 s
//     activities, one worker: at most 6 DetachLoadBalancers calls and 6
//     activities, all completed within 18 s (jobs waiting for one group share
//     calls); INFO rows compare with one call per job (NoCoalesce) on the same
//     workload in the same run.
//
// The bench starts its own redis-server on a free loopback port (or uses
// --redis-url) and the ESS emulator (essclient/esstest) in process. P1, P2, P4
// and P7 run the worker in process (internal/worker), P6 the producer API
// (internal/apiserver); P3 and P5 run real worker processes, built with go
// build into a temporary directory. Every figure is
// taken in this run, so ratios compare like with like on this machine.
//
// Completion times for P2 are the worker's "job done" log records, which have
// nanosecond precision: asynq keeps CompletedAt in whole seconds. The report
// says how many jobs' CompletedAt agree with them.
//
// --quick shrinks every load (fewer jobs, shorter activities, a 2 s poll
// interval): a smoke run whose figures are not the goals' figures of record.
//
// Exit status: 0 when every goal run passed, 1 when one failed or could not be
// measured, 2 on bad flags. docs/PERFORMANCE.md has the latest figures.
package main
