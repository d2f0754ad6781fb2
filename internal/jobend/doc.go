// Package jobend holds what every essworker handler does at a job's end, so
// the detach and drain handlers end their jobs alike: whether an attempt is
// the job's last, the ESS failure to put in its result, the result written
// with asynq's ResultWriter (or into asynq's task hash, TaskKey, by a
// handler's own script), and the error that makes asynq archive the job at
// once.
package jobend
