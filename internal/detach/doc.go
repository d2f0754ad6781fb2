// Package detach runs detach jobs: the asynq handler that takes a
// tasks.TypeDetachLoadBalancers task from its payload to its final answer.
//
// Per job it takes the scaling group's lease (one job at a time per group,
// fleet-wide, in Redis), calls DetachLoadBalancers through essclient with the
// job's ClientToken, and classifies the answer: a retryable failure backs
// off, a busy group is waited for without a worker slot (bounded by
// Config.PollTimeout), a mixed batch (some load balancers not attached) is
// resolved by reading the group and detaching exactly those still attached,
// and an asynchronous call's scaling activity is followed by snoozing between
// looks (several jobs' looks share one DescribeScalingActivities call). Jobs
// that find their group leased wait in the group's waiting set, and the job
// that ends the group's call hands it to them as one shared call of up to 5
// load balancers, which it sends at once (Config.DisableCoalescing turns
// this off). What
// a job must remember across attempts and crashes (its activity, its pending
// call, the start of a busy wait) lives in Redis under its ClientToken. The
// final tasks.DetachResult is written with asynq's ResultWriter.
//
// Producers do not import this package: the job contract is package tasks.
package detach
