// Command worker takes detach jobs from Redis and runs them against ESS.
//
// Every flag has an environment variable of the same meaning, named in brackets
// below; a flag given on the command line wins. worker -h prints every flag
// with its default. worker --demo runs the whole product in one process with
// nothing installed but Go: an embedded Redis, the ESS emulator, sample jobs,
// and the producer API without authentication on a free loopback port.
//
// Usage:
//
//	worker [--redis-url URL] [--redis-tls-ca-file FILE] [--concurrency N]
//	       [--queues Q] [--ess-endpoint URL] [--region R] [--ess-qps N]
//	       [--ess-timeout D] [--poll-interval D] [--poll-timeout D]
//	       [--max-retry N] [--metrics-addr ADDR] [--shutdown-timeout D]
//	       [--log-level L] [--log-format F] [--strict-not-attached] [--no-coalesce]
//	       [--notify-url URL --notify-secret-file FILE] [--demo]
//
// Flags:
//
//   - --redis-url URL [REDIS_URL]: the Redis of the queue, the leases and the
//     activity records: redis://, rediss:// (TLS) or
//     redis-sentinel://[:password@]host1:26379,host2:26379?master=NAME.
//   - --redis-tls-ca-file FILE [REDIS_TLS_CA_FILE]: PEM file of the CAs trusted
//     for a rediss:// Redis. Default: the system's roots.
//   - --concurrency N [WORKER_CONCURRENCY]: jobs run at once; a job waiting on a
//     scaling activity holds no slot.
//   - --queues Q [WORKER_QUEUES]: queues and their priorities, e.g.
//     critical=6,default=3.
//   - --ess-endpoint URL [ESS_ENDPOINT]: ESS endpoint URL, e.g.
//     http://127.0.0.1:8080 for the emulator. Default: the SDK's regional
//     endpoint, over HTTPS.
//   - --region R [ALIBABA_CLOUD_REGION_ID]: the region of jobs that name none.
//   - --ess-qps N [ESS_QPS]: ESS calls per second for the whole fleet, shared
//     through Redis.
//   - --ess-timeout D [ESS_TIMEOUT]: timeout of one ESS call.
//   - --poll-interval D [POLL_INTERVAL]: the longest wait between two looks at
//     a scaling activity.
//   - --poll-timeout D [POLL_TIMEOUT]: the longest wait for one activity (then
//     the job is archived activity_timeout), and for a busy group, counted from
//     its first busy answer (then archived failed).
//   - --max-retry N [MAX_RETRY]: failed attempts before a job is archived;
//     waiting on an activity or a busy group is not failing.
//   - --metrics-addr ADDR [METRICS_ADDR]: the address of /metrics, /healthz and
//     /readyz.
//   - --shutdown-timeout D [SHUTDOWN_TIMEOUT]: on SIGTERM, how long the jobs in
//     flight may take to finish before they are handed back.
//   - --log-level L [LOG_LEVEL]: debug, info, warn or error.
//   - --log-format F [LOG_FORMAT]: json or text.
//   - --strict-not-attached [STRICT_NOT_ATTACHED]: archive a job whose load
//     balancers are not all attached (after detaching those that are) instead
//     of completing it.
//   - --no-coalesce [NO_COALESCE]: send one DetachLoadBalancers call per job.
//     By default, jobs that wait for the same scaling group (same region,
//     ForceDetach and Async) share calls of up to 5 load balancers.
//   - --notify-url URL [NOTIFY_URL]: when a job reaches its final answer, POST
//     a notice signed with HMAC-SHA256 to URL (X-Essworker-Signature:
//     sha256=<hex>), retried for up to 24 hours while the receiver does not
//     answer 2xx. Its user info never appears in logs. Default: no notices.
//   - --notify-secret-file FILE [NOTIFY_SECRET_FILE]: the file of the notices'
//     secret, surrounding whitespace trimmed. Required with --notify-url; an
//     empty secret refuses to start.
//   - --demo [ESSWORKER_DEMO]: the whole product in one process.
//
// Exit status: 0 after a clean shutdown (SIGTERM or SIGINT) and for -h; 1 when
// the worker cannot start or fails, e.g. Redis is unreachable (the message
// names the address, never the password); 2 on a bad flag or environment
// value, the message naming the flag.
package main
