// Command worker takes detach jobs from Redis and runs them against ESS.
//
// Every flag has an environment variable of the same meaning; a flag given on the
// command line wins. `worker --demo` runs the whole product in one process with
// nothing installed but Go: an embedded Redis, the ESS emulator, sample jobs.
//
// Usage:
//
//	worker [--redis-url URL] [--concurrency N] [--queues Q] [--ess-endpoint URL]
//	       [--region R] [--ess-qps N] [--poll-interval D] [--poll-timeout D]
//	       [--max-retry N] [--metrics-addr ADDR] [--shutdown-timeout D]
//	       [--log-level L] [--log-format F] [--strict-not-attached] [--demo]
package main
