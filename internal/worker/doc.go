// Package worker runs the essworker worker: an asynq server processing detach
// jobs with the tasks handler, an ESS client, the fleet-wide rate limit, and an
// HTTP server for /metrics, /healthz and /readyz. cmd/worker turns flags and
// environment variables into a Config and calls Run; tests and the demo call Run
// in-process.
package worker
