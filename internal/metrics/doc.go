// Package metrics defines the worker's Prometheus metrics and feeds them from the
// hooks of essclient (every ESS call) and tasks (job outcomes, activities, group
// leases), plus collectors that read the queue and the in-flight activities from
// Redis at scrape time, so every worker of a fleet reports the same fleet-wide
// backlog.
package metrics
