// Command enqueue queues detach jobs (task type ess:detach_load_balancers) for
// the essworker workers, one request from flags or many from a JSON Lines
// file, or drains (ess:drain_load_balancer) that take a load balancer out of
// every scaling group of a region, and optionally waits for them to end.
//
// Usage:
//
//	enqueue --group ID --lb ID[,ID...] [--lb ID] [--token T] [--region R]
//	        [--force] [--async] [--at TIME | --in D] [--queue Q] [--redis-url URL]
//	        [--redis-tls-ca-file FILE] [--wait [--wait-timeout D]]
//	enqueue --file F [--region R] [--at TIME | --in D] [--queue Q] [--redis-url URL]
//	        [--redis-tls-ca-file FILE] [--wait [--wait-timeout D]]
//	enqueue --lb ID[,ID...] --all-groups [--region R] [--force] [--async]
//	        [--token T] [--queue Q] [--redis-url URL]
//	        [--redis-tls-ca-file FILE] [--wait [--wait-timeout D]]
//
// Flags:
//
//   - --redis-url URL: Redis, redis://, rediss:// (TLS) or redis-sentinel://.
//     Default: the REDIS_URL environment variable, else redis://127.0.0.1:6379/0.
//   - --redis-tls-ca-file FILE: PEM file of the CAs trusted for a rediss://
//     Redis. Default: the REDIS_TLS_CA_FILE environment variable, else the
//     system's roots.
//   - --group ID: the scaling group (ScalingGroupId).
//   - --lb ID: the load balancers (LoadBalancerIds); repeat the flag or separate
//     IDs with commas. More than 5 are split into jobs of 5, chunk i with the
//     ClientToken tasks.ChunkToken(token, i).
//   - --force, --async: ForceDetach and Async. Default false.
//   - --token T: the ClientToken, printable ASCII, at most 64 characters.
//     Default: a new random UUID, printed in the output line.
//   - --region R: the RegionId. Default: none, the worker's region.
//   - --at TIME: run the jobs no earlier than TIME, an RFC 3339 time such as
//     2026-12-02T03:00:00Z. asynq keeps whole seconds, so TIME is rounded up to
//     the next whole second. Default: at once.
//   - --in D: run the jobs no earlier than D from now, a Go duration such as
//     90m; rounded up to a whole second like --at. Default: at once.
//     --at and --in together are an error; so is a time in the past or more
//     than 30 days ahead (exit status 2, nothing queued).
//   - --queue Q: the asynq queue. Default "default".
//   - --file F: read requests from F instead, one payload per line in the
//     job's own JSON (see package essworker/tasks), blank lines skipped; "-" reads
//     standard input. A line may name more than 5 load balancers (split as above)
//     and may leave ClientToken out (a random UUID is used, so running the
//     file again queues that request again: give tokens to make reruns safe).
//   - --all-groups: queue one drain per --lb instead of detach jobs: the
//     worker lists every scaling group of the region (--region, else the
//     worker's) and queues one detach job per group holding that load
//     balancer, with --force and --async, in the drain's queue. --token names
//     the drain (task ID "drain:" + token), so it takes one --lb only; the
//     job of group G gets the token tasks.DrainGroupToken(token, G), so
//     draining again with the same token queues duplicates, not second
//     detaches.
//   - --wait: after queueing, wait for every job to end.
//   - --wait-timeout D: with --wait, the longest wait for all jobs together,
//     counted from when the last job is queued, or from the --at/--in time
//     when that is later. Default 35m: the worker's
//     default bound on one scaling activity (30m) plus 5m for the call, its
//     retries and time in the queue. Without --wait it has no effect.
//   - -h, --help: print usage and exit 0.
//
// Either --group and --lb or --file, not both. With --file: --token is an error
// (a token belongs to one request: set ClientToken on each line); so are --force
// and --async (a line's "ForceDetach":false cannot be told from a line without
// the field: set them on each line); --region is the region of the lines that
// name none. --all-groups with --group or --file, or --token with more than
// one --lb, is an error. No other environment variable is read; enqueue needs no cloud
// credentials.
//
// # Output
//
// For each job, one JSON line on standard output, printed once the jobs are
// queued:
//
//	{"task_id":"detach:T","client_token":"T","queue":"default","state":"enqueued"}
//
// state is "scheduled" instead of "enqueued" for a job queued with --at or
// --in: it waits in asynq's state "scheduled" (visible in asynqmon and through
// the API) until its time. state is "duplicate" when a job with that ClientToken is already in the
// queue with the same request (waiting, running, or finished and kept for its
// retention; the order of load balancers does not matter; a scheduled job
// keeps its time): nothing was added,
// and running the same command again is always safe with the same token. A
// ClientToken is unique across queues: a token already used for another
// request, or by a job of another queue, is refused (exit status 2).
//
// With --wait, one more line per job when it ends, in the order jobs are seen
// to end (up to 32 are watched at once, taken in queue order):
//
//	{"task_id":"detach:T","state":"completed","result":{"Outcome":"detached",...}}
//	{"task_id":"detach:T","state":"archived","result":{...},"error":"..."}
//
// result is the job's result (tasks.DetachResult) exactly as the worker wrote
// it, left out when there is none. error is left out when the job completed; an
// archived job carries its last error. When --wait-timeout passes first, each
// job still running is printed with its state then ("pending", "active",
// "retry", "scheduled") and the error "wait timed out"; on SIGINT or SIGTERM,
// the same with "wait interrupted". A job whose state cannot be read has state
// "unknown" and the reason in error.
//
// With --all-groups, the first line is the drain's own ("task_id":"drain:T",
// "enqueued" or "duplicate"); with --wait, then the drain's end line, its
// result a tasks.DrainResult ("Outcome":"fanned_out" with "Groups", or
// "not_attached"), then one end line per detach job it made, as above. Exit
// status 0 needs the drain and every one of its jobs completed.
//
// # Exit status
//
//   - 0: every job was queued or was already queued (a duplicate), and with
//     --wait, every job completed.
//   - 1: with --wait, a job was archived, the wait timed out or was interrupted;
//     or Redis was unreachable or failed (the jobs printed before the error are
//     queued, the others are not).
//   - 2: bad input: an unknown or misused flag, an argument, an invalid request
//     or --file line, an --at or --in out of bounds, a file that cannot be
//     read, a Redis URL that cannot be
//     parsed. Nothing was queued; standard error names the flag or the line and
//     field, e.g. "enqueue: --lb: required" or
//     "enqueue: line 3: invalid payload: ScalingGroupId: required"; or a
//     ClientToken taken by another request or queue ("enqueue: idempotency
//     conflict: ClientToken ..."). Every line of --file is checked, against
//     the others and against the queues, before anything is queued.
//
// Error messages never contain the Redis password.
package main
