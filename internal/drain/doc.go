// Package drain is the worker's handler of drains (tasks.TypeDrainLoadBalancer):
// it lists every scaling group of the drain's region (essclient's
// ListScalingGroups, every page, under the fleet rate limit), keeps those whose
// load balancers include the drain's, and queues one detach job per group in
// the drain's own queue through the producer (tasks.Producer), with the token
// tasks.DrainGroupToken(drainToken, groupID). The detach jobs then run in
// internal/detach like any other.
//
// It is a package of its own, not part of internal/detach, because it shares
// none of a detach's state: no group lease, no activity record, no Redis key
// of its own. What it shares is the classification of ESS answers
// (essclient.ClassOf) and the retry schedule of the asynq server, which
// detach.Handler.ServerConfig sets for both handlers.
//
// A drain is safe to run any number of times: its detach jobs' tokens derive
// from its own, so a retry, a crash half-way through the fan-out or the same
// drain queued again finds the jobs already queued as duplicates and queues
// only the missing ones, and every group is detached once.
package drain
